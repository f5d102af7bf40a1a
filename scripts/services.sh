#!/usr/bin/env bash
# PostgreSQL, RabbitMQ and Azurite (Microsoft's Azure Storage emulator) on 127.0.0.1 for cluster mode: a private
# instance of each, with its data under $RECSYS_SERVICES_DIR (default /tmp/recsys-services), installed when missing
# (PostgreSQL and RabbitMQ from Debian's packages, Azurite from npm).
#   scripts/services.sh up                  install what is missing, start all three, print the settings to export
#   scripts/services.sh down                stop them
#   scripts/services.sh stop-postgres|start-postgres   (the database outage test)
# Ports: RECSYS_POSTGRES_PORT (55432), RECSYS_RABBITMQ_PORT (55672), RECSYS_AZURITE_PORT (55100; blob, queue and table
# on it and the next two). Needs root for apt-get and to run PostgreSQL as the postgres user; prints `export` lines
# that the test script and README commands eval.
set -euo pipefail
DIR=${RECSYS_SERVICES_DIR:-/tmp/recsys-services}
PG_PORT=${RECSYS_POSTGRES_PORT:-55432}
MQ_PORT=${RECSYS_RABBITMQ_PORT:-55672}
AZ_PORT=${RECSYS_AZURITE_PORT:-55100}
AZURITE_VERSION=3.37.0
AZ_BASE=$DIR/azurite
PG_DATA=$DIR/postgres
PG_LOGS=$DIR/postgres-logs
MQ_BASE=$DIR/rabbitmq
log() { echo "$*" >&2; }

pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }

