#!/usr/bin/env bash
# The fuzz suite at benchmark scale: starts `serve --demo` (with MODEL=checkpoint if given) on a free port with a main,
# a read and a write key and a model folder holding a FIFO and a link to /etc/passwd, then sends REQUESTS (10000)
# seeded hostile requests (SEED=1) and prints requests by endpoint and status, 5xx answers and replay differences.
set -euo pipefail
cd "$(dirname "$0")/../.."
REQUESTS=${REQUESTS:-10000}
SEED=${SEED:-1}
PORT=${PORT:-$((20000 + RANDOM % 20000))}
work=$(mktemp -d)
server=""
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$work"' EXIT
mkfifo "$work/pipe.rsm"
ln -s /etc/passwd "$work/passwd.rsm"
export RECSYS_API_KEY=fuzz-main-key-$(date +%s)-0123456789
export RECSYS_READ_KEY=fuzz-read-key-$(date +%s)-0123456789
export RECSYS_WRITE_KEY=fuzz-write-key-$(date +%s)-0123456789
export Recsys__Gateway__Keys__0__Key=$RECSYS_READ_KEY Recsys__Gateway__Keys__0__Scopes=Read
export Recsys__Gateway__Keys__1__Key=$RECSYS_WRITE_KEY Recsys__Gateway__Keys__1__Scopes=Write
export Recsys__Silo__Model__Directory=$work

dotnet build src/Recsys.Cli -c Release -nologo -v q >/dev/null
dotnet build bench/Recsys.Fuzz -c Release -nologo -v q >/dev/null
model_args=()
[ -n "${MODEL:-}" ] && model_args=(--model "$MODEL")
dotnet src/Recsys.Cli/bin/Release/net10.0/recsys.dll serve --demo --urls "http://127.0.0.1:$PORT" "${model_args[@]}" > "$work/serve.log" 2>&1 &
server=$!
for _ in $(seq 1 600); do
  curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break
  kill -0 "$server" 2>/dev/null || { cat "$work/serve.log"; exit 1; }
  sleep 0.5
done
dotnet bench/Recsys.Fuzz/bin/Release/net10.0/recsys-fuzz.dll --url "http://127.0.0.1:$PORT" --requests "$REQUESTS" --seed "$SEED" \
  --model-files pipe.rsm,passwd.rsm
