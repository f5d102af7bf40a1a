#!/usr/bin/env bash
# Cluster mode end to end (HTTP → Orleans stream on RabbitMQ → user grain → PostgreSQL) with 1, 2 and 3 worker silos behind one gateway,
# all on this machine with PostgreSQL and RabbitMQ (scripts/services.sh starts them).
#   bench/cluster/throughput.sh [SILO_COUNTS...]          default: 1 2 3
# For each count, on a fresh database and stream:
#   throughput: wrk posts as fast as it can for DURATION; the rate is events / (time until the last one is committed);
#   reads:      wrk GETs recommendations of random users of the ones posted to, for GET_DURATION, with GET_CONNECTIONS;
#   freshness:  under a steady STEADY_RATE events/s, PROBES single events timed from POST returned to the first
#               GET /v1/users/{id} that shows them.
# Env: DURATION (30s), CONNECTIONS (8), BATCH (100), USERS (100000), STEADY_RATE (1000), PROBES (300),
#      GET_DURATION (15s), GET_CONNECTIONS (32), ITEMS (20000: items 1..ITEMS),
#      MODEL (a checkpoint every silo serves, so the GETs are neural; with the Games model, USERS=31013 ITEMS=23715
#      post in Games' numbering),
#      CLI_ROOT (the checkout whose silos run, default this one: a worktree of another revision gives a baseline in
#      the same session; the bench tools are this checkout's).
set -euo pipefail
cd "$(dirname "$0")/../.."
COUNTS=${*:-1 2 3}
DURATION=${DURATION:-30s}
CONNECTIONS=${CONNECTIONS:-8}
BATCH=${BATCH:-100}
USERS=${USERS:-100000}
STEADY_RATE=${STEADY_RATE:-1000}
PROBES=${PROBES:-300}
GET_DURATION=${GET_DURATION:-15s}
GET_CONNECTIONS=${GET_CONNECTIONS:-32}
CLI_ROOT=${CLI_ROOT:-.}
ITEMS=${ITEMS:-20000}
MODEL_ARGS=()
[ -n "${MODEL:-}" ] && MODEL_ARGS=(--model "$MODEL")
KEY=bench-key-$(date +%s)-0123456789
export RECSYS_API_KEY=$KEY # the wrk scripts read it
LOG=${TMPDIR:-/tmp}/recsys-cluster-bench
mkdir -p "$LOG"
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk"; exit 1; }
eval "$(scripts/services.sh up)"

echo "building (Release)"
dotnet build "$CLI_ROOT/src/Recsys.Cli" -c Release -nologo -v q >/dev/null
dotnet build bench/Recsys.ServingLoad -c Release -nologo -v q >/dev/null
CLI=$CLI_ROOT/src/Recsys.Cli/bin/Release/net10.0/recsys.dll
trap 'kill $(jobs -p) 2>/dev/null; wait 2>/dev/null' EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
start_silo() { # role name port database stream
  dotnet "$CLI" serve --role "$1" --silo-name "$2" --urls "http://127.0.0.1:$3" --api-key "$KEY" \
    --postgres "$(echo "$RECSYS_TEST_POSTGRES" | sed "s/Database=postgres/Database=$4/")" --rabbitmq "$RECSYS_TEST_RABBITMQ" \
    "${MODEL_ARGS[@]}" --set "Recsys:Cluster:StreamName=$5" --set "Recsys:Cluster:ClusterId=$5" --set "Recsys:Cluster:SiloPort=$(free_port)" \
    > "$LOG/$5-$2.log" 2>&1 &
}
wait_ready() { for _ in $(seq 1 600); do curl -sf "http://127.0.0.1:$1/readyz" >/dev/null && return 0; sleep 0.1; done; echo "silo on $1 not ready"; exit 1; }
applied() { # sum of events the workers applied
  local total=0
  for port in "$@"; do
    total=$((total + $(curl -sf -H "X-Api-Key: $KEY" "http://127.0.0.1:$port/v1/admin/cluster" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d.get("eventsCommitted", d.get("eventsApplied")))')))
  done
  echo $total
}

for n in $COUNTS; do
  run=bench$(date +%s)n$n
  psql "host=127.0.0.1 port=${RECSYS_POSTGRES_PORT:-55432} user=postgres dbname=postgres" -qc "CREATE DATABASE $run" >/dev/null
  gateway=$(free_port); start_silo gateway gateway "$gateway" "$run" "recsys.$run"
  workers=()
  for i in $(seq 1 "$n"); do port=$(free_port); workers+=("$port"); start_silo worker "w$i" "$port" "$run" "recsys.$run"; done
  wait_ready "$gateway"; for port in "${workers[@]}"; do wait_ready "$port"; done
  echo "== $n worker silo(s) + 1 gateway"

  start=$(date +%s.%N)
  out=$(wrk -t1 -c"$CONNECTIONS" -d"$DURATION" -s bench/http/events.lua "http://127.0.0.1:$gateway" -- "$KEY" "$BATCH" "$USERS" 0 "$ITEMS")
  posted_at=$(date +%s.%N)
  requests=$(echo "$out" | awk '/requests in/ {print $1}')
  errors=$(echo "$out" | grep -E "Non-2xx|unexpected status" || true)
  target=$((requests * BATCH))
  for _ in $(seq 1 1200); do [ "$(applied "${workers[@]}")" -ge "$target" ] && break; sleep 0.25; done
  done_at=$(date +%s.%N)
  final=$(applied "${workers[@]}")
  awk -v t="$target" -v a="$final" -v s="$start" -v p="$posted_at" -v d="$done_at" 'BEGIN {
    printf "throughput: %d events accepted at %.0f/s; %d committed, end to end %.0f events/s (last commit %.1f s after the last POST)\n",
      t, t / (p - s), a, a / (d - s), d - p }'
  [ -n "$errors" ] && echo "POST errors: $errors"

  reads=$(wrk -t2 -c"$GET_CONNECTIONS" -d"$GET_DURATION" --latency -s bench/http/recommendations.lua "http://127.0.0.1:$gateway" -- "$USERS" 10 "%d")
  echo "$reads" | awk '/Requests\/sec/ {rate=$2} /^ +99%/ {p99=$2} /Non-2xx/ {bad=$NF} /unexpected status/ {u++}
    END {printf "reads: GET recommendations %.0f req/s, p99 %s, non-2xx %d\n", rate, p99, bad + u}'

  interval=$((CONNECTIONS > 0 ? 2 * 50 * 1000 / STEADY_RATE : 100))
  wrk -t1 -c2 -d600s -s bench/http/events.lua "http://127.0.0.1:$gateway" -- "$KEY" 50 "$USERS" "$interval" "$ITEMS" >/dev/null 2>&1 &
  steady=$!
  sleep 2
  dotnet bench/Recsys.ServingLoad/bin/Release/net10.0/recsys-serving-load.dll state-freshness --url "http://127.0.0.1:$gateway" --api-key "$KEY" --probes "$PROBES"
  kill $steady 2>/dev/null || true
  wait $steady 2>/dev/null || true
  kill $(jobs -p) 2>/dev/null || true
  wait 2>/dev/null || true
  psql "host=127.0.0.1 port=${RECSYS_POSTGRES_PORT:-55432} user=postgres dbname=postgres" -qc "DROP DATABASE $run WITH (FORCE)" >/dev/null
done
