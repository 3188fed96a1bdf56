# Releases, memcached, embedded S3, app servers and nginx for topology.sh (sourced; needs lib.sh
# and topology.sh's state variables: STATE, APPS, *_PORT, APP_PORTS[], RELEASE_ARG, DOWN_ADDR...).
# shellcheck shell=bash

# ---------- releases: a snapshot of the build, so a rollback has something to go back to ----------

release_create() {
  [[ -f "$WHARF_REPO/dist/src/server.js" ]] || die "no build: $WHARF_REPO/dist/src/server.js is missing (run: npm run build)"
  local id; id="r-$(date +%Y%m%d-%H%M%S)-$(git -C "$WHARF_REPO" rev-parse --short HEAD 2>/dev/null || echo nogit)-$$"
  local dir="$STATE/releases/$id"
  mkdir -p "$dir"
  # Everything the app reads at run time; node_modules is shared by a symlink.
  rsync -a --exclude node_modules --exclude .git --exclude .tmp --exclude test --exclude data \
    --exclude coverage "$WHARF_REPO/" "$dir/"
  ln -s "$WHARF_REPO/node_modules" "$dir/node_modules"
  publish_assets "$dir"
  echo "$dir"
}

# Fingerprinted assets accumulate, so pages of the old and the new build both load mid-deploy.
publish_assets() {
  if [[ -d "$1/dist/public/assets" ]]; then cp -a "$1/dist/public/assets/." "$STATE/public/assets/"; fi
}

current_release() {
  if [[ -n "$RELEASE_ARG" ]]; then (cd "$RELEASE_ARG" && pwd); return; fi
  if [[ ! -L "$STATE/releases/current" ]]; then
    local dir; dir="$(release_create)"
    ln -sfn "$dir" "$STATE/releases/current"
    log "release: $(basename "$dir")"
  fi
  readlink -f "$STATE/releases/current"
}

# ---------- memcached, S3 ----------

memcached_start() {
  need_bin memcached memcached
  if pidfile_alive "$STATE/pids/memcached.pid"; then log "memcached: already running on :$MEMCACHED_PORT"; return 0; fi
  log "memcached: starting on 127.0.0.1:$MEMCACHED_PORT"
  local -a user=(); [[ $(id -u) == 0 ]] && user=(-u nobody)
  setsid memcached "${user[@]}" -l 127.0.0.1 -p "$MEMCACHED_PORT" -U 0 -m 64 -c 4096 \
    >>"$STATE/logs/memcached.log" 2>&1 </dev/null &
  echo $! >"$STATE/pids/memcached.pid"
  wait_for 5 "memcached on :$MEMCACHED_PORT" bash -c "exec 3<>/dev/tcp/127.0.0.1/$MEMCACHED_PORT"
}

memcached_stop() {
  [[ -f "$STATE/pids/memcached.pid" ]] || return 0
  log "memcached: stopping"
  stop_pid "$(cat "$STATE/pids/memcached.pid")" memcached 5
  rm -f "$STATE/pids/memcached.pid"
}

s3_start() {
  if pidfile_alive "$STATE/pids/s3.pid"; then log "s3: already running on :$S3_PORT"; return 0; fi
  local rel; rel="$(current_release)"
  log "s3: starting embedded S3 on 127.0.0.1:$S3_PORT (bucket wharf)"
  setsid env -C "$rel" node dist/src/cli.js s3:serve --port "$S3_PORT" --dir "$STATE/s3" --bucket wharf \
    --cors-origin "$NGINX_URL" >>"$STATE/logs/s3.log" 2>&1 </dev/null &
  echo $! >"$STATE/pids/s3.pid"
  wait_for 15 "embedded S3 on :$S3_PORT (see $STATE/logs/s3.log)" bash -c "exec 3<>/dev/tcp/127.0.0.1/$S3_PORT"
}

s3_stop() {
  [[ -f "$STATE/pids/s3.pid" ]] || return 0
  log "s3: stopping"
  stop_pid "$(cat "$STATE/pids/s3.pid")" s3 10
  rm -f "$STATE/pids/s3.pid"
}

# ---------- app servers ----------

app_port() { echo "${APP_PORTS[$(($1 - 1))]}"; }

app_alive_and_ready() { pidfile_alive "$STATE/pids/app-$1.pid" && http_ok "http://127.0.0.1:$(app_port "$1")/readyz"; }

# Fails fast when the process died instead of waiting out the whole timeout.
app_wait_ready() {
  local i="$1" deadline=$(( $(now_ms) + READY_TIMEOUT * 1000 ))
  until http_ok "http://127.0.0.1:$(app_port "$i")/readyz"; do
    if ! pidfile_alive "$STATE/pids/app-$i.pid"; then
      tail -n 20 "$STATE/logs/app-$i.log" >&2 || true
      warn "app-$i exited before it was ready (log: $STATE/logs/app-$i.log)"; return 1
    fi
    if (( $(now_ms) > deadline )); then warn "app-$i not ready after ${READY_TIMEOUT}s"; return 1; fi
    sleep 0.1
  done
}

