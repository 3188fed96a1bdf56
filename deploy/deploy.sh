#!/usr/bin/env bash
# Zero-downtime rolling deploy: build, migrate once, then one app server at a time:
# out of nginx → drain (SIGTERM) → start the new build → /readyz → back into nginx.
# A server whose new build is not ready in time gets its previous build back; the deploy exits 1.
#
# Usage: deploy/deploy.sh <inventory> [--skip-build] [--release DIR] [--ready-timeout S] [--drain-timeout S]
#   --skip-build   ship dist/ as it is          --release DIR   ship this release dir instead (no build)
# Inventory format: see deploy/README.md and deploy/inventory.example.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=local/lib.sh
source "$HERE/local/lib.sh"
# Children must not inherit the deploy lock (fd 9): app servers outlive this script.
topo() { "$HERE/local/topology.sh" "$@" 9>&-; }

INVENTORY="${1:-}"; [[ $# -gt 0 ]] && shift
[[ -n "$INVENTORY" && -f "$INVENTORY" ]] || die "usage: deploy.sh <inventory> [--skip-build] [--release DIR] [--ready-timeout S] [--drain-timeout S]"
SKIP_BUILD=0
RELEASE_SRC=""
READY_TIMEOUT=60
DRAIN_TIMEOUT=30
while [[ $# -gt 0 ]]; do
  case "$1" in
    --skip-build) SKIP_BUILD=1; shift ;;
    --release) RELEASE_SRC="$(cd "$2" && pwd)"; shift 2 ;;
    --ready-timeout) READY_TIMEOUT="$2"; shift 2 ;;
    --drain-timeout) DRAIN_TIMEOUT="$2"; shift 2 ;;
    *) die "unknown option $1" ;;
  esac
done

# ---------- inventory: "<role> <name> <local|ssh=user@host> key=value..." ----------

APP_NAMES=(); NGINX_NAMES=()
declare -A KV=()
while read -r role name rest; do
  [[ -z "$role" || "$role" == \#* ]] && continue
  case "$role" in app) APP_NAMES+=("$name") ;; nginx) NGINX_NAMES+=("$name") ;; *) die "inventory: unknown role '$role'" ;; esac
  KV["$name.transport"]="local"
  for tok in $rest; do
    case "$tok" in
      local) KV["$name.transport"]="local" ;;
      ssh=*) KV["$name.transport"]="ssh"; KV["$name.ssh"]="${tok#ssh=}" ;;
      *=*) KV["$name.${tok%%=*}"]="${tok#*=}" ;;
      *) die "inventory: bad token '$tok' on $name" ;;
    esac
  done
