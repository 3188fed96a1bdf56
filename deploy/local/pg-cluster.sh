# etcd + 3 Patroni/PostgreSQL nodes on loopback (sourced by topology.sh; needs lib.sh and the
# state variables STATE, ETCD_PORT, ETCD_PEER_PORT, PG_PORTS[], PATRONI_PORTS[], *_PASSWORD).
# shellcheck shell=bash

PG_BIN="${PG_BIN:-/usr/lib/postgresql/15/bin}"
PG_NODES=3

# PostgreSQL refuses root: as root, run it as the postgres user; otherwise as ourselves.
PG_OS_USER="$( [[ $(id -u) == 0 ]] && echo postgres || id -un )"

pg_node_dir() { echo "$STATE/pg/pg$1"; }

etcd_start() {
  need_bin etcd etcd-server
  if pidfile_alive "$STATE/pids/etcd.pid"; then log "etcd: already running on :$ETCD_PORT"; return 0; fi
  mkdir -p "$STATE/etcd"
  log "etcd: starting on 127.0.0.1:$ETCD_PORT (v3 API)"
  setsid etcd --name wharf --data-dir "$STATE/etcd" \
    --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster "wharf=http://127.0.0.1:$ETCD_PEER_PORT" --initial-cluster-state new \
    --heartbeat-interval 100 --election-timeout 1000 --log-level warn \
    >>"$STATE/logs/etcd.log" 2>&1 </dev/null &
  echo $! >"$STATE/pids/etcd.pid"
  wait_for 15 "etcd /health on :$ETCD_PORT (see $STATE/logs/etcd.log)" http_ok "http://127.0.0.1:$ETCD_PORT/health"
}

etcd_stop() {
  [[ -f "$STATE/pids/etcd.pid" ]] || return 0
  log "etcd: stopping"
  stop_pid "$(cat "$STATE/pids/etcd.pid")" etcd 10
  rm -f "$STATE/pids/etcd.pid"
}