install_missing() {
  local wanted=()
  [ -n "$(pg_bin)" ] || wanted+=(postgresql)
  [ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] || wanted+=(rabbitmq-server)
  command -v npm >/dev/null || wanted+=(nodejs npm) # for Azurite
  [ ${#wanted[@]} -eq 0 ] && return 0
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    log "missing ${wanted[*]}: install them (apt-get install ${wanted[*]}) or run this script as root"
    return 1
  fi
  log "installing ${wanted[*]} (apt-get)..."
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${wanted[@]}") >"$DIR/apt.log" 2>&1 \
    || { log "apt-get failed; see $DIR/apt.log"; tail -20 "$DIR/apt.log" >&2; return 1; }
}

as_postgres() { if [ "$(id -u)" = 0 ]; then su postgres -s /bin/sh -c "$*"; else sh -c "$*"; fi; }

start_postgres() {
  local bin; bin=$(pg_bin)
  if [ ! -f "$PG_DATA/PG_VERSION" ]; then
    mkdir -p "$PG_DATA" "$PG_LOGS"
    [ "$(id -u)" = 0 ] && chown -R postgres:postgres "$PG_DATA" "$PG_LOGS"
    log "creating a PostgreSQL cluster in $PG_DATA"
    as_postgres "'$bin/initdb' -D '$PG_DATA' -U postgres --auth=trust -E UTF8 >'$PG_LOGS/initdb.log' 2>&1"
  fi
  # Ask the server itself: a lock file left by a killed server (or a zombie holding its pid) must not pass for one.
  if "$bin/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" -t 2; then
    return 0
  fi
  as_postgres "'$bin/pg_ctl' -D '$PG_DATA' -m immediate stop >/dev/null 2>&1" || true
  rm -f "$PG_DATA/postmaster.pid"
  log "starting PostgreSQL on 127.0.0.1:$PG_PORT"
  # fsync stays on: the outage and failover tests are about durability.
  as_postgres "'$bin/pg_ctl' -D '$PG_DATA' -w -t 60 -l '$PG_LOGS/postgres.log' -o \"-p $PG_PORT -k '$PG_DATA' -c listen_addresses=127.0.0.1 -c max_connections=300\" start >/dev/null"
}

stop_postgres() {
  local bin; bin=$(pg_bin)
  [ -f "$PG_DATA/PG_VERSION" ] || return 0
  as_postgres "'$bin/pg_ctl' -D '$PG_DATA' -m fast -w stop >/dev/null 2>&1" || true
}

rabbit_env() {
  export RABBITMQ_NODENAME=recsys@localhost RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 RABBITMQ_NODE_PORT=$MQ_PORT
  export RABBITMQ_DIST_PORT=$((MQ_PORT + 1000)) RABBITMQ_MNESIA_BASE=$MQ_BASE/mnesia RABBITMQ_LOG_BASE=$MQ_BASE/log
  export RABBITMQ_PID_FILE=$MQ_BASE/rabbitmq.pid RABBITMQ_ENABLED_PLUGINS_FILE=$MQ_BASE/enabled_plugins
  export RABBITMQ_CONFIG_FILE=$MQ_BASE/rabbitmq ERL_EPMD_ADDRESS=127.0.0.1 HOME=$MQ_BASE
  export ERL_CRASH_DUMP=$MQ_BASE/log/erl_crash.dump # never in the caller's working directory
}

start_rabbitmq() {
  mkdir -p "$MQ_BASE/mnesia" "$MQ_BASE/log"
  rabbit_env
  if /usr/lib/rabbitmq/bin/rabbitmqctl -q status >/dev/null 2>&1; then
    return 0
  fi
  # Quorum queues want a little disk headroom; the default 50 MB free limit is kept.
  [ -f "$MQ_BASE/rabbitmq.conf" ] || echo "loopback_users = none" >"$MQ_BASE/rabbitmq.conf"
  /usr/lib/rabbitmq/bin/rabbitmq-plugins enable --offline rabbitmq_consistent_hash_exchange >/dev/null
  log "starting RabbitMQ on 127.0.0.1:$MQ_PORT"
  nohup /usr/lib/rabbitmq/bin/rabbitmq-server >"$MQ_BASE/server.out" 2>&1 &
  local server=$! deadline=$((SECONDS + 120))
  # Poll until the node answers, giving up at once if the server exited (a bad setting fails fast).
  until /usr/lib/rabbitmq/bin/rabbitmqctl -q await_startup >/dev/null 2>&1; do
    if ! kill -0 "$server" 2>/dev/null || [ $SECONDS -ge $deadline ]; then
      log "RabbitMQ did not start; see $MQ_BASE/server.out"; tail -5 "$MQ_BASE/server.out" >&2; return 1
    fi
    sleep 0.5
  done
}

start_azurite() {
  local bin=$AZ_BASE/node_modules/.bin/azurite
  if [ ! -x "$bin" ]; then
    command -v npm >/dev/null || { log "Azurite needs Node.js and npm (apt-get install nodejs npm)"; return 1; }
    log "installing azurite@$AZURITE_VERSION (npm)..."
    mkdir -p "$AZ_BASE"
    npm install --prefix "$AZ_BASE" --no-audit --no-fund --loglevel=error "azurite@$AZURITE_VERSION" >"$AZ_BASE/npm.log" 2>&1 \
      || { log "npm install azurite failed; see $AZ_BASE/npm.log"; tail -20 "$AZ_BASE/npm.log" >&2; return 1; }
  fi
  if (exec 3<>"/dev/tcp/127.0.0.1/$((AZ_PORT + 2))") 2>/dev/null; then
    return 0
  fi
  log "starting Azurite on 127.0.0.1:$AZ_PORT-$((AZ_PORT + 2))"
  mkdir -p "$AZ_BASE/data"
  nohup "$bin" --blobHost 127.0.0.1 --blobPort "$AZ_PORT" --queueHost 127.0.0.1 --queuePort $((AZ_PORT + 1)) \
    --tableHost 127.0.0.1 --tablePort $((AZ_PORT + 2)) --location "$AZ_BASE/data" --disableTelemetry --silent \
    >"$AZ_BASE/server.out" 2>&1 &
  local server=$! deadline=$((SECONDS + 60)) port
  for port in "$AZ_PORT" $((AZ_PORT + 1)) $((AZ_PORT + 2)); do
    until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
      if ! kill -0 "$server" 2>/dev/null || [ $SECONDS -ge $deadline ]; then
        log "Azurite did not start; see $AZ_BASE/server.out"; tail -5 "$AZ_BASE/server.out" >&2; return 1
      fi
      sleep 0.2
    done
  done
  echo "$server" >"$AZ_BASE/azurite.pid"
}

stop_azurite() {
  [ -f "$AZ_BASE/azurite.pid" ] || return 0
  kill "$(cat "$AZ_BASE/azurite.pid")" 2>/dev/null || true
  rm -f "$AZ_BASE/azurite.pid"
}

stop_rabbitmq() {
  rabbit_env
  /usr/lib/rabbitmq/bin/rabbitmqctl -q stop >/dev/null 2>&1 || true
}

print_settings() {
  echo "export RECSYS_TEST_POSTGRES='Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Database=postgres'"
  echo "export RECSYS_TEST_RABBITMQ='amqp://guest:guest@127.0.0.1:$MQ_PORT/'"
  # Azurite's well-known development account; custom ports, so every endpoint is named.
  local key=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==
  echo "export RECSYS_TEST_AZURE_STORAGE='DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=$key;\
BlobEndpoint=http://127.0.0.1:$AZ_PORT/devstoreaccount1;QueueEndpoint=http://127.0.0.1:$((AZ_PORT + 1))/devstoreaccount1;\
TableEndpoint=http://127.0.0.1:$((AZ_PORT + 2))/devstoreaccount1;'"
  echo "export RECSYS_TEST_SERVICES_SCRIPT='$(cd "$(dirname "$0")" && pwd)/services.sh'"
}

mkdir -p "$DIR"
case "${1:-up}" in
  up) install_missing; start_postgres; start_rabbitmq; start_azurite; print_settings ;;
  down) stop_azurite; stop_rabbitmq; stop_postgres ;;
  stop-postgres) stop_postgres ;;
  start-postgres) start_postgres ;;
  env) print_settings ;;
  *) log "usage: services.sh up|down|stop-postgres|start-postgres|env"; exit 2 ;;
esac