done <"$INVENTORY"
(( ${#APP_NAMES[@]} > 0 )) || die "inventory: no app servers"
(( ${#NGINX_NAMES[@]} > 0 )) || die "inventory: no nginx"

kv() { echo "${KV["$1.$2"]:-${3-}}"; }
need_kv() { [[ -n "${KV["$1.$2"]:-}" ]] || die "inventory: $1 needs $2=..."; echo "${KV["$1.$2"]}"; }
is_local() { [[ "$(kv "$1" transport)" == local ]]; }

# Remote commands: batch mode so a missing key fails at once instead of prompting.
on() { local host="$1"; shift; ssh -o BatchMode=yes -o ConnectTimeout=5 "$host" "$@" 9>&-; }

ALL_ADDRS=()
for a in "${APP_NAMES[@]}"; do ALL_ADDRS+=("$(need_kv "$a" addr)"); done

# One deploy at a time per inventory.
exec 9>"${TMPDIR:-/tmp}/wharf-deploy-$(echo "$(readlink -f "$INVENTORY")" | md5sum | cut -c1-12).lock"
flock -n 9 || die "another deploy of $INVENTORY is running"

# ---------- per-transport actions ----------

ready() { # <app>
  local a="$1"
  if is_local "$a"; then http_ok "http://$(kv "$a" addr)/readyz"
  else on "$(kv "$a" ssh)" "curl -fs -o /dev/null --max-time 2 http://$(kv "$a" addr)/readyz"; fi
}

# nginx_set <down addr or ''>: rewrite every load balancer's upstream and reload it.
nginx_set() {
  local down="$1" n
  for n in "${NGINX_NAMES[@]}"; do
    if is_local "$n"; then
      topo nginx-upstream --state "$(need_kv "$n" state)" ${down:+--down "$down"} >/dev/null
    else
      local dir; dir="$(kv "$n" conf_dir /etc/wharf)"
      render_upstream "$down" "${ALL_ADDRS[@]}" | on "$(kv "$n" ssh)" \
        "cat > /tmp/wharf-upstream.conf && sudo install -m 0644 /tmp/wharf-upstream.conf $dir/upstream.conf && sudo systemctl reload $(kv "$n" service wharf-nginx)"
      # A reload lets old workers finish their requests; give them a moment before the drain.
      sleep "$(kv "$n" settle 2)"
    fi
  done
}

current_release_of() { # <app>: the release dir the server runs now
  local a="$1"
  if is_local "$a"; then cat "$(need_kv "$a" state)/apps/app-$(need_kv "$a" index)/release"
  else on "$(kv "$a" ssh)" "readlink -f $(kv "$a" root /opt/wharf)/current"; fi
}

app_stop() {
  local a="$1"
  if is_local "$a"; then WHARF_DRAIN_TIMEOUT="$DRAIN_TIMEOUT" topo app-stop "$(need_kv "$a" index)" --state "$(need_kv "$a" state)" >/dev/null
  else on "$(kv "$a" ssh)" "sudo systemctl stop $(need_kv "$a" unit)"; fi
}

# app_start <app> <release dir>: start and wait for /readyz (bounded); non-zero when not ready.
app_start() {
  local a="$1" rel="$2"
  if is_local "$a"; then
    topo app-start "$(need_kv "$a" index)" --release "$rel" --ready-timeout "$READY_TIMEOUT" --state "$(need_kv "$a" state)" >/dev/null
  else
    on "$(kv "$a" ssh)" "ln -sfn $rel $(kv "$a" root /opt/wharf)/current && sudo systemctl start $(need_kv "$a" unit)"
    wait_for "$READY_TIMEOUT" "$a /readyz" ready "$a"
  fi
}

# ---------- 1. build and ship ----------

T0=$(now_ms)
FIRST="${APP_NAMES[0]}"
if [[ -z "$RELEASE_SRC" && $SKIP_BUILD == 0 ]]; then
  log "build: npm run build"
  (cd "$WHARF_REPO" && npm run build --silent) || die "build failed"
fi

# NEW[app] = the release dir on that server's host.
declare -A NEW=()
declare -A LOCAL_RELEASE=()
# One id for every remote host: the build's commit and the time it shipped.
REMOTE_ID="r-$(date +%Y%m%d-%H%M%S)-$(git -C "${RELEASE_SRC:-$WHARF_REPO}" rev-parse --short HEAD 2>/dev/null || echo nogit)"
for a in "${APP_NAMES[@]}"; do
  if is_local "$a"; then
    st="$(need_kv "$a" state)"
    if [[ -z "${LOCAL_RELEASE[$st]:-}" ]]; then
      if [[ -n "$RELEASE_SRC" ]]; then LOCAL_RELEASE[$st]="$RELEASE_SRC"
      else LOCAL_RELEASE[$st]="$(topo release --state "$st" | tail -1)"; fi
      log "release: $(basename "${LOCAL_RELEASE[$st]}")"
    fi
    NEW[$a]="${LOCAL_RELEASE[$st]}"
  else
    src="${RELEASE_SRC:-$WHARF_REPO}"
    id="$REMOTE_ID"
    root="$(kv "$a" root /opt/wharf)"
    log "ship: $a ← $id"
    rsync -a --delete --exclude node_modules --exclude .git --exclude .tmp --exclude test --exclude data --exclude coverage \
      -e "ssh -o BatchMode=yes" "$src/" "$(kv "$a" ssh):$root/releases/$id/" 9>&-
    on "$(kv "$a" ssh)" "cd $root/releases/$id && npm ci --omit=dev --no-audit --no-fund --silent"
    NEW[$a]="$root/releases/$id"
  fi
done
for n in "${NGINX_NAMES[@]}"; do
  is_local "$n" && continue # topology.sh release already published the local assets
  src="${RELEASE_SRC:-$WHARF_REPO}"
  log "assets: $n ← dist/public/assets (kept: old pages still load old fingerprints)"
  rsync -a -e "ssh -o BatchMode=yes" "$src/dist/public/assets/" "$(kv "$n" ssh):$(kv "$n" assets /var/lib/wharf/public/assets)/" 9>&-
done

# ---------- 2. migrations, once, with the new code (they must suit the old build too) ----------

log "migrate: on $FIRST"
if is_local "$FIRST"; then
  mapfile -t envs <"$(need_kv "$FIRST" state)/app.env"
  env -C "${NEW[$FIRST]}" -i "PATH=$PATH" "HOME=${HOME:-/root}" "${envs[@]}" timeout 300 node dist/src/cli.js migrate 9>&- || die "migrations failed; nothing was restarted"
else
  on "$(kv "$FIRST" ssh)" "cd ${NEW[$FIRST]} && sudo -u $(kv "$FIRST" user wharf) sh -c 'set -a; . $(kv "$FIRST" env /etc/wharf/wharf.env); exec timeout 300 node dist/src/cli.js migrate'" ||
    die "migrations failed; nothing was restarted"
fi

# ---------- 3. roll, one server at a time ----------

TOTAL=${#APP_NAMES[@]}
step=0
for a in "${APP_NAMES[@]}"; do
  step=$((step + 1))
  p="[$step/$TOTAL] $a:"
  addr="$(kv "$a" addr)"
  # Never take a server out while another is down: that would be an outage, not a deploy.
  for other in "${APP_NAMES[@]}"; do
    [[ "$other" == "$a" ]] && continue
    ready "$other" || die "$p not touched: $other is not ready (fix it first; the deploy stops here)"
  done
  old="$(current_release_of "$a")"
  log "$p out of nginx"
  nginx_set "$addr"
  log "$p draining…"
  app_stop "$a"
  log "$p starting $(basename "${NEW[$a]}")"
  if ! app_start "$a" "${NEW[$a]}"; then
    warn "$p new build not ready within ${READY_TIMEOUT}s: rolling back to $(basename "$old")"
    app_stop "$a" || true
    # The known-good build gets at least a minute, whatever --ready-timeout the new one had.
    READY_TIMEOUT=$(( READY_TIMEOUT > 60 ? READY_TIMEOUT : 60 ))
    app_start "$a" "$old" || { nginx_set ""; die "$p the previous build did not come back either: $a is DOWN"; }
    nginx_set ""
    log "$p back on $(basename "$old") and in nginx"
    done_msg="no server runs the new build"; (( step > 1 )) && done_msg="the $((step - 1)) server(s) before it run the new build"
    die "deploy failed at $a after $(( ($(now_ms) - T0) / 1000 ))s; $done_msg"
  fi
  log "$p ready, back in nginx"
  nginx_set ""
done

# Local: later `topology.sh up`/app-start use the new release too.
for st in "${!LOCAL_RELEASE[@]}"; do ln -sfn "${LOCAL_RELEASE[$st]}" "$st/releases/current"; done
log "deploy: $TOTAL server(s) on the new build in $(( ($(now_ms) - T0) / 1000 ))s"
