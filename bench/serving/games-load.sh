#!/usr/bin/env bash
# Issue 4's load figures on the Games data: the catalogue and every user's history loaded into `serve --model`,
# then (1) GET recommendations with wrk while events stream in at a steady rate, (2) freshness and parity probes
# under the same load, (3) a hot swap to a second checkpoint during a GET run. Prints every run and the median.
#   bench/serving/games-load.sh MODEL.rsm [SWAP_MODEL.rsm]
# Env: DATA (default ../shared/data/amazon-games/Video.txt), PORT, RUNS (3), DURATION (15s), CONNECTIONS (64),
#      EVENT_CONNECTIONS (4), EVENT_BATCH (100), EVENT_INTERVAL_MS (70), PROBES (300),
#      SERVE_ARGS (extra `serve` arguments, e.g. "--set Recsys:Silo:Model:IntentBudget=00:00:00.002").
set -euo pipefail
cd "$(dirname "$0")/../.."
MODEL=${1:?usage: games-load.sh MODEL.rsm [SWAP_MODEL.rsm]}
SWAP_MODEL=${2:-}
DATA=${DATA:-../shared/data/amazon-games/Video.txt}
PORT=${PORT:-8080}
RUNS=${RUNS:-3}
DURATION=${DURATION:-15s}
CONNECTIONS=${CONNECTIONS:-64}
EVENT_CONNECTIONS=${EVENT_CONNECTIONS:-4}
EVENT_BATCH=${EVENT_BATCH:-100}
EVENT_INTERVAL_MS=${EVENT_INTERVAL_MS:-70}
PROBES=${PROBES:-300}
URL="http://127.0.0.1:$PORT"
KEY=bench-key-$(date +%s)-0123456789
export RECSYS_API_KEY=$KEY # the servers and the wrk scripts read it from the environment
LOG=${TMPDIR:-/tmp}/recsys-games-load
mkdir -p "$LOG"
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk"; exit 1; }

echo "building (Release)"
dotnet build src/Recsys.Cli -c Release -nologo -v q >/dev/null
dotnet build bench/Recsys.ServingLoad -c Release -nologo -v q >/dev/null
load_tool() { dotnet bench/Recsys.ServingLoad/bin/Release/net10.0/recsys-serving-load.dll "$@"; }

dotnet src/Recsys.Cli/bin/Release/net10.0/recsys.dll serve --model "$MODEL" --urls "$URL" --api-key "$KEY" ${SERVE_ARGS:-} > "$LOG/serve.log" 2>&1 &
server=$!
trap 'kill $(jobs -p) 2>/dev/null; wait 2>/dev/null' EXIT
for _ in $(seq 1 600); do curl -sf "$URL/readyz" >/dev/null && break; sleep 0.1; done
curl -sf "$URL/readyz" >/dev/null || { echo "server did not become ready"; cat "$LOG/serve.log"; exit 1; }
rss() { awk '/VmRSS/ {print $2}' "/proc/$server/status"; }
rss_before=$(rss)
load_tool load --url "$URL" --api-key "$KEY" --data "$DATA"
rss_after=$(rss)
echo "server RSS: ${rss_before} kB with the model loaded, ${rss_after} kB after loading the data"

events_load() { # duration: events streamed at a steady rate in the background
  wrk -t1 -c"$EVENT_CONNECTIONS" -d"$1" -s bench/http/events.lua "$URL" -- "$KEY" "$EVENT_BATCH" 31013 "$EVENT_INTERVAL_MS" 23715 > "$LOG/events-$2.txt" 2>&1 &
  events_pid=$!
}
events_rate() { awk -v b="$EVENT_BATCH" '/Requests\/sec/ {printf "%.0f", $2 * b}' "$LOG/events-$1.txt"; }
events_errors() { grep -cE "unexpected status|Non-2xx" "$LOG/events-$1.txt" || true; }

