#!/usr/bin/env bash
# games-load.sh's GET-under-events load as an A/B in one session: the working tree against one or more git revisions,
# every server loaded with the Games catalogue and histories first, then runs alternating between them (base, ...,
# current, base, ...) so that the machine's noise hits all alike; prints each run, then medians and ratios.
#   bench/serving/games-compare.sh MODEL.rsm BASE_REV [BASE_REV...]
# Env: DATA (default ../shared/data/amazon-games/Video.txt), RUNS (4), DURATION (15s), CONNECTIONS (32),
#      EVENT_CONNECTIONS (4), EVENT_BATCH (100), EVENT_INTERVAL_MS (70): about 5,000 events/s.
set -euo pipefail
cd "$(dirname "$0")/../.."
MODEL=$(realpath "${1:?usage: games-compare.sh MODEL.rsm BASE_REV [BASE_REV...]}")
shift
[ $# -ge 1 ] || { echo "usage: games-compare.sh MODEL.rsm BASE_REV [BASE_REV...]"; exit 2; }
DATA=$(realpath "${DATA:-../shared/data/amazon-games/Video.txt}")
RUNS=${RUNS:-4}
DURATION=${DURATION:-15s}
CONNECTIONS=${CONNECTIONS:-32}
EVENT_CONNECTIONS=${EVENT_CONNECTIONS:-4}
EVENT_BATCH=${EVENT_BATCH:-100}
EVENT_INTERVAL_MS=${EVENT_INTERVAL_MS:-70}
KEY=bench-key-$(date +%s)-0123456789
export RECSYS_API_KEY=$KEY
LOG=${TMPDIR:-/tmp}/recsys-games-compare
mkdir -p "$LOG"
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk"; exit 1; }

names=(); dirs=(); ports=(); pids=(); trees=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; for t in "${trees[@]}"; do git worktree remove --force "$t" 2>/dev/null || true; done; }
trap cleanup EXIT
port=8180
for rev in "$@"; do
  dir=$(mktemp -d /tmp/recsys-games-base-XXXX); trees+=("$dir")
  git worktree add --detach "$dir" "$rev" >/dev/null
  names+=("base $(git rev-parse --short "$rev")"); dirs+=("$dir"); ports+=($((port++)))
done
names+=("current"); dirs+=("$PWD"); ports+=($((port++)))
echo "building ${names[*]} (Release)"
for dir in "${dirs[@]}"; do dotnet build "$dir/src/Recsys.Cli" -c Release -nologo -v q >/dev/null; done
dotnet build bench/Recsys.ServingLoad -c Release -nologo -v q >/dev/null
for i in "${!dirs[@]}"; do
  dotnet "${dirs[$i]}/src/Recsys.Cli/bin/Release/net10.0/recsys.dll" serve --model "$MODEL" \
    --urls "http://127.0.0.1:${ports[$i]}" --api-key "$KEY" > "$LOG/serve-${ports[$i]}.log" 2>&1 &
  pids+=($!)
done
for i in "${!dirs[@]}"; do
  url="http://127.0.0.1:${ports[$i]}"
  for _ in $(seq 1 600); do curl -sf "$url/readyz" >/dev/null && break; sleep 0.1; done
  echo "loading the Games histories into ${names[$i]}"
  dotnet bench/Recsys.ServingLoad/bin/Release/net10.0/recsys-serving-load.dll load --url "$url" --api-key "$KEY" --data "$DATA" | tail -1
  wrk -t2 -c"$CONNECTIONS" -d5s -s bench/http/recommendations.lua "$url" -- 31013 10 %d >/dev/null # warm-up
done

to_ms() { sed -E 's/([0-9.]+)us$/\1 0.001/; s/([0-9.]+)ms$/\1 1/; s/([0-9.]+)s$/\1 1000/' | awk '{printf "%.2f\n", $1 * ($2 == "" ? 1 : $2)}'; }
declare -A rps p99
for run in $(seq 1 "$RUNS"); do
  for i in "${!dirs[@]}"; do
    url="http://127.0.0.1:${ports[$i]}"
    wrk -t1 -c"$EVENT_CONNECTIONS" -d"$DURATION" -s bench/http/events.lua "$url" -- "$KEY" "$EVENT_BATCH" 31013 "$EVENT_INTERVAL_MS" 23715 \
      > "$LOG/events.txt" 2>&1 &
    events=$!
    sleep 1
    out=$(wrk --latency -t2 -c"$CONNECTIONS" -d"$DURATION" -s bench/http/recommendations.lua "$url" -- 31013 10 %d)
    wait "$events" || true
    r=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
    p=$(echo "$out" | awk '$1 == "99%" {print $2}' | to_ms)
    bad=$(echo "$out" | grep -cE "unexpected status|Non-2xx" || true)
    ev=$(awk -v b="$EVENT_BATCH" '/Requests\/sec/ {printf "%.0f", $2 * b}' "$LOG/events.txt")
    echo "run $run ${names[$i]}: $r req/s, p99 $p ms, failed lines $bad; events $ev/s"
    rps[$i]+="$r "; p99[$i]+="$p "
  done
done
median() { printf '%s\n' $1 | sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
last=$((${#dirs[@]} - 1))
echo "--- GET recommendations with ~5,000 events/s streaming in, Games, median of $RUNS x $DURATION"
for i in "${!dirs[@]}"; do
  pause=$(curl -s "http://127.0.0.1:${ports[$i]}/metrics" | awk '/^dotnet_gc_pause_time_seconds_total/ {print $2}')
  echo "${names[$i]}: $(median "${rps[$i]}") req/s, p99 $(median "${p99[$i]}") ms; GC pause over everything ${pause:-?} s"
done
for i in $(seq 0 $((last - 1))); do
  awk -v c="$(median "${rps[$last]}")" -v b="$(median "${rps[$i]}")" -v n="${names[$i]}" 'BEGIN {printf "current/%s throughput: %.2fx\n", n, c / b}'
done
