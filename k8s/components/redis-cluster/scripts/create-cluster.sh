#!/bin/sh
# The init Job: creates the Redis Cluster from the shard StatefulSets' pods, or brings an existing
# one back to its intended shape. Safe to run any number of times, at any point:
#   1. wait until every pod answers;
#   2. only if every pod is blank (no slots, knows no other node): create the cluster with the
#      first pod of each shard as its primaries (`redis-cli --cluster create`);
#   3. MEET every pod at its current IP (adds a blank replacement pod, and updates the address of a
#      known one whose IP changed: pods get new IPs when they all restart at once);
#   4. in each shard, the one pod that owns slots is the primary; every other pod replicates it
#      (CLUSTER REPLICATE), so the two pods of a shard are always one primary and its replica;
#      A shard that owns no slots while the others serve all 16384 is new (scaling out): its first
#      pod becomes its primary, and once everything is ready the slots are rebalanced onto it;
#   5. FORGET node ids no pod has any more (a pod whose volume was replaced gets a new id);
#   6. wait until every pod is ready (ready.sh) and run `redis-cli --cluster check`.
# SHARD_PODS: one entry per shard, space-separated; each entry lists the shard's pods as
# host:port, comma-separated.
set -eu
. "$(dirname "$0")/cluster-lib.sh"
WAIT_SECONDS=${WAIT_SECONDS:-300}

all_pods() { echo "$SHARD_PODS" | tr ' ,' '\n\n' | sed '/^$/d'; }
pods_of() { echo "$1" | tr ',' ' '; }

# The IP of a host:port as host (CLUSTER MEET and --cluster create take addresses, not names).
ip_of() {
  host=${1%:*}
  case $host in
    *[!0-9.]*) getent hosts "$host" | awk '{ print $1; exit }' ;;
    *) echo "$host" ;;
  esac
}
addr_of() { echo "$(ip_of "$1"):${1##*:}"; }
# The node's cluster bus port: cluster-port, or its client port + 10000 when that is 0 (the default).
bus_port_of() {
  bus=$(cli "$1" config get cluster-port | sed -n 2p)
  if [ "${bus:-0}" = 0 ]; then echo $((${1##*:} + 10000)); else echo "$bus"; fi
}

# wait_until DESCRIPTION COMMAND...: retries the command every second, up to WAIT_SECONDS.
wait_until() {
  description=$1
  shift
  waited=0
  until "$@" >/dev/null 2>&1; do
    waited=$((waited + 1))
    if [ "$waited" -ge "$WAIT_SECONDS" ]; then
      log "timed out after ${WAIT_SECONDS}s waiting for $description"
      exit 1
    fi
    sleep 1
  done
}

answers() { [ "$(cli "$1" ping)" = PONG ] && [ -n "$(ip_of "$1")" ]; }
blank() {
  info=$(cli "$1" cluster info)
  [ "$(echo "$info" | info_field cluster_known_nodes)" = 1 ] && [ "$(echo "$info" | info_field cluster_slots_assigned)" = 0 ]
}
myid() { cli "$1" cluster myid; }
# The node's own line of CLUSTER NODES: id addr flags master ping pong epoch link slots...
myself() { cli "$1" cluster nodes | awk '$3 ~ /myself/'; }
owns_slots() { [ "$(role "$1")" = master ] && [ "$(myself "$1" | awk '{ print NF - 8 }')" -gt 0 ]; }
knows() { cli "$1" cluster nodes | awk -v id="$2" '$1 == id && $3 !~ /handshake/ { found = 1 } END { exit !found }'; }
no_handshake() { ! cli "$1" cluster nodes | awk '$3 ~ /handshake/ { found = 1 } END { exit !found }'; }

for pod in $(all_pods); do wait_until "$pod to answer" answers "$pod"; done

anchor=""
for pod in $(all_pods); do
  if ! blank "$pod"; then
    anchor=$pod
    break
  fi
done
if [ -z "$anchor" ]; then
  primaries=""
  for shard in $SHARD_PODS; do primaries="$primaries $(addr_of "${shard%%,*}")"; done
  log "every pod is blank: creating the cluster with primaries$primaries"
  # shellcheck disable=SC2086 # one argument per primary
  redis-cli --cluster create $primaries --cluster-replicas 0 --cluster-yes
  anchor=${SHARD_PODS%%,*}
else
  log "the cluster exists (seen from $anchor): converging"
fi

for pod in $(all_pods); do
  [ "$pod" != "$anchor" ] || continue
  # Known at this address already (the usual case): nothing to do.
  if cli "$anchor" cluster nodes | awk -v a="$(addr_of "$pod")@" -v id="$(myid "$pod")" '$1 == id && index($2, a) == 1 { found = 1 } END { exit !found }'; then
    continue
  fi
  log "meeting $pod at $(addr_of "$pod")"
  cli "$anchor" cluster meet "$(ip_of "$pod")" "${pod##*:}" "$(bus_port_of "$pod")" >/dev/null
done
for pod in $(all_pods); do wait_until "$pod to finish its handshakes" no_handshake "$pod"; done

for shard in $SHARD_PODS; do
  primary=""
  for pod in $(pods_of "$shard"); do
    if owns_slots "$pod"; then primary=$pod; fi
  done
  if [ -z "$primary" ]; then
    # A shard without slots is new (scaling out) only if the other shards serve every slot;
    # otherwise its data is not loaded or was lost, which needs an operator.
    if [ "$(cli "$anchor" cluster info | info_field cluster_slots_ok)" != 16384 ]; then
      log "no pod of shard [$shard] owns slots and not every slot is served: its data is not loaded or lost (docs/operations.md, Redis Cluster)"
      exit 1
    fi
    primary=${shard%%,*}
    new_shards=yes
    log "shard [$shard] is new: $primary is its primary"
  fi
  primary_id=$(myid "$primary")
  for pod in $(pods_of "$shard"); do
    [ "$pod" != "$primary" ] || continue
    if [ "$(myself "$pod" | awk '{ print $4 }')" = "$primary_id" ]; then continue; fi
    wait_until "$pod to learn of $primary" knows "$pod" "$primary_id"
    log "$pod now replicates $primary ($primary_id)"
    cli "$pod" cluster replicate "$primary_id" >/dev/null
  done
done

current=" "
for pod in $(all_pods); do current="$current$(myid "$pod") "; done
for id in $(cli "$anchor" cluster nodes | awk '{ print $1 }'); do
  case $current in *" $id "*) continue ;; esac
  log "forgetting $id, which no pod has any more"
  for pod in $(all_pods); do cli "$pod" cluster forget "$id" >/dev/null 2>&1 || true; done
done

for pod in $(all_pods); do wait_until "$pod to be ready" ready "$pod"; done
if [ "${new_shards:-}" = yes ]; then
  log "moving slots (and their keys) to the new shards"
  redis-cli --cluster rebalance "$(addr_of "$anchor")" --cluster-use-empty-masters
  for pod in $(all_pods); do wait_until "$pod to be ready" ready "$pod"; done
fi
redis-cli --cluster check "$(addr_of "$anchor")"
log "done: $(echo "$SHARD_PODS" | wc -w) shards, every pod ready"
