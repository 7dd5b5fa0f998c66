#!/usr/bin/env bash
# Make this machine ready to run gridcmd: a virtualenv with the project, PostgreSQL with
# PostGIS, Redis, the database migrated. Uses DATABASE_URL / REDIS_URL when they answer;
# otherwise installs (apt) and starts local services. Safe to re-run.
#   scripts/provision.sh            # for the demo
#   scripts/provision.sh --test     # also test extras and Debian's Chromium
set -euo pipefail
cd "$(dirname "$0")/.."

WITH_TEST=0
[ "${1:-}" = "--test" ] && WITH_TEST=1
DATABASE_URL="${DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/gridcmd}"
REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379/0}"
export DATABASE_URL REDIS_URL

log() { printf '\033[1;34m[provision]\033[0m %s\n' "$*"; }
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
APT_UPDATED=0
apt_install() {
  if [ "$APT_UPDATED" = 0 ]; then $SUDO apt-get update -qq; APT_UPDATED=1; fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$@" >/dev/null
}

# ---- Python environment --------------------------------------------------------------
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  log "creating .venv"
  "$PY" -m venv .venv || { apt_install python3-venv; "$PY" -m venv .venv; }
fi
STAMP=".venv/.installed-$(cat pyproject.toml | sha1sum | cut -c1-12)-$WITH_TEST"
if [ ! -f "$STAMP" ]; then
  log "installing gridcmd into .venv"
  .venv/bin/pip install -q --upgrade pip >/dev/null
  if [ "$WITH_TEST" = 1 ]; then .venv/bin/pip install -q -e '.[test]'; else .venv/bin/pip install -q -e .; fi
  rm -f .venv/.installed-*; touch "$STAMP"
fi

# URL parts via Python (no extra tools needed).
read -r PGHOST PGPORT PGUSER PGDB < <(.venv/bin/python - <<'PY'
import os, urllib.parse as u
p = u.urlsplit(os.environ["DATABASE_URL"].replace("+asyncpg", "").replace("+psycopg", ""))
print(p.hostname or "127.0.0.1", p.port or 5432, p.username or "postgres", (p.path or "/gridcmd").lstrip("/"))
PY
)
read -r RHOST RPORT < <(.venv/bin/python -c "
import os, urllib.parse as u; p = u.urlsplit(os.environ['REDIS_URL']); print(p.hostname or '127.0.0.1', p.port or 6379)")
is_local() { case "$1" in 127.*|localhost|::1) return 0;; *) return 1;; esac; }