# One Patroni config per node; the DCS timings make a failover take ~6–8 s (ttl 6, loop_wait 1, retry_timeout 2; Patroni needs loop_wait + 2 × retry_timeout ≤ ttl).
pg_write_config() {
  local i="$1" dir; dir="$(pg_node_dir "$i")"
  local port="${PG_PORTS[$((i - 1))]}" rest="${PATRONI_PORTS[$((i - 1))]}"
  (( ${#dir} < 90 )) || die "state dir too long for a PostgreSQL unix socket path: $dir"
  mkdir -p "$dir"
  cat >"$dir/patroni.yml" <<YAML
scope: wharf
namespace: /wharf/
name: pg$i
log: { level: WARNING }
restapi:
  listen: 127.0.0.1:$rest
  connect_address: 127.0.0.1:$rest
etcd3:
  hosts: 127.0.0.1:$ETCD_PORT
bootstrap:
  dcs:
    ttl: 6
    loop_wait: 1
    retry_timeout: 2
    maximum_lag_on_failover: 1048576
    postgresql:
      use_pg_rewind: true
      parameters:
        wal_level: replica
        hot_standby: "on"
        wal_log_hints: "on"
        max_wal_senders: 10
        max_replication_slots: 10
        max_connections: 200
  initdb: [{ encoding: UTF8 }, { locale: C.UTF-8 }, data-checksums, no-sync]   # no-sync: bootstrap only; fsync stays on
  # The socket dir is private to the postgres OS user, so local trust is safe; TCP needs a password.
  pg_hba:
    - local all all trust
    - host replication replicator 127.0.0.1/32 scram-sha-256
    - host all all 127.0.0.1/32 scram-sha-256
  post_bootstrap: $STATE/pg/post_bootstrap.sh
postgresql:
  listen: 127.0.0.1:$port
  connect_address: 127.0.0.1:$port
  data_dir: $dir/data
  bin_dir: $PG_BIN
  pgpass: $dir/pgpass
  basebackup: [{ checkpoint: fast }]   # the default spread checkpoint makes replicas wait minutes
  remove_data_directory_on_rewind_failure: true
  remove_data_directory_on_diverged_timelines: true
  authentication:
    superuser: { username: postgres, password: "$PG_SUPERUSER_PASSWORD" }
    replication: { username: replicator, password: "$PG_REPL_PASSWORD" }
    rewind: { username: postgres, password: "$PG_SUPERUSER_PASSWORD" }
  parameters:
    unix_socket_directories: $dir
    shared_buffers: 64MB
    logging_collector: "off"
watchdog: { mode: "off" }
YAML
}

# Runs once on the first leader: the app's login and database (Patroni 3 dropped bootstrap.users).
pg_write_post_bootstrap() {
  cat >"$STATE/pg/post_bootstrap.sh" <<SH
#!/bin/sh
set -e
psql -v ON_ERROR_STOP=1 -d "\$1" -c "CREATE ROLE wharf LOGIN PASSWORD '$WHARF_DB_PASSWORD'"
psql -v ON_ERROR_STOP=1 -d "\$1" -c "CREATE DATABASE wharf OWNER wharf"
SH
  chmod 0750 "$STATE/pg/post_bootstrap.sh"
}

pg_start_node() {
  local i="$1" dir; dir="$(pg_node_dir "$i")"
  if pidfile_alive "$STATE/pids/patroni-$i.pid"; then log "pg$i: Patroni already running"; return 0; fi
  log "pg$i: starting Patroni (postgres :${PG_PORTS[$((i - 1))]}, REST :${PATRONI_PORTS[$((i - 1))]})"
  local -a cmd=(env -i "HOME=$dir" "PATH=/usr/bin:/bin" "LANG=C.UTF-8" patroni "$dir/patroni.yml")
  if [[ $(id -u) == 0 ]]; then cmd=(setpriv --reuid="$PG_OS_USER" --regid="$PG_OS_USER" --init-groups "${cmd[@]}"); fi
  # setsid: own session, so a terminal's Ctrl-C or the caller's exit does not reach it.
  setsid "${cmd[@]}" >>"$STATE/logs/patroni-$i.log" 2>&1 </dev/null &
  echo $! >"$STATE/pids/patroni-$i.pid"
}

# Patroni REST: /primary answers 200 only on the leader, /replica only on a streaming standby.
pg_role_ok() { http_ok "http://127.0.0.1:${PATRONI_PORTS[$(($2 - 1))]}/$1"; }

# Prints the 1-based index of the current leader, or fails.
pg_primary_index() {
  local i
  for ((i = 1; i <= PG_NODES; i++)); do
    if pg_role_ok primary "$i"; then echo "$i"; return 0; fi
  done
  return 1
}

pg_any_primary() { pg_primary_index >/dev/null; }

# Stops a wait early when every Patroni process has died (bad config, permissions).
pg_leader_or_dead() {
  pg_any_primary && return 0
  local i
  for ((i = 1; i <= PG_NODES; i++)); do pidfile_alive "$STATE/pids/patroni-$i.pid" && return 1; done
  return 0
}

pg_replicas_streaming() {
  local i n=0
  for ((i = 1; i <= PG_NODES; i++)); do pg_role_ok replica "$i" && n=$((n + 1)); done
  (( n >= PG_NODES - 1 ))
}

pg_wharf_login() {
  PGPASSWORD="$WHARF_DB_PASSWORD" PGCONNECT_TIMEOUT=1 psql -qtA -h 127.0.0.1 -p "$1" -U wharf -d wharf -c 'select 1'
}

pg_up() {
  need_bin patroni patroni
  need_bin psql postgresql-client
  [[ -x "$PG_BIN/postgres" ]] || die "missing $PG_BIN/postgres (Debian package: postgresql-15; set PG_BIN)"
  etcd_start
  mkdir -p "$STATE/pg"
  pg_write_post_bootstrap
  local i
  for ((i = 1; i <= PG_NODES; i++)); do pg_write_config "$i"; done
  chown -R "$PG_OS_USER:" "$STATE/pg"
  chmod 0700 "$STATE/pg"
  if [[ $(id -u) == 0 ]] && ! setpriv --reuid="$PG_OS_USER" --regid="$PG_OS_USER" --init-groups test -w "$STATE/pg/pg1"; then
    die "the $PG_OS_USER user cannot reach $STATE/pg (make $STATE and its parents traversable: chmod o+x)"
  fi
  for ((i = 1; i <= PG_NODES; i++)); do pg_start_node "$i"; done
  local t0; t0=$(now_ms)
  wait_for 60 "a Patroni leader (see $STATE/logs/patroni-*.log)" pg_leader_or_dead || true
  pg_any_primary || { tail -n 5 "$STATE"/logs/patroni-*.log >&2; die "no Patroni leader (logs: $STATE/logs)"; }
  local leader; leader="$(pg_primary_index)"
  log "pg$leader: leader after $(( $(now_ms) - t0 )) ms"
  wait_for 30 "database wharf on the leader" pg_wharf_login "${PG_PORTS[$((leader - 1))]}"
  wait_for 60 "two streaming replicas" pg_replicas_streaming
  log "postgres: leader + 2 streaming replicas after $(( $(now_ms) - t0 )) ms"
}

# Kills a node the way a crash would: Patroni AND its postmaster and backends (Patroni double-forks
# PostgreSQL, so killing Patroni alone leaves a writable postmaster behind).
pg_kill_node() {
  local i="$1" dir pid pm=""; dir="$(pg_node_dir "$i")"
  [[ -f "$dir/data/postmaster.pid" ]] && pm="$(head -1 "$dir/data/postmaster.pid")"
  pid="$(cat "$STATE/pids/patroni-$i.pid" 2>/dev/null || true)"
  log "pg$i: kill -9 Patroni (${pid:-none}) and postmaster (${pm:-none}) with its children"
  # Patroni and PostgreSQL die together, as when the machine goes down.
  kill_tree KILL $pid $pm
  KILLED_AT_MS="$(now_ms)"
  wait_for 5 "pg$i processes to die" pids_dead $pid $pm || true
  rm -f "$STATE/pids/patroni-$i.pid"
}

pg_kill_primary() {
  local leader; leader="$(pg_primary_index)" || die "no PostgreSQL primary to kill"
  pg_kill_node "$leader"
  # at=: when the kill signal went out (epoch ms), so failover times start at the death, not at this script's start.
  echo "killed=pg$leader port=${PG_PORTS[$((leader - 1))]} at=$KILLED_AT_MS"
}

# Graceful: SIGTERM makes Patroni stop PostgreSQL (fast shutdown) before exiting.
pg_stop_node() {
  local i="$1"; local f="$STATE/pids/patroni-$i.pid"
  [[ -f "$f" ]] || return 0
  log "pg$i: stopping Patroni"
  stop_pid "$(cat "$f")" "patroni pg$i" 20
  rm -f "$f"
  local dir; dir="$(pg_node_dir "$i")"
  if [[ -f "$dir/data/postmaster.pid" ]]; then
    local pm; pm="$(head -1 "$dir/data/postmaster.pid")"
    pid_alive "$pm" && { warn "pg$i: postmaster $pm outlived Patroni; killing"; kill_tree KILL "$pm"; }
  fi
  return 0
}

pg_down() {
  local i
  # All at once: a failover during teardown is harmless, and serial shutdowns add seconds.
  for ((i = 1; i <= PG_NODES; i++)); do pg_stop_node "$i" & done
  wait
  etcd_stop
}

pg_status() {
  local i role
  for ((i = 1; i <= PG_NODES; i++)); do
    role="down"
    if pg_role_ok primary "$i"; then role="primary"; elif pg_role_ok replica "$i"; then role="replica"; elif pidfile_alive "$STATE/pids/patroni-$i.pid"; then role="starting"; fi
    echo "pg$i  postgres=127.0.0.1:${PG_PORTS[$((i - 1))]}  patroni=127.0.0.1:${PATRONI_PORTS[$((i - 1))]}  $role"
  done
}
