#!/bin/sh
# Readiness probe of a shard pod (see ready() in cluster-lib.sh). Not ready before the init Job has
# made the cluster, while loading, and while a replica is resyncing: a StatefulSet rolling update
# waits for it, so it never restarts a primary before its replica holds everything.
. "$(dirname "$0")/cluster-lib.sh"
ready "${1:-127.0.0.1:6379}"
