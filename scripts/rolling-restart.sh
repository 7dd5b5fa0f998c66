#!/usr/bin/env bash
# Rolling restart of gridcmd web processes, one at a time (docs/operations-upgrades.md).
#
#   scripts/rolling-restart.sh [-c COMMAND] [-t SECONDS] [-H HOST] PORT...
#
# For each PORT in turn: run COMMAND with {port} replaced (default: systemctl restart gridcmd-web@{port}, see
# deploy/systemd/gridcmd-web@.service), then wait until http://HOST:PORT/readyz answers 200 (PostgreSQL and Redis
# reachable) before touching the next one. The process being restarted gets SIGTERM: it stops accepting, finishes
# the requests in flight, and closes its sockets with 1012, so the proxy sends new requests and the pages'
# reconnects to the processes still up, which resume each socket from its last event id.
# A process that is not ready within SECONDS (default 60) stops the roll with exit status 1: the others, not yet
# restarted, keep serving.
set -euo pipefail

command='systemctl restart gridcmd-web@{port}'
timeout=60
host=127.0.0.1
while getopts "c:t:H:" opt; do
  case "$opt" in
    c) command=$OPTARG ;;
    t) timeout=$OPTARG ;;
    H) host=$OPTARG ;;
    *) echo "usage: $0 [-c COMMAND] [-t SECONDS] [-H HOST] PORT..." >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
if [ "$#" -eq 0 ]; then
  echo "usage: $0 [-c COMMAND] [-t SECONDS] [-H HOST] PORT..." >&2
  exit 2
fi

ready() {
  curl -fsS -o /dev/null --max-time 2 "http://$host:$1/readyz"
}

for port in "$@"; do
  case "$port" in
    ''|*[!0-9]*) echo "rolling-restart: not a port: $port" >&2; exit 2 ;;
  esac
  if ! ready "$port"; then
    echo "rolling-restart: $host:$port is not ready before its restart; stopping here" >&2
    exit 1
  fi
  echo "rolling-restart: restarting $port"
  started=$(date +%s)
  sh -c "${command//\{port\}/$port}"
  until ready "$port"; do
    if [ $(( $(date +%s) - started )) -ge "$timeout" ]; then
      echo "rolling-restart: $host:$port not ready after ${timeout}s; the remaining processes were not touched" >&2
      exit 1
    fi
    sleep 0.5
  done
  echo "rolling-restart: $port ready after $(( $(date +%s) - started ))s"
done
echo "rolling-restart: all $# processes restarted"
