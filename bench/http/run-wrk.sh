#!/usr/bin/env bash
# Measures the embedded default over HTTP with wrk, as in bench/README.md:
#   GET recommendations (wrk -t2 -c64) and POST /v1/events in batches of 100 (wrk -t2 -c16).
# Starts `serve --demo` on 127.0.0.1:$PORT, runs each load RUNS times for DURATION, prints every run and the median.
set -euo pipefail
cd "$(dirname "$0")/../.."
PORT=${PORT:-8080}
RUNS=${RUNS:-3}
DURATION=${DURATION:-15s}
KEY=bench-key-$(date +%s)-0123456789
export RECSYS_API_KEY=$KEY # the servers and the wrk scripts read it from the environment
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk"; exit 1; }

dotnet build src/Recsys.Cli -c Release -nologo -v q >/dev/null
dotnet run --project src/Recsys.Cli -c Release --no-build -- serve --demo --urls "http://127.0.0.1:$PORT" --api-key "$KEY" "$@" > /tmp/recsys-bench-serve.log 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null' EXIT
for _ in $(seq 1 300); do
  curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break
  sleep 0.1
done
curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null || { echo "server did not become ready"; cat /tmp/recsys-bench-serve.log; exit 1; }

# Warm up the JIT and tiered compilation before measuring.
wrk -t2 -c64 -d5s -s bench/http/recommendations.lua "http://127.0.0.1:$PORT" >/dev/null
wrk -t2 -c16 -d3s -s bench/http/events.lua "http://127.0.0.1:$PORT" -- "$KEY" 100 >/dev/null

measure() { # name, wrk args...
  local name=$1; shift
  local rps=() p50=() p99=()
  for run in $(seq 1 "$RUNS"); do
    out=$(wrk --latency "$@")
    r=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
    a=$(echo "$out" | awk '$1 == "50%" {print $2}')
    b=$(echo "$out" | awk '$1 == "99%" {print $2}')
    errors=$(echo "$out" | grep -E "Non-2xx|Socket errors|unexpected status" | head -3 | tr "\n" " " || true)
    echo "$name run $run: $r req/s, p50 $a, p99 $b ${errors}"
    rps+=("$r"); p50+=("$a"); p99+=("$b")
  done
  median() { printf '%s\n' "$@" | sed 's/ms$//' | sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
  echo "$name median: $(median "${rps[@]}") req/s, p50 $(median "${p50[@]}") ms, p99 $(median "${p99[@]}") ms"
}

measure "GET recommendations" -t2 -c64 -d"$DURATION" -s bench/http/recommendations.lua "http://127.0.0.1:$PORT"
measure "POST events (x100)" -t2 -c16 -d"$DURATION" -s bench/http/events.lua "http://127.0.0.1:$PORT" -- "$KEY" 100
