#!/bin/sh
# Restores Redis data from an RDB backup into an AOF data directory (docs/operations.md,
# "Restore"). Run it where the data volume is mounted and no other Redis uses it, e.g.:
#   kubectl -n pixel-prod exec -i redis-restore -- sh -s < k8s/tools/redis-restore.sh
# Expects $REDIS_DATA_DIR/restore.rdb. Moves the current AOF and RDB to pre-restore/ (kept for
# rollback), loads the backup with AOF off, then turns AOF on so Redis writes a fresh AOF from it.
# Redis 7 started with appendonly yes ignores dump.rdb, which is why this detour is needed.
set -eu
dir="${REDIS_DATA_DIR:-/data}"
port="${RESTORE_PORT:-6379}"
cli() { redis-cli -h 127.0.0.1 -p "$port" "$@"; }
info() { cli INFO persistence | tr -d '\r' | grep "^$1:" | cut -d: -f2; }

[ -f "$dir/restore.rdb" ] || { echo "no $dir/restore.rdb: copy the backup there first" >&2; exit 1; }
stamp="$(date +%Y%m%dT%H%M%S)"
mkdir -p "$dir/pre-restore/$stamp"
for f in appendonlydir dump.rdb; do
  if [ -e "$dir/$f" ]; then mv "$dir/$f" "$dir/pre-restore/$stamp/"; fi
done
mv "$dir/restore.rdb" "$dir/dump.rdb"

# Localhost only, no persistence of its own until AOF is switched on below.
redis-server --port "$port" --bind 127.0.0.1 --dir "$dir" --appendonly no --save "" \
  --daemonize yes --pidfile "${TMPDIR:-/tmp}/redis-restore.pid" --logfile "${TMPDIR:-/tmp}/redis-restore.log"
# Whatever happens next, never leave this temporary server running.
trap 'cli SHUTDOWN NOSAVE >/dev/null 2>&1 || true' EXIT
tries=0
until [ "$(cli PING 2>/dev/null)" = "PONG" ]; do
  tries=$((tries + 1)); [ "$tries" -lt 600 ] || { echo "redis did not load the backup" >&2; exit 1; }
  sleep 0.2
done
echo "loaded backup: $(cli DBSIZE) keys"

cli CONFIG SET appendonly yes >/dev/null
tries=0
until [ "$(info aof_rewrite_in_progress)" = "0" ] && [ "$(info aof_rewrite_scheduled)" = "0" ] && [ -d "$dir/appendonlydir" ]; do
  tries=$((tries + 1)); [ "$tries" -lt 600 ] || { echo "AOF rewrite did not finish" >&2; exit 1; }
  sleep 0.2
done
[ "$(info aof_last_bgrewrite_status)" = "ok" ] || { echo "AOF rewrite failed" >&2; exit 1; }
echo "restored: $dir/appendonlydir now holds the backup; previous data is in $dir/pre-restore/$stamp"