# ---- PostgreSQL + PostGIS --------------------------------------------------------------
pg_up() { .venv/bin/python -c "
import psycopg,sys
try: psycopg.connect(host='$PGHOST', port=$PGPORT, user='$PGUSER', dbname='postgres', connect_timeout=3).close()
except Exception: sys.exit(1)" 2>/dev/null; }
if ! pg_up; then
  is_local "$PGHOST" || { echo "PostgreSQL at $PGHOST:$PGPORT does not answer" >&2; exit 1; }
  if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then log "installing PostgreSQL"; apt_install postgresql; fi
  log "starting PostgreSQL"
  for v in $(ls /etc/postgresql); do $SUDO pg_ctlcluster --skip-systemctl-redirect "$v" main start 2>/dev/null || true; done
  for _ in $(seq 30); do pg_up && break; sleep 1; done
  if ! pg_up; then
    # A fresh Debian cluster only trusts the postgres OS user; allow local TCP for the dev role.
    v=$(ls /etc/postgresql | sort -V | tail -1)
    $SUDO -u postgres psql -qc "ALTER USER postgres PASSWORD NULL" >/dev/null 2>&1 || true
    sed -i 's/^\(host\s\+all\s\+all\s\+127.0.0.1\/32\s\+\).*/\1trust/; s/^\(host\s\+all\s\+all\s\+::1\/128\s\+\).*/\1trust/' \
      "/etc/postgresql/$v/main/pg_hba.conf"
    $SUDO pg_ctlcluster --skip-systemctl-redirect "$v" main reload
    for _ in $(seq 15); do pg_up && break; sleep 1; done
  fi
  pg_up || { echo "PostgreSQL did not start" >&2; exit 1; }
fi
postgis_available() { .venv/bin/python -c "
import psycopg,sys
c = psycopg.connect(host='$PGHOST', port=$PGPORT, user='$PGUSER', dbname='postgres')
sys.exit(0 if c.execute(\"select 1 from pg_available_extensions where name='postgis'\").fetchone() else 1)"; }
if ! postgis_available; then
  is_local "$PGHOST" || { echo "PostGIS is not available on $PGHOST" >&2; exit 1; }
  v=$(.venv/bin/python -c "
import psycopg; c = psycopg.connect(host='$PGHOST', port=$PGPORT, user='$PGUSER', dbname='postgres')
print(c.execute('show server_version_num').fetchone()[0][:2])")
  log "installing PostGIS for PostgreSQL $v"
  apt_install "postgresql-$v-postgis-3"
fi
ensure_db() { .venv/bin/python - "$1" <<PY
import sys, psycopg
name = sys.argv[1]
c = psycopg.connect(host='$PGHOST', port=$PGPORT, user='$PGUSER', dbname='postgres', autocommit=True)
if not c.execute("select 1 from pg_database where datname=%s", (name,)).fetchone():
    c.execute(f'create database "{name}"')
    print(f"created database {name}")
PY
}
ensure_db "$PGDB"

# A local streaming replica (scripts/pg-replica.sh, docs/replica.md) connects for replication from loopback: a
# Debian cluster's pg_hba.conf has no such line ("all" does not cover replication). wal_level=replica and
# max_wal_senders=10 are Debian's defaults already. Added once, then a reload; a remote primary is its DBA's.
if is_local "$PGHOST"; then
  hba=$(.venv/bin/python -c "
import psycopg; print(psycopg.connect(host='$PGHOST', port=$PGPORT, user='$PGUSER', dbname='postgres').execute('show hba_file').fetchone()[0])")
  if [ -w "$hba" ] && ! grep -Eq '^host[[:space:]]+replication[[:space:]]+all[[:space:]]+127\.0\.0\.1/32' "$hba"; then
    log "allowing replication connections from 127.0.0.1 ($hba)"
    printf 'host replication all 127.0.0.1/32 trust  # gridcmd: scripts/pg-replica.sh\n' >> "$hba"
    .venv/bin/python -c "
import psycopg; psycopg.connect(host='$PGHOST', port=$PGPORT, user='$PGUSER', dbname='postgres').execute('select pg_reload_conf()')"
  fi
fi

# ---- Redis ----------------------------------------------------------------------------------
redis_up() { .venv/bin/python -c "
import redis,sys
try: redis.Redis(host='$RHOST', port=$RPORT, socket_connect_timeout=2).ping()
except Exception: sys.exit(1)" 2>/dev/null; }
if ! redis_up; then
  is_local "$RHOST" || { echo "Redis at $RHOST:$RPORT does not answer" >&2; exit 1; }
  command -v redis-server >/dev/null || { log "installing Redis"; apt_install redis-server; }
  log "starting Redis"
  mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
  redis-server --daemonize yes --bind 127.0.0.1 --port "$RPORT" --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/gridcmd.log
  for _ in $(seq 20); do redis_up && break; sleep 0.5; done
  redis_up || { echo "Redis did not start" >&2; exit 1; }
fi

# Published reports (通报) are PDFs typeset by WeasyPrint (pango) in the CJK fonts; the scheduler makes them in the demo too.
fc-list 2>/dev/null | grep -qi "noto sans cjk" || { log "installing CJK fonts"; apt_install fonts-noto-cjk || true; }
[ -e /usr/lib/x86_64-linux-gnu/libpango-1.0.so.0 ] || ldconfig -p 2>/dev/null | grep -q libpango-1.0 || {
  log "installing pango"; apt_install libpango-1.0-0 libpangoft2-1.0-0; }

# scripts/rolling-restart.sh polls /readyz with curl.
command -v curl >/dev/null || { log "installing curl"; apt_install curl; }

# ---- Test extras ---------------------------------------------------------------------------
if [ "$WITH_TEST" = 1 ]; then
  if [ ! -x /usr/bin/chromium ]; then log "installing Debian's Chromium"; apt_install chromium; fi
  # A real Prometheus (and promtool) scrapes /metrics and evaluates deploy/prometheus/alerts.yml in the tests.
  # Debian's package starts a service where systemd runs; the tests start their own on a kernel-chosen port.
  if [ ! -x /usr/bin/prometheus ] || [ ! -x /usr/bin/promtool ]; then log "installing Prometheus"; apt_install prometheus; fi
  # deploy/nginx/gridcmd.conf is run in front of the app by tests/ops/test_nginx_proxy.py (never as a service).
  if [ ! -x /usr/sbin/nginx ]; then log "installing nginx"; apt_install nginx-light; fi
  fc-list 2>/dev/null | grep -qi "noto sans cjk" || { log "installing CJK fonts"; apt_install fonts-noto-cjk || true; }
  # The published-report tests render PDFs to PNG (pdftoppm) and read their text (pdftotext).
  command -v pdftoppm >/dev/null || { log "installing poppler-utils"; apt_install poppler-utils; }
  # scripts/redis-sentinel.sh (tests/ops/test_fault_sentinel.py, bench/failover.py): a master, a replica and three
  # Sentinels on loopback ports. Debian's package starts a service where systemd runs; the tests start their own.
  command -v redis-sentinel >/dev/null || { log "installing redis-sentinel"; apt_install redis-sentinel; }
  ensure_db "${GRIDCMD_TEST_DB:-gridcmd_test}"
  scripts/bench-tools.sh  # the small benchmark test measures the pgbench/redis-benchmark floor too
fi

# ---- Browser libraries and schema ----------------------------------------------------------
scripts/vendor.sh
log "migrating $PGDB"
.venv/bin/gridcmd migrate
log "ready"
