#!/bin/sh
# preStop of a shard pod: a primary asks its replica to take over (CLUSTER FAILOVER: the replica
# first catches up with the primary's stream, so nothing acknowledged is lost) and waits until it
# is a replica itself. Writes to the shard pause for about a second instead of failing for
# cluster-node-timeout plus an election. Always exits 0: a stop must never be blocked by it.
. "$(dirname "$0")/cluster-lib.sh"
self=${1:-127.0.0.1:6379}
ATTEMPTS=${ATTEMPTS:-3}

[ "$(role "$self")" = master ] || exit 0
replica=$(cli "$self" info replication | sed -n 's/^slave0:ip=\([^,]*\),port=\([0-9]*\),state=online.*/\1:\2/p')
if [ -z "$replica" ]; then
  log "no online replica: stopping as primary"
  exit 0
fi
attempt=0
while [ "$attempt" -lt "$ATTEMPTS" ]; do
  attempt=$((attempt + 1))
  cli "$replica" cluster failover >/dev/null 2>&1 || true
  i=0
  while [ "$i" -lt 20 ]; do
    if [ "$(role "$self")" = slave ]; then
      log "handed over to $replica"
      exit 0
    fi
    sleep 0.5
    i=$((i + 1))
  done
done
log "$replica did not take over after $ATTEMPTS attempts: stopping as primary (it fails over after cluster-node-timeout)"
exit 0
