#!/usr/bin/env bash
# The production topology on one machine, from Debian packages, on loopback ports:
# etcd + 3 Patroni/PostgreSQL, memcached, embedded S3, N app servers, nginx.
# Usage: topology.sh <command> [--state DIR] [--apps N] [--only LIST] [--base-port P] [--release DIR]
#   up | down | status | env              whole topology (up is idempotent; down removes the state)
#   pg-primary | pg-kill-primary | pg-kill N | pg-start N
#   app-start N | app-stop N | app-kill N | memcached-stop | memcached-start
#   nginx-upstream [--down ADDR]           rewrite upstream.conf and reload nginx
#   release                                snapshot the current build (dist/) as a release
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
source "$HERE/lib.sh"
# shellcheck source=pg-cluster.sh
source "$HERE/pg-cluster.sh"
# shellcheck source=services.sh
source "$HERE/services.sh"

ALL_COMPONENTS="pg,memcached,s3,apps,nginx"
CMD="${1:-}"; [[ $# -gt 0 ]] && shift
STATE="${WHARF_TOPOLOGY_DIR:-$WHARF_REPO/.tmp/topology}"
APPS_ARG="${WHARF_TOPOLOGY_APPS:-}"
BASE_ARG="${WHARF_TOPOLOGY_BASE_PORT:-}"
ONLY="$ALL_COMPONENTS"
RELEASE_ARG=""
DOWN_ADDR=""
READY_TIMEOUT="${WHARF_READY_TIMEOUT:-30}"
DRAIN_TIMEOUT="${WHARF_DRAIN_TIMEOUT:-25}"
ARGS=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --state) STATE="$2"; shift 2 ;;
    --apps) APPS_ARG="$2"; shift 2 ;;
    --only) ONLY="$2"; shift 2 ;;
    --base-port) BASE_ARG="$2"; shift 2 ;;
    --release) RELEASE_ARG="$2"; shift 2 ;;
    --down) DOWN_ADDR="$2"; shift 2 ;;
    --ready-timeout) READY_TIMEOUT="$2"; shift 2 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) ARGS+=("$1"); shift ;;
  esac
done
mkdir -p "$(dirname "$STATE")"
STATE="$(cd "$(dirname "$STATE")" && pwd)/$(basename "$STATE")"

has() { [[ ",$ONLY," == *",$1,"* ]]; }

# ---------- state: ports and secrets survive repeated `up`s until `down` ----------

load_state() {
  [[ -f "$STATE/topology.env" ]] || return 1
  # shellcheck disable=SC1091
  source "$STATE/topology.env"; source "$STATE/secrets.env"
  IFS=, read -r -a PG_PORTS <<<"$PG_PORTS_CSV"
  IFS=, read -r -a PATRONI_PORTS <<<"$PATRONI_PORTS_CSV"
  IFS=, read -r -a APP_PORTS <<<"$APP_PORTS_CSV"
}

require_state() { load_state || die "no topology in $STATE (run: topology.sh up --state $STATE)"; }

# One block of 100 ports: fixed offsets keep every port readable from BASE_PORT alone.
pick_base_port() {
  if [[ -n "$BASE_ARG" ]]; then echo "$BASE_ARG"; return; fi
  local try base blocks=$(( ($(ephemeral_low) - 10000) / 100 - 1 ))
  (( blocks > 0 )) || die "no room below the ephemeral port range; pass --base-port"
  for try in $(seq 1 50); do
    # Below the ephemeral range: an outgoing connection can never hold one of our ports.
    base=$(( (RANDOM % blocks + 100) * 100 ))
    if ports_free "$base" $((base + 99)); then echo "$base"; return; fi
  done
  die "no free block of 100 loopback ports found"
}

init_state() {
  mkdir -p "$STATE"/{pids,logs,apps,releases,public/assets,s3}
  chmod 0755 "$STATE" # the postgres user and nginx workers must traverse it (mktemp makes 0700)
  local apps="${APPS_ARG:-3}" base; base="$(pick_base_port)"
  (( apps >= 1 && apps <= 60 )) || die "--apps must be 1..60"
  log "state: $STATE (ports $base-$((base + 99)), $apps app servers)"
  local app_ports=() i
  for ((i = 0; i < apps; i++)); do app_ports+=($((base + 30 + i))); done
  cat >"$STATE/topology.env" <<ENV
STATE=$STATE
BASE_PORT=$base
APPS=$apps
NGINX_PORT=$base
NGINX_URL=http://127.0.0.1:$base
ETCD_PORT=$((base + 1))
ETCD_PEER_PORT=$((base + 2))
MEMCACHED_PORT=$((base + 3))
S3_PORT=$((base + 4))
PG_PORTS_CSV=$((base + 10)),$((base + 11)),$((base + 12))
PATRONI_PORTS_CSV=$((base + 20)),$((base + 21)),$((base + 22))
APP_PORTS_CSV=$(IFS=,; echo "${app_ports[*]}")
ENV
  umask 077
  cat >"$STATE/secrets.env" <<ENV
PG_SUPERUSER_PASSWORD=$(random_hex 16)
PG_REPL_PASSWORD=$(random_hex 16)
WHARF_DB_PASSWORD=$(random_hex 16)
SECRET_KEY=$(random_hex 32)
ENV
  umask 022
  load_state
}

database_url() {
  echo "postgres://wharf:$WHARF_DB_PASSWORD@127.0.0.1:${PG_PORTS[0]},127.0.0.1:${PG_PORTS[1]},127.0.0.1:${PG_PORTS[2]}/wharf?target_session_attrs=primary"
}

