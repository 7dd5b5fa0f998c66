#!/usr/bin/env bash
# A local Redis Sentinel set for tests and the failover bench (docs/failover.md): on loopback,
#   base      the master            base+1    its replica
#   base+2..4 three Sentinels watching service "gridcmd" (quorum 2)
# with short timings so that a killed master is replaced within a few seconds:
#   down-after-milliseconds 1000 (a master silent that long is subjectively down), failover-timeout 3000.
# No persistence (--save "", no AOF): what the master had not replicated when it died is lost, as the test wants.
#   scripts/redis-sentinel.sh start <base-port> <dir>   # prints the REDIS_URL to use
#   scripts/redis-sentinel.sh stop  <base-port> <dir>
# The app's URL: redis+sentinel://127.0.0.1:<base+2>,127.0.0.1:<base+3>,127.0.0.1:<base+4>/gridcmd/0
set -euo pipefail

cmd="${1:-}"; base="${2:-}"; dir="${3:-}"
[ -n "$cmd" ] && [ -n "$base" ] && [ -n "$dir" ] || { echo "usage: $0 start|stop <base-port> <dir>" >&2; exit 2; }
SERVICE="${REDIS_SENTINEL_SERVICE:-gridcmd}"
DOWN_AFTER_MS="${REDIS_SENTINEL_DOWN_AFTER_MS:-1000}"
FAILOVER_TIMEOUT_MS="${REDIS_SENTINEL_FAILOVER_TIMEOUT_MS:-3000}"
SENTINEL_BIN="$(command -v redis-sentinel || true)"

ping() { redis-cli -h 127.0.0.1 -p "$1" ping 2>/dev/null | grep -q PONG; }
wait_ping() {
  for _ in $(seq 100); do ping "$1" && return 0; sleep 0.05; done
  echo "nothing answers on port $1 (log: $dir/$1.log)" >&2; exit 1
}

start() {
  mkdir -p "$dir"
  for port in "$base" "$((base + 1))"; do
    extra=()
    [ "$port" != "$base" ] && extra=(--replicaof 127.0.0.1 "$base")
    redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --dir "$dir" \
      --dbfilename "dump-$port.rdb" --daemonize yes --pidfile "$dir/$port.pid" --logfile "$dir/$port.log" \
      --repl-diskless-sync yes --repl-diskless-sync-delay 0 "${extra[@]}"
    wait_ping "$port"
  done
  for port in "$((base + 2))" "$((base + 3))" "$((base + 4))"; do
    conf="$dir/sentinel-$port.conf"  # Sentinel rewrites its config file: each its own, writable
    cat > "$conf" <<EOF
port $port
bind 127.0.0.1
daemonize yes
pidfile $dir/$port.pid
logfile $dir/$port.log
dir $dir
sentinel monitor $SERVICE 127.0.0.1 $base 2
sentinel down-after-milliseconds $SERVICE $DOWN_AFTER_MS
sentinel failover-timeout $SERVICE $FAILOVER_TIMEOUT_MS
sentinel parallel-syncs $SERVICE 1
EOF
    if [ -n "$SENTINEL_BIN" ]; then "$SENTINEL_BIN" "$conf"; else redis-server "$conf" --sentinel; fi
    wait_ping "$port"
  done
  # Ready when every Sentinel knows the replica and the other Sentinels (else a failover could not be agreed).
  for _ in $(seq 200); do
    ok=1
    for port in "$((base + 2))" "$((base + 3))" "$((base + 4))"; do
      info=$(redis-cli -p "$port" sentinel master "$SERVICE" 2>/dev/null | tr '\n' ' ')
      [[ "$info" =~ num-slaves\ 1\  ]] && [[ "$info" =~ num-other-sentinels\ 2\  ]] || ok=0
    done
    [ "$ok" = 1 ] && break
    sleep 0.1
  done
  [ "$ok" = 1 ] || { echo "the Sentinels did not find each other and the replica" >&2; exit 1; }
  echo "redis+sentinel://127.0.0.1:$((base + 2)),127.0.0.1:$((base + 3)),127.0.0.1:$((base + 4))/$SERVICE/0"
}

stop() {
  for port in "$((base + 2))" "$((base + 3))" "$((base + 4))" "$base" "$((base + 1))"; do
    pidfile="$dir/$port.pid"
    [ -f "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$pidfile"
  done
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop <base-port> <dir>" >&2; exit 2 ;;
esac
