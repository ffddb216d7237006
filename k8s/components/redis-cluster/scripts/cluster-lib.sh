# Helpers shared by the Redis Cluster scripts (sourced, never run alone). Addresses are host:port;
# redis-cli reads the password from REDISCLI_AUTH, never from argv.

log() { echo "$(basename "$0"): $*"; }

# cli HOST:PORT ARGS...: one redis-cli command, carriage returns stripped from its answer.
cli() {
  addr=$1
  shift
  redis-cli -h "${addr%:*}" -p "${addr##*:}" "$@" | tr -d '\r'
}

# info_field NAME: the value of NAME in INFO-style text on stdin.
info_field() { sed -n "s/^$1://p"; }

# role HOST:PORT: master or slave.
role() { cli "$1" role | head -n 1; }

# ready HOST:PORT: true when the node is in a cluster whose state is ok and, if it is a replica,
# its link to the primary is up (so it holds every acknowledged write).
ready() {
  [ "$(cli "$1" cluster info 2>/dev/null | info_field cluster_state)" = ok ] || return 1
  replication=$(cli "$1" info replication 2>/dev/null) || return 1
  case $replication in
    *role:slave*) [ "$(echo "$replication" | info_field master_link_status)" = up ] ;;
    *) return 0 ;;
  esac
}
