#!/usr/bin/env bash
# A local streaming replica of the PostgreSQL primary (docs/replica.md), for tests, the bench and trying it out.
#   scripts/pg-replica.sh start  <port> <datadir>   # pg_basebackup -R on first start, then a hot standby on <port>
#   scripts/pg-replica.sh stop   <port> <datadir>   # fast shutdown; the data stays (start again resumes streaming)
#   scripts/pg-replica.sh status <port> <datadir>   # running?, in recovery?, replayed position and lag
# The primary is PRIMARY_HOST:PRIMARY_PORT (127.0.0.1:5432), user postgres, and must allow replication
# connections from loopback (scripts/provision.sh adds that pg_hba line to a local Debian cluster).
# No replication slot: a slot left by a dead replica would make the primary keep WAL forever. The price: a
# replica stopped for longer than the primary keeps WAL cannot catch up; remove <datadir> and start again.
# Run as root the server runs as the postgres OS user (<datadir>'s parent must be reachable by it).
set -euo pipefail

cmd=${1:-}; port=${2:-}; data=${3:-}
if [ -z "$cmd" ] || [ -z "$port" ] || [ -z "$data" ]; then
  echo "usage: $0 start|stop|status <port> <datadir>" >&2; exit 2
fi
PRIMARY_HOST=${PRIMARY_HOST:-127.0.0.1}
PRIMARY_PORT=${PRIMARY_PORT:-5432}
BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
[ -x "$BIN/pg_ctl" ] || { echo "no PostgreSQL server binaries (set PG_BIN)" >&2; exit 1; }
data=$(realpath -m "$data")
log="$data.log"

as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
replica_sql() { "$BIN/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -AtX -c "$1"; }

case "$cmd" in
start)
  if [ ! -f "$data/PG_VERSION" ]; then
    mkdir -p "$data"; chmod 700 "$data"
    [ "$(id -u)" -eq 0 ] && chown postgres "$data"
    # -R writes primary_conninfo and standby.signal; -X stream copies the WAL written during the backup.
    as_pg "$BIN/pg_basebackup" -h "$PRIMARY_HOST" -p "$PRIMARY_PORT" -U postgres -D "$data" -R -X stream \
      --checkpoint=fast --no-sync
    # Debian keeps the primary's configuration in /etc, outside the copied directory: the replica gets its own.
    [ -f "$data/postgresql.conf" ] || as_pg sh -c "echo '# options: scripts/pg-replica.sh' > '$data/postgresql.conf'"
    [ -f "$data/pg_hba.conf" ] || as_pg sh -c "printf 'local all all trust\nhost all all 127.0.0.1/32 trust\n' \
      > '$data/pg_hba.conf'"
    [ -f "$data/pg_ident.conf" ] || as_pg touch "$data/pg_ident.conf"
  fi
  [ "$(id -u)" -eq 0 ] && { touch "$log"; chown postgres "$log"; }
  # The primary's postgresql.conf is not copied by Debian's layout (it lives in /etc): the options are given here.
  # hot_standby_feedback: long reports on the replica are not cancelled by the primary's vacuum.
  as_pg "$BIN/pg_ctl" -D "$data" -l "$log" -w -t 60 start -o "-p $port -c listen_addresses=127.0.0.1 \
    -c unix_socket_directories=$data -c hot_standby=on -c hot_standby_feedback=on -c max_connections=100 \
    -c fsync=off -c full_page_writes=off"
  replica_sql "SELECT 'replica on ' || $port || ', in recovery: ' || pg_is_in_recovery()"
  ;;
stop)
  if [ -f "$data/postmaster.pid" ]; then as_pg "$BIN/pg_ctl" -D "$data" -m fast -w -t 60 stop; fi
  ;;
status)
  as_pg "$BIN/pg_ctl" -D "$data" status >/dev/null || { echo "not running"; exit 3; }
  replica_sql "SELECT 'in recovery: ' || pg_is_in_recovery() || ', replayed: ' || coalesce(pg_last_wal_replay_lsn()::text, '-')
    || ', paused: ' || (pg_get_wal_replay_pause_state() <> 'not paused')
    || ', last replayed commit: ' || coalesce(round(extract(epoch FROM now() - pg_last_xact_replay_timestamp()), 1) || ' s ago', 'none')"
  "$BIN/psql" -h "$PRIMARY_HOST" -p "$PRIMARY_PORT" -U postgres -d postgres -AtX -c \
    "SELECT 'primary at: ' || pg_current_wal_lsn() || ', streaming to ' || count(*) || ' standby(s)' FROM pg_stat_replication"
  ;;
*) echo "usage: $0 start|stop|status <port> <datadir>" >&2; exit 2 ;;
esac
