# gridcmd: the command centre with the living demo city (see docker-compose.yml for PostGIS and Redis).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app

# Dependencies first (a layer that survives code changes), then the project itself.
COPY pyproject.toml ./
RUN mkdir -p command geo dispatch web migrations bench \
    && pip install --quiet . \
    && pip uninstall --yes --quiet gridcmd
COPY . .
# Editable: templates, static files, Lua scripts and migrations are read from /app as they are in the repo.
RUN pip install --quiet --no-deps -e . \
    && useradd --system --home-dir /app gridcmd \
    && mkdir -p var/uploads && chown -R gridcmd var
USER gridcmd

EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=5 \
  CMD python -c "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=3).status != 200)"
CMD ["sh", "-c", "gridcmd migrate && exec gridcmd demo --serve --host 0.0.0.0 --port 8000"]
