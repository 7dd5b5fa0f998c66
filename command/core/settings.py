"""One typed settings object, built from the environment and passed in (never read at import)."""

from __future__ import annotations

from functools import cached_property

from pydantic import AliasChoices, Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from command.core.signing_key import check_key, installation_key


class Settings(BaseSettings):
    """Configuration. `DATABASE_URL` and `REDIS_URL` are read bare; the rest carry the `GRIDCMD_` prefix."""

    model_config = SettingsConfigDict(env_prefix="GRIDCMD_", extra="ignore")

    database_url: str = Field(
        "postgresql://postgres@127.0.0.1:5432/gridcmd",
        validation_alias=AliasChoices("DATABASE_URL", "GRIDCMD_DATABASE_URL"),
        description="PostgreSQL (with PostGIS) connection URL.",
    )
    database_read_url: str = Field(
        "",
        validation_alias=AliasChoices("DATABASE_READ_URL", "GRIDCMD_DATABASE_READ_URL"),
        description="A streaming replica of DATABASE_URL that serves the read-heavy pages (docs/replica.md). "
        "Empty: every read goes to the primary.",
    )
    redis_url: str = Field(
        "redis://127.0.0.1:6379/0",
        validation_alias=AliasChoices("REDIS_URL", "GRIDCMD_REDIS_URL"),
        description="Redis connection URL: redis://host:port/db for one instance; "
        "redis+sentinel://host:port,host:port/service/db finds the master through Redis Sentinel (docs/failover.md); "
        "redis+cluster://host:port,host:port/ for a Redis Cluster (docs/cluster.md).",
    )
    # Identity and access (docs/security.md).
    secret_key: str = Field("", description="Key that signs access and tracking tokens (at least 32 bytes). Empty: "
                            "the key in GRIDCMD_SECRET_KEY_FILE, generated there on first start.")
    secret_key_file: str = Field("var/secret_key", description="Where the generated key is kept (mode 0600) when "
                                 "GRIDCMD_SECRET_KEY is empty; every process of the installation reads it.")
    token_ttl_s: int = Field(12 * 3600, description="Access token lifetime in seconds (a client renews before).")
    session_max_s: int = Field(7 * 86400, description="Renewals stop this long after the password login.")
    account_cache_s: float = Field(2.0, ge=0, description="Account state (active, version, role, revoked sessions) "
                                   "is cached per process this long at most; changes evict it at once via Redis.")
    login_max_failures: int = Field(5, ge=1, description="Failed logins of one account before it is throttled.")
    login_address_max_failures: int = Field(20, ge=1, description="Failed logins from one client address before "
                                            "it is throttled (successes are not counted).")
    login_backoff_s: float = Field(30.0, gt=0, description="First throttle of an account or address; doubles "
                                   "with each further failure.")
    login_backoff_max_s: float = Field(900.0, gt=0, description="Longest throttle of an account or address.")
    login_failure_window_s: int = Field(3600, ge=1, description="Failed logins are forgotten after this long "
                                        "without another.")
    trusted_proxies: str = Field("", description="Comma-separated proxy addresses/networks whose X-Forwarded-For "
                                 "is believed (gridcmd serve). Empty: none, the peer address is the client.")
    locate_tolerance_m: float = Field(200.0, description="Outside every region: nearest region within this.")
    presence_ttl_s: int = Field(120, description="A worker with no position report for this long is away.")
    ack_timeout_s: int = Field(60, description="Default time a worker has to accept an order.")
    max_dispatch_attempts: int = Field(3, description="Failed offers before operators are alerted.")
    sweeper_interval_s: float = Field(5.0, description="How often the sweeper re-drives half-done work.")
    # Dispatch core (docs/dispatch.md).
    sweeper_grace_s: float = Field(3.0, description="Age before the sweeper re-drives a stuck incident or offer.")
    claim_pending_ttl_s: float = Field(
        3.0, gt=0, description="A load change not confirmed this long → reconcile loads (a claim leaked by a killed "
        "process is repaired within about this + 1 s).")
    ack_poll_interval_s: float = Field(0.25, description="Longest sleep of the ack timeout worker.")
    live_lock_timeout_s: float = Field(10.0, description="Longest wait of a rebuild/reconcile for in-flight work.")
    dispatch_background: bool = Field(True, description="Run the sweeper and ack timers inside each web process.")
    max_body_bytes: int = Field(1_000_000, description="Largest accepted JSON request body.")
    max_upload_bytes: int = Field(8_000_000, description="Largest accepted photo upload.")
    max_admin_file_bytes: int = Field(64_000_000, description="Largest file an administrator uploads on /admin "
                                      "(a region file to check or apply, an account sheet to import).")
    upload_dir: str = Field("var/uploads", description="Where uploaded photos are stored.")
    basemap_preset: str = Field("", description="Base map of the pages: tianditu (天地图 vec_w + cva_w, needs "
                                "GRIDCMD_TIANDITU_TK), tianditu-img (img_w + cia_w), intranet (GRIDCMD_BASEMAP_URL), "
                                "or empty: none (docs/interop.md).")
    tianditu_tk: str = Field("", description="The installation's 天地图 key (tk), for the tianditu presets.")
    basemap_url: str = Field("", description="XYZ raster tile URL template of an intranet base map (the intranet "
                             "preset; also used alone when no preset is set).")
    basemap_crs: str = Field("wgs84", description="Datum of the base map's tiles (wgs84, gcj02, bd09): a pin "
                             "a resident drops on it is sent in it and converted by the intake.")
    resident_rate_per_min: int = Field(20, description="Resident requests allowed per client address a minute.")
    # Standard interfaces (issue 17, docs/interop.md).
    gps_device_cache_s: float = Field(5.0, ge=0, description="GPS app device ids (OsmAnd/Traccar) are resolved to "
                                      "their worker from a per-process cache this long: a binding changed in "
                                      "another process applies within it.")
    cap_require_signature: bool = Field(False, description="Refuse CAP messages without a valid XML signature "
                                        "(capvalidator's check). Off: the signature is checked and reported only.")
    cap_default_category: str = Field("", description="Category of a CAP alert whose event and categories no "
                                      "mapping names. Empty: such an alert is refused (422) until an admin maps it.")
    simulate_alert_rate: float = Field(0.2, description="Demo simulator: alerts per second.")
    simulate_workers_step_s: float = Field(3.0, description="Demo simulator: seconds between worker moves.")
    # Closed loop (issue 4): deadlines, duplicates, scheduler, 12345 platform link.
    timezone: str = Field("Asia/Shanghai", description="Local time for same-day limits and report periods.")
    duplicate_distance_m: float = Field(150.0, description="A same-category alert this close to an open incident…")
    duplicate_window_s: int = Field(3600, description="…and this recent is linked to it (sensors: merged).")
    scheduler_interval_s: float = Field(5.0, description="How often the deadline/outbox scheduler runs.")
    scheduler_batch: int = Field(200, description="Deadlines or outbox rows one scheduler step claims at most.")
    supervision_escalate_s: int = Field(86400, description="Still overdue this long after 督办: one level higher.")
    run_jobs_in_web: bool = Field(False, description="Also run the scheduler inside each web process.")
    hotline_secret: str = Field("", description="Shared HMAC secret with the 12345 platform (empty: link off).")
    hotline_replay_window_s: int = Field(300, description="Inbound 12345 requests older/newer than this: refused.")
    hotline_callback_url: str = Field("", description="12345 platform URL that receives our status reports.")
    hotline_timeout_s: float = Field(5.0, description="Timeout of one status report to the 12345 platform.")
    hotline_retry_base_s: float = Field(2.0, description="First retry delay of a failed report (doubles).")
    hotline_retry_max_s: float = Field(600.0, description="Longest retry delay of a failed report.")
    hotline_platform_secrets: str = Field("", description="Shared HMAC secrets of further hotline platforms, "
                                          "\"platform=secret,…\" (their formats: platform mappings, docs/interop.md).")
    # Petitions (信访, docs/petitions.md); the notice and reply limits are the deadline rules of category petition.
    petition_extension_max_workdays: int = Field(15, ge=1, le=60, description="A petition's one extension (延期) "
                                                 "adds at most this many working days to its reply deadline.")
    petition_review_workdays: int = Field(15, ge=1, le=60, description="Working days for the review (复查) of a "
                                          "petition whose petitioner was not satisfied with the reply.")
    # Open311 GeoReport v2 (docs/interop.md).
    open311_jurisdictions: str = Field("", description="Comma-separated region codes served as Open311 "
                                       "jurisdictions (jurisdiction_id then required). Empty: one jurisdiction, "
                                       "jurisdiction_id ignored.")
    open311_client_rate_per_min: int = Field(60, ge=1, description="Default Open311 POSTs a client application "
                                             "may make a minute (set per client when its api_key is issued).")
    open311_read_rate_per_min: int = Field(120, ge=1, description="Open311 reads (services, requests, tokens) "
                                           "allowed per client address a minute.")
    open311_max_results: int = Field(1000, ge=1, description="Most service requests one Open311 GET answers.")
    # Event stream and WebSocket push (docs/realtime.md).
    event_stream_maxlen: int = Field(250_000, description="Stream entries kept (approximate; ~a busy city's day).")
    relay_interval_s: float = Field(1.0, description="How often a web process re-publishes events the stream lacks.")
    relay_rebuild_window_s: int = Field(120, description="After a Redis flush: re-publish events this recent.")
    ws_max_frame_bytes: int = Field(64 * 1024, description="Largest client WebSocket frame (larger: close 1009).")
    ws_queue_size: int = Field(512, description="Frames queued for one socket before it is closed (4000: resume).")
    ws_ping_interval_s: float = Field(20.0, description="Server ping every this; no frame for 2x this: close 4408.")
    ws_auth_timeout_s: float = Field(5.0, description="Time a socket has to send its auth frame.")
    db_pool_size: int = Field(10, description="Database connections per process (a fixed pool, no overflow).")
    db_pool_timeout_s: float = Field(10.0, gt=0, description="Longest wait for a free pooled connection (then 503).")
    # Faults answered cleanly (docs/faults.md): every wait on PostgreSQL or Redis is bounded, then 503.
    db_connect_timeout_s: float = Field(5.0, gt=0, description="Longest wait to open a database connection (then 503).")
    db_statement_timeout_s: float = Field(
        15.0, gt=0, description="PostgreSQL statement_timeout of every session: a slower statement is cancelled (503).")
    db_command_timeout_s: float = Field(
        20.0, gt=0, description="Longest wait for the answer to any database statement, client side: a server that "
        "accepts connections but never answers (503).")
    redis_timeout_s: float = Field(
        5.0, gt=0, description="Longest wait to connect to Redis or for a command's answer (then 503); the hub's "
        "blocking stream read allows itself at least 3 s.")
    readiness_timeout_s: float = Field(
        2.0, gt=0, description="GET /readyz: longest wait for each of PostgreSQL and Redis.")
    presence_warmup_quorum: float = Field(
        0.75, ge=0, le=1, description="After the live state is rebuilt (Redis flushed or restarted), dispatch waits "
        "until this share of on-duty workers has reported a position, at most presence_ttl_s.")
    ws_close_timeout_s: float = Field(
        5.0, gt=0, description="A socket being closed whose close handshake is not done within this is aborted (RST).")
    ws_send_buffer_bytes: int = Field(
        128 * 1024, ge=4096, description="Per socket: kernel send buffer (SO_SNDBUF) and the write buffer above which "
        "sending waits; bounds what a client that stops reading holds.")
    # Upgrades (docs/operations-upgrades.md).
    migration_lock_timeout_ms: int = Field(
        3000, ge=0, description="A migration waiting this long for a table lock (behind a long query) fails instead "
        "of queueing every request behind it; run it again later. 0: wait forever.")
    shutdown_grace_s: int = Field(
        15, ge=1, description="On SIGTERM (a rolling restart), the longest a web process waits for requests in "
        "flight and closing sockets before cancelling what is left and exiting (uvicorn --timeout-graceful-shutdown).")
    # Backups (docs/operations-backup.md).
    backup_dir: str = Field("var/backups", description="Where `gridcmd backup` keeps base backups (base/) and where "
                            "PostgreSQL's archive_command copies WAL (wal/); on another disk or machine in practice.")
    backup_keep: int = Field(7, ge=1, description="Base backups kept (the oldest kept bounds point-in-time restore); "
                             "older ones and the WAL only they needed are deleted after each backup.")
    redis_max_connections: int = Field(
        100, ge=1, description="Redis connections per process; a caller finding all in use waits for one.")
    redis_pool_timeout_s: float = Field(
        10.0, gt=0, description="Longest wait for a free Redis connection (then an error, not an unbounded queue).")
    # Worker tracks (issue 16 item 5, docs/assessment.md).
    track_writes: bool = Field(
        True, description="Keep every position report as worker track (worker_positions). Off: only the live "
        "position is kept (no replay, no 巡查里程); for the benchmark that compares dispatch with and without.")
    track_flush_interval_s: float = Field(
        1.0, gt=0, description="How often a web process writes the position reports it buffered to "
        "worker_positions (one COPY); what a crash loses is at most this much track.")
    purge_tracks_before_days: int = Field(
        90, ge=1, description="Worker tracks older than this many days are dropped (whole day partitions) by the "
        "scheduler.")
    log_level: str = Field("info", description="Log level.")
    # Operations (docs/operations.md): logs, metrics, HTTPS, personal-data retention.
    log_format: str = Field("json", pattern="^(json|text)$", description="Log lines as one JSON object each "
                            "(json: request id, incident id, redacted) or plain text.")
    log_levels: str = Field("", description="Per-module log levels, e.g. `gridcmd.hub=debug,uvicorn.access=warning` "
                            "(the rest at log_level).")
    metrics_token: str = Field("", description="Bearer token Prometheus sends to GET /metrics. Empty: /metrics "
                               "answers 404 (off).")
    metrics_cache_s: float = Field(5.0, ge=0, description="Figures read from PostgreSQL and Redis for /metrics are "
                                   "reused this long (a scrape never costs more than one set of queries per this).")
    tls_cert_file: str = Field("", description="PEM certificate (chain) `gridcmd serve` serves HTTPS with; empty: "
                               "plain HTTP (behind a TLS proxy, or localhost only).")
    tls_key_file: str = Field("", description="PEM private key of tls_cert_file.")
    ca_dir: str = Field("var/ca", description="Where `gridcmd ca` keeps the local CA (key mode 0600) and issued "
                        "certificates; /ca serves ca.crt from here.")
    retain_reporter_days: int = Field(180, ge=1, description="Reporter phone and name are erased from incidents "
                                      "closed or cancelled this many days ago (PIPL).")
    retain_photos_days: int = Field(365, ge=1, description="Uploaded photos older than this are deleted.")
    retain_tracks_days: int = Field(30, ge=1, description="Positions kept in the event log (arrivals, notes, "
                                    "findings) are coarsened to 100 m after this many days.")
    retention_interval_s: float = Field(3600.0, gt=0, description="How often the scheduler runs the retention job.")
    # Daily facts (issue 16: assessment and statistics of whole days read pre-aggregated, exact rows).
    daily_facts_interval_s: float = Field(60.0, ge=0, description="How often the scheduler folds changed days into "
                                          "the daily facts (0: never; every query then reads the raw rows).")
    daily_facts_days_per_pass: int = Field(31, ge=1, description="Closed days not yet aggregated that one pass "
                                           "computes at most (newest first); touched days are always redone.")

    # Read replica (issue 18, docs/replica.md).
    read_replica_max_lag_s: float = Field(5.0, gt=0, description="A replica further behind the primary than this "
                                          "(docs/replica.md, the lag rule) is not read from: reads go to the primary.")
    read_replica_check_s: float = Field(1.0, gt=0, description="Each process measures the replica's lag at most "
                                        "this often and reuses the verdict in between.")
    read_replica_connect_timeout_s: float = Field(1.0, gt=0, description="Longest wait to reach the replica "
                                                  "(a check, a connection, its first round trip) before reading from "
                                                  "the primary.")
    read_replica_backoff_s: float = Field(5.0, gt=0, description="After the replica failed to answer, reads go to "
                                          "the primary this long before it is tried again.")

    @model_validator(mode="after")
    def _basemap_preset(self) -> Settings:
        # A wrong preset stops the start with a message, rather than showing an empty map later.
        presets = ("", "tianditu", "tianditu-img", "intranet")
        if self.basemap_preset not in presets:
            raise ValueError("GRIDCMD_BASEMAP_PRESET must be one of tianditu, tianditu-img, intranet or empty")
        if self.basemap_preset.startswith("tianditu") and not self.tianditu_tk:
            raise ValueError("GRIDCMD_BASEMAP_PRESET=tianditu needs GRIDCMD_TIANDITU_TK (the 天地图 key)")
        if self.basemap_preset == "intranet" and not self.basemap_url:
            raise ValueError("GRIDCMD_BASEMAP_PRESET=intranet needs GRIDCMD_BASEMAP_URL (an XYZ template)")
        return self

    @model_validator(mode="after")
    def _usable_key(self) -> Settings:
        # Checked (or generated) when the settings are built, so no process can sign with an unsafe key.
        if self.secret_key:
            check_key(self.secret_key, source="GRIDCMD_SECRET_KEY")
        else:
            self.secret_key = installation_key(self.secret_key_file)
        return self

    @cached_property
    def async_database_url(self) -> str:
        """The URL SQLAlchemy's asyncpg dialect wants."""
        return to_driver_url(self.database_url, "asyncpg")

    @cached_property
    def async_database_read_url(self) -> str:
        """The replica's URL for asyncpg ("" when there is none)."""
        return to_driver_url(self.database_read_url, "asyncpg") if self.database_read_url else ""

    @cached_property
    def sync_database_url(self) -> str:
        """The URL for synchronous tools (Alembic, psycopg)."""
        return to_driver_url(self.database_url, "psycopg")


def to_driver_url(url: str, driver: str) -> str:
    """Rewrite any postgres URL to name the given SQLAlchemy driver."""
    for prefix in ("postgresql+asyncpg://", "postgresql+psycopg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return f"postgresql+{driver}://" + url[len(prefix):]
    raise ValueError(f"not a PostgreSQL URL: {url!r}")


def settings_problem(exc: ValidationError) -> str:
    """A settings validation error in a sentence per problem (what a refused start prints)."""
    problems = []
    for error in exc.errors(include_url=False):
        where = ".".join(str(part) for part in error.get("loc", ()))
        message = str(error.get("msg", "")).removeprefix("Value error, ")
        problems.append(f"{where}: {message}" if where else message)
    return "; ".join(problems)
