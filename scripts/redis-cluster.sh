#!/usr/bin/env bash
# A local Redis Cluster for tests and the bench: 3 masters + 3 replicas on loopback ports.
#
#   scripts/redis-cluster.sh start <base-port> <dir>   # nodes on base..base+5 (bus ports +10000), data under <dir>
#   scripts/redis-cluster.sh stop  <base-port> <dir>
#
# Prints the URL gridcmd takes (REDIS_URL=redis+cluster://127.0.0.1:<base>,.../). Safe to re-run: start on a
# cluster that already answers only prints the URL; stop only shuts down the six nodes this script started
# (by port and pid file, never by name).
set -euo pipefail

cmd=${1:?usage: $0 start|stop <base-port> <dir>}
base=${2:?base port}
dir=${3:?data directory}
ports=()
for i in 0 1 2 3 4 5; do ports+=($((base + i))); done

url() {
  local hosts=()
  for p in "${ports[@]:0:3}"; do hosts+=("127.0.0.1:$p"); done
  (IFS=,; echo "redis+cluster://${hosts[*]}/")
}

case "$cmd" in
start)
  mkdir -p "$dir"
  if redis-cli -p "$base" cluster info 2>/dev/null | grep -q 'cluster_state:ok'; then url; exit 0; fi
  for p in "${ports[@]}"; do
    mkdir -p "$dir/$p"
    if ! redis-cli -p "$p" ping >/dev/null 2>&1; then
      # Fresh node: old cluster config from an earlier run would make it refuse to join a new cluster.
      rm -f "$dir/$p/nodes.conf" "$dir/$p/dump.rdb" "$dir/$p/appendonly.aof"
      redis-server --port "$p" --bind 127.0.0.1 --cluster-enabled yes --cluster-config-file nodes.conf \
        --cluster-node-timeout 2000 --dir "$dir/$p" --save '' --appendonly no --daemonize yes \
        --pidfile "$dir/$p/redis.pid" --logfile "$dir/$p/redis.log" --protected-mode yes
    fi
  done
  for p in "${ports[@]}"; do
    for _ in $(seq 50); do redis-cli -p "$p" ping >/dev/null 2>&1 && break; sleep 0.1; done
  done
  nodes=()
  for p in "${ports[@]}"; do nodes+=("127.0.0.1:$p"); done
  redis-cli --cluster create "${nodes[@]}" --cluster-replicas 1 --cluster-yes >"$dir/create.log"
  for _ in $(seq 300); do
    ok=1
    for p in "${ports[@]}"; do
      redis-cli -p "$p" cluster info | grep -q 'cluster_state:ok' || ok=0
    done
    # every master has its replica (they attach a moment after the slots are served), and every replica has
    # finished its first sync: a replica without its master's data refuses to fail over ("disconnected from master
    # for longer than allowed"), so a master killed before that would leave its slots unserved
    [ "$(redis-cli -p "$base" cluster nodes | grep -c slave)" = 3 ] || ok=0
    for p in "${ports[@]}"; do
      if redis-cli -p "$p" info replication | grep -q '^role:slave'; then
        redis-cli -p "$p" info replication | grep -q '^master_link_status:up' || ok=0
      fi
    done
    [ "$ok" = 1 ] && break
    sleep 0.1
  done
  [ "$ok" = 1 ] || { echo "cluster did not reach state ok (see $dir/create.log)" >&2; exit 1; }
  url
  ;;
stop)
  for p in "${ports[@]}"; do
    if [ -f "$dir/$p/redis.pid" ]; then
      redis-cli -p "$p" shutdown nosave >/dev/null 2>&1 || true
      rm -f "$dir/$p/redis.pid"
    fi
  done
  ;;
*)
  echo "usage: $0 start|stop <base-port> <dir>" >&2
  exit 2
  ;;
esac
