#!/usr/bin/env bash
# The floor tools `python -m bench` runs beside its own measurements: pgbench and redis-benchmark (apt, if missing);
# wrk, the C load driver of `python -m bench.osmand --driver wrk`.
# Debian ships pgbench with the server package of each major version (postgresql-NN), redis-benchmark in redis-tools.
set -euo pipefail
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
need=()
command -v redis-benchmark >/dev/null || need+=(redis-tools)
command -v wrk >/dev/null || need+=(wrk)
if ! command -v pgbench >/dev/null || ! pgbench --version >/dev/null 2>&1; then
  v=$(ls /usr/lib/postgresql 2>/dev/null | sort -V | tail -1)
  need+=(postgresql-client "postgresql-${v:-15}")
fi
if [ ${#need[@]} -gt 0 ]; then
  echo "[bench-tools] installing ${need[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
pgbench --version >/dev/null && redis-benchmark --version >/dev/null && command -v wrk >/dev/null