echo "warming up"
wrk -t2 -c"$CONNECTIONS" -d5s -s bench/http/recommendations.lua "$URL" -- 31013 10 %d >/dev/null

rps=(); p50=(); p99=()
for run in $(seq 1 "$RUNS"); do
  events_load "$DURATION" "run$run"
  sleep 1 # let the event stream reach its rate before measuring
  out=$(wrk --latency -t2 -c"$CONNECTIONS" -d"$DURATION" -s bench/http/recommendations.lua "$URL" -- 31013 10 %d)
  wait "$events_pid" || true
  r=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  a=$(echo "$out" | awk '$1 == "50%" {print $2}')
  b=$(echo "$out" | awk '$1 == "99%" {print $2}')
  bad=$(echo "$out" | grep -cE "unexpected status|Non-2xx" || true)
  echo "GET run $run: $r req/s, p50 $a, p99 $b, failed lines $bad; events $(events_rate "run$run")/s (failed lines $(events_errors "run$run"))"
  rps+=("$r"); p50+=("$a"); p99+=("$b")
done
to_ms() { sed -E 's/([0-9.]+)us$/\1 0.001/; s/([0-9.]+)ms$/\1 1/; s/([0-9.]+)s$/\1 1000/' | awk '{printf "%.2f\n", $1 * ($2 == "" ? 1 : $2)}'; }
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
curl -s "$URL/metrics" > "$LOG/metrics.txt"
echo "/metrics after the GET runs (saved in $LOG/metrics.txt):"
grep -E '^(recsys_events_ingested_total|recsys_recommendations_served_total|recsys_encode_batch_size_(sum|count)|recsys_encode_duration_seconds_(sum|count)|recsys_intent_freshness_seconds_(sum|count)|recsys_actors_active|dotnet_gc_pause_time_seconds_total|dotnet_gc_collections_total|http_server_request_duration_seconds_count\{http_request_method="GET")' "$LOG/metrics.txt" | sed 's/^/  /'
echo "GET recommendations median: $(median "${rps[@]}") req/s, p50 $(median $(printf '%s\n' "${p50[@]}" | to_ms)) ms, p99 $(median $(printf '%s\n' "${p99[@]}" | to_ms)) ms"

echo "freshness and parity probes under load"
events_load 600s probe
wrk -t2 -c"$CONNECTIONS" -d600s -s bench/http/recommendations.lua "$URL" -- 31013 10 %d > "$LOG/probe-gets.txt" 2>&1 &
gets=$!
load_tool probe --url "$URL" --api-key "$KEY" --data "$DATA" --model "$MODEL" --probes "$PROBES" --out "$LOG/freshness.tsv"
kill -INT $gets "$events_pid" 2>/dev/null || true
wait $gets "$events_pid" 2>/dev/null || true
echo "events during the probes: $(events_rate probe)/s"

if [ -n "$SWAP_MODEL" ]; then
  echo "hot swap under load"
  out_file="$LOG/swap-gets.txt"
  wrk --latency -t2 -c"$CONNECTIONS" -d20s -s bench/http/recommendations.lua "$URL" -- 31013 10 %d > "$out_file" 2>&1 &
  swapgets=$!
  sleep 5
  curl -s -X POST "$URL/v1/admin/models" -H "X-Api-Key: $KEY" -H "Content-Type: application/json" \
    -d "{\"path\": \"$(realpath "$SWAP_MODEL")\", \"role\": \"primary\"}" -w "\nswap answered %{http_code} in %{time_total} s\n"
  wait $swapgets || true
  echo "GET during the swap: $(awk '/Requests\/sec/ {print $2}' "$out_file") req/s, p99 $(awk '$1 == "99%" {print $2}' "$out_file"), $(grep -cE 'unexpected status|Non-2xx' "$out_file" || true) failed lines"
  curl -s "$URL/v1/users/1/recommendations?k=3"; echo
fi
curl -s "$URL/v1/admin/models" -H "X-Api-Key: $KEY"; echo
echo "server RSS at the end: $(rss) kB"