# The environment every app server shares (PORT and DATA_DIR are added per server).
write_app_env() {
  umask 077
  {
    echo "NODE_ENV=production"
    echo "HOST=127.0.0.1"
    echo "PUBLIC_URL=$NGINX_URL"
    echo "TRUST_PROXY=1"
    echo "SECRET_KEY=$SECRET_KEY"
    echo "DATABASE_URL=$(database_url)"
    echo "S3_ENDPOINT=http://127.0.0.1:$S3_PORT"
    echo "S3_BUCKET=wharf"
    echo "S3_ACCESS_KEY_ID=S3RVER"
    echo "S3_SECRET_ACCESS_KEY=S3RVER"
    echo "S3_FORCE_PATH_STYLE=true"
    echo "MEMCACHED_SERVERS=127.0.0.1:$MEMCACHED_PORT"
    echo "LOG_LEVEL=${WHARF_LOG_LEVEL:-info}"
    echo "RATE_LIMIT_UPDATES_PER_MINUTE=${WHARF_RATE_LIMIT_UPDATES_PER_MINUTE:-600}"
  } >"$STATE/app.env"
  umask 022
}

# The deploy inventory for this machine (see deploy/README.md for the format).
write_inventory() {
  local i
  {
    echo "# Generated by topology.sh: this machine's topology in $STATE"
    echo "nginx lb local state=$STATE"
    for ((i = 1; i <= APPS; i++)); do echo "app app-$i local state=$STATE index=$i addr=127.0.0.1:${APP_PORTS[$((i - 1))]}"; done
  } >"$STATE/inventory"
}

# ---------- commands ----------

cmd_up() {
  local t0; t0=$(now_ms)
  load_state || init_state
  write_app_env
  write_inventory
  if has apps || has s3; then current_release >/dev/null; fi
  if has pg; then pg_up; fi
  if has memcached; then memcached_start; fi
  if has s3; then s3_start; fi
  if has apps; then
    local i pids=() failed=0
    # App servers start together: migrations run once under the advisory lock.
    for ((i = 1; i <= APPS; i++)); do app_start "$i" & pids+=($!); done
    for i in "${pids[@]}"; do wait "$i" || failed=1; done
    (( failed == 0 )) || die "an app server failed to start (logs in $STATE/logs)"
  fi
  if has nginx; then nginx_start; fi
  log "up: done in $(( $(now_ms) - t0 )) ms (state: $STATE)"
  print_env
}

cmd_down() {
  if ! load_state; then log "down: nothing in $STATE"; rm -rf "$STATE"; return 0; fi
  local i
  nginx_stop
  for ((i = 1; i <= APPS; i++)); do app_stop "$i" & done
  wait
  s3_stop
  memcached_stop
  pg_down
  rm -rf "$STATE"
  log "down: stopped everything and removed $STATE"
}

print_env() {
  echo "STATE=$STATE"
  echo "NGINX_URL=$NGINX_URL"
  echo "NGINX_PORT=$NGINX_PORT"
  echo "APP_PORTS=$APP_PORTS_CSV"
  echo "PG_PORTS=$PG_PORTS_CSV"
  echo "PATRONI_PORTS=$PATRONI_PORTS_CSV"
  echo "ETCD_PORT=$ETCD_PORT"
  echo "MEMCACHED_PORT=$MEMCACHED_PORT"
  echo "S3_PORT=$S3_PORT"
  echo "DATABASE_URL=$(database_url)"
}

cmd_status() {
  require_state
  local i
  echo "state: $STATE"
  echo "etcd       127.0.0.1:$ETCD_PORT  $(pidfile_alive "$STATE/pids/etcd.pid" && echo up || echo down)"
  pg_status
  echo "memcached  127.0.0.1:$MEMCACHED_PORT  $(pidfile_alive "$STATE/pids/memcached.pid" && echo up || echo down)"
  echo "s3         127.0.0.1:$S3_PORT  $(pidfile_alive "$STATE/pids/s3.pid" && echo up || echo down)"
  for ((i = 1; i <= APPS; i++)); do
    echo "app-$i      127.0.0.1:$(app_port "$i")  $(app_alive_and_ready "$i" && echo ready || echo down)  $(basename "$(cat "$STATE/apps/app-$i/release" 2>/dev/null || echo -)")"
  done
  echo "nginx      $NGINX_URL  $(pid_alive "$(nginx_pid)" && echo up || echo down)"
}

arg1() { [[ -n "${ARGS[0]:-}" ]] || die "$CMD needs an argument"; echo "${ARGS[0]}"; }

case "$CMD" in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  env) require_state; print_env ;;
  pg-primary) require_state; i="$(pg_primary_index)" || die "no primary"; echo "pg$i ${PG_PORTS[$((i - 1))]}" ;;
  pg-kill-primary) require_state; pg_kill_primary ;;
  pg-kill) require_state; pg_kill_node "$(arg1)" ;;
  pg-start) require_state; pg_start_node "$(arg1)" ;;
  app-start) require_state; app_start "$(arg1)" ;;
  app-stop) require_state; app_stop "$(arg1)" ;;
  app-kill) require_state; app_kill "$(arg1)" ;;
  memcached-stop) require_state; memcached_stop ;;
  memcached-start) require_state; memcached_start ;;
  nginx-upstream) require_state; nginx_reload; log "nginx: upstream rewritten${DOWN_ADDR:+ ($DOWN_ADDR down)} and reloaded" ;;
  release) require_state; release_create ;;
  ""|-h|--help|help) sed -n '2,10p' "$0" ;;
  *) die "unknown command '$CMD' (try --help)" ;;
esac
