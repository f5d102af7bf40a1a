#!/usr/bin/env bash
# A/B over HTTP in one run: the working tree against a baseline git revision (default HEAD~1), and a bare
# ASP.NET Core endpoint for scale. Runs alternate (base, current, bare, base, ...) so that machine noise hits
# all alike; prints each run, the medians, and current/base ratios.
#   bench/http/compare.sh [BASE_REV]      RUNS=5 DURATION=10s LOAD=recommendations|events
# LOAD=events posts batches of 100 unique events for random demo shoppers (wrk -c16) instead of GET recommendations.
set -euo pipefail
cd "$(dirname "$0")/../.."
BASE_REV=${1:-HEAD~1}
RUNS=${RUNS:-5}
DURATION=${DURATION:-10s}
LOAD=${LOAD:-recommendations}
case "$LOAD" in
  recommendations) WRK=(-t2 -c64 -s bench/http/recommendations.lua); LABEL="GET recommendations, wrk -t2 -c64" ;;
  events) LABEL="POST /v1/events x 100, wrk -t2 -c16" ;;
  *) echo "LOAD must be recommendations or events"; exit 2 ;;
esac
KEY=bench-key-$(date +%s)-0123456789
export RECSYS_API_KEY=$KEY # the servers and the wrk scripts read it from the environment
ARGS=()
[ "$LOAD" = events ] && WRK=(-t2 -c16 -s bench/http/events.lua) && ARGS=(-- "$KEY" 100 1000)
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk"; exit 1; }

base_dir=$(mktemp -d /tmp/recsys-base-XXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; git worktree remove --force "$base_dir" 2>/dev/null || true; }
trap cleanup EXIT
git worktree add --detach "$base_dir" "$BASE_REV" >/dev/null
echo "Building base ($(git rev-parse --short "$BASE_REV")), current (working tree) and the bare endpoint..."
dotnet build "$base_dir/src/Recsys.Cli" -c Release -nologo -v q >/dev/null
dotnet build src/Recsys.Cli -c Release -nologo -v q >/dev/null
dotnet build bench/Recsys.BareEndpoint -c Release -nologo -v q >/dev/null

start() { # dir port
  dotnet run --project "$1/src/Recsys.Cli" -c Release --no-build -- serve --demo --urls "http://127.0.0.1:$2" --api-key "$KEY" > "/tmp/recsys-compare-$2.log" 2>&1 &
  pids+=($!)
}
start "$base_dir" 8081
start "$PWD" 8082
dotnet run --project bench/Recsys.BareEndpoint -c Release --no-build -- --urls http://127.0.0.1:8083 > /tmp/recsys-compare-8083.log 2>&1 &
pids+=($!)
for port in 8081 8082; do
  for _ in $(seq 1 300); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done
done
sleep 1

declare -A rps p99
for port in 8081 8082 8083; do
  wrk "${WRK[@]}" -d5s "http://127.0.0.1:$port" "${ARGS[@]}" >/dev/null # warm-up
done
for run in $(seq 1 "$RUNS"); do
  for target in base:8081 current:8082 bare:8083; do
    name=${target%%:*}; port=${target##*:}
    out=$(wrk --latency "${WRK[@]}" -d"$DURATION" "http://127.0.0.1:$port" "${ARGS[@]}")
    r=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
    l=$(echo "$out" | awk '$1 == "99%" {print $2}' | sed 's/ms$//;s/us$/e-3/')
    echo "run $run $name: $r req/s, p99 $l ms"
    rps[$name]+="$r "; p99[$name]+="$l "
  done
done
median() { printf '%s\n' $1 | sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
echo "--- $LABEL, median of $RUNS x $DURATION"
for name in base current bare; do
  echo "$name: $(median "${rps[$name]}") req/s, p99 $(median "${p99[$name]}") ms"
done
awk -v c="$(median "${rps[current]}")" -v b="$(median "${rps[base]}")" -v bare="$(median "${rps[bare]}")" \
  'BEGIN { printf "current/base throughput: %.2fx; current/bare: %.2f\n", c / b, c / bare }'