app_start() {
  local i="$1" port; port="$(app_port "$i")"
  [[ -n "$port" ]] || die "no app server $i (this topology has $APPS)"
  if pidfile_alive "$STATE/pids/app-$i.pid"; then log "app-$i: already running on :$port"; return 0; fi
  local rel; rel="$(current_release)"
  mkdir -p "$STATE/apps/app-$i/data"
  echo "$rel" >"$STATE/apps/app-$i/release"
  log "app-$i: starting $(basename "$rel") on 127.0.0.1:$port"
  local -a envs; mapfile -t envs <"$STATE/app.env"
  # env -C + exec chain: the recorded pid is node's own, so SIGTERM reaches the server.
  setsid env -C "$rel" -i "PATH=$PATH" "HOME=${HOME:-/root}" "${envs[@]}" "PORT=$port" \
    "DATA_DIR=$STATE/apps/app-$i/data" node dist/src/server.js >>"$STATE/logs/app-$i.log" 2>&1 </dev/null &
  echo $! >"$STATE/pids/app-$i.pid"
  app_wait_ready "$i" || return 1
  log "app-$i: ready"
}

# SIGTERM lets the server finish in-flight requests; SIGKILL only after the drain timeout.
app_stop() {
  local i="$1" f="$STATE/pids/app-$1.pid"
  [[ -f "$f" ]] || return 0
  log "app-$i: draining (SIGTERM)"
  stop_pid "$(cat "$f")" "app-$i" "$DRAIN_TIMEOUT"
  rm -f "$f"
}

app_kill() {
  local f="$STATE/pids/app-$1.pid"
  [[ -f "$f" ]] || die "app-$1 is not running"
  log "app-$1: kill -9"
  kill -KILL "$(cat "$f")" 2>/dev/null || true
  rm -f "$f"
}

# ---------- nginx ----------

NGINX() { nginx -p "$STATE/nginx/" -c conf/nginx.conf "$@"; }

nginx_write_conf() {
  local p="$STATE/nginx"
  mkdir -p "$p/conf" "$p/logs"
  # The repo's nginx.conf, as is: its relative includes resolve next to it, in this conf dir.
  ln -sfn "$WHARF_REPO/nginx.conf" "$p/conf/nginx.conf"
  cat >"$p/conf/site.conf" <<CONF
# Generated by topology.sh: what differs per environment.
listen 127.0.0.1:$NGINX_PORT;
root $STATE/public;
CONF
  local addrs=() i
  for ((i = 0; i < APPS; i++)); do addrs+=("127.0.0.1:${APP_PORTS[$i]}"); done
  render_upstream "$DOWN_ADDR" "${addrs[@]}" >"$p/conf/upstream.conf.new"
  mv "$p/conf/upstream.conf.new" "$p/conf/upstream.conf"
}

nginx_pid() { cat "$STATE/nginx/nginx.pid" 2>/dev/null; }

nginx_start() {
  need_bin nginx nginx-light
  nginx_write_conf
  if pid_alive "$(nginx_pid)"; then log "nginx: already running on :$NGINX_PORT"; return 0; fi
  log "nginx: starting on $NGINX_URL"
  NGINX -t -q || die "nginx -t failed"
  NGINX </dev/null
  wait_for 5 "nginx /healthz" http_ok "$NGINX_URL/healthz"
}

# Reload = new workers read the new upstream; old ones finish their requests, then exit.
nginx_reload() {
  nginx_write_conf
  pid_alive "$(nginx_pid)" || { log "nginx: not running; upstream written only"; return 0; }
  NGINX -t -q || die "nginx -t failed after rewriting the upstream"
  local master; master="$(nginx_pid)"
  local before; before="$(child_pids "$master" | sort | tr '\n' ' ')"
  local out; out="$(NGINX -s reload 2>&1)" || die "nginx reload failed: $out"
  # Wait until every pre-reload worker is gone: then no connection to a downed server remains.
  # shellcheck disable=SC2086 # one pid per word
  wait_for 30 "old nginx workers to exit" pids_dead $before ||
    warn "old nginx workers still finishing requests after 30s; going on (the app's own drain covers them)"
}

nginx_stop() {
  local pid; pid="$(nginx_pid || true)"
  pid_alive "$pid" || return 0
  log "nginx: stopping"
  NGINX -s quit 2>/dev/null || true
  wait_for 10 "nginx to exit" pids_dead "$pid" || kill_tree KILL "$pid"
}
