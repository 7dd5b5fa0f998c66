"""One typed settings object, built from the environment and passed in (never read at import)."""

from __future__ import annotations

from functools import cached_property

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Configuration. `DATABASE_URL` and `REDIS_URL` are read bare; the rest carry the `GRIDCMD_` prefix."""

    model_config = SettingsConfigDict(env_prefix="GRIDCMD_", extra="ignore")

    database_url: str = Field(
        "postgresql://postgres@127.0.0.1:5432/gridcmd",
        validation_alias=AliasChoices("DATABASE_URL", "GRIDCMD_DATABASE_URL"),
        description="PostgreSQL (with PostGIS) connection URL.",
    )
    redis_url: str = Field(
        "redis://127.0.0.1:6379/0",
        validation_alias=AliasChoices("REDIS_URL", "GRIDCMD_REDIS_URL"),
        description="Redis connection URL.",
    )
    secret_key: str = Field(
        "dev-insecure-key-change-me-in-production-0123456789", description="Key that signs access tokens."
    )
    token_ttl_s: int = Field(12 * 3600, description="Access token lifetime in seconds.")
    locate_tolerance_m: float = Field(200.0, description="Outside every region: nearest region within this.")
    presence_ttl_s: int = Field(120, description="A worker with no position report for this long is away.")
    ack_timeout_s: int = Field(60, description="Default time a worker has to accept an order.")
    max_dispatch_attempts: int = Field(3, description="Failed offers before operators are alerted.")
    sweeper_interval_s: float = Field(5.0, description="How often the sweeper re-drives half-done work.")
    # Dispatch core (docs/dispatch.md).
    sweeper_grace_s: float = Field(3.0, description="Age before the sweeper re-drives a stuck incident or offer.")
    claim_pending_ttl_s: float = Field(15.0, description="A load change not confirmed this long → reconcile loads.")
    ack_poll_interval_s: float = Field(0.25, description="Longest sleep of the ack timeout worker.")
    live_lock_timeout_s: float = Field(10.0, description="Longest wait of a rebuild/reconcile for in-flight work.")
    dispatch_background: bool = Field(True, description="Run the sweeper and ack timers inside each web process.")
    max_body_bytes: int = Field(1_000_000, description="Largest accepted JSON request body.")
    max_upload_bytes: int = Field(8_000_000, description="Largest accepted photo upload.")
    upload_dir: str = Field("var/uploads", description="Where uploaded photos are stored.")
    basemap_url: str = Field("", description="Optional raster tile URL template for the base map (intranet/天地图).")
    basemap_crs: str = Field("wgs84", description="Datum of the base map's tiles (wgs84, gcj02, bd09): a pin "
                             "a resident drops on it is sent in it and converted by the intake.")
    resident_rate_per_min: int = Field(20, description="Resident requests allowed per client address a minute.")
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
    # Event stream and WebSocket push (docs/realtime.md).
    event_stream_maxlen: int = Field(250_000, description="Stream entries kept (approximate; ~a busy city's day).")
    relay_interval_s: float = Field(1.0, description="How often a web process re-publishes events the stream lacks.")
    relay_rebuild_window_s: int = Field(120, description="After a Redis flush: re-publish events this recent.")
    ws_max_frame_bytes: int = Field(64 * 1024, description="Largest client WebSocket frame (larger: close 1009).")
    ws_queue_size: int = Field(512, description="Frames queued for one socket before it is closed (4000: resume).")
    ws_ping_interval_s: float = Field(20.0, description="Server ping every this; no frame for 2x this: close 4408.")
    ws_auth_timeout_s: float = Field(5.0, description="Time a socket has to send its auth frame.")
    db_pool_size: int = Field(10, description="Database connections per process (a fixed pool, no overflow).")
    db_pool_timeout_s: float = Field(30.0, description="Longest wait for a free pooled connection (then an error).")
    redis_max_connections: int = Field(
        100, ge=1, description="Redis connections per process; a caller finding all in use waits for one.")
    redis_pool_timeout_s: float = Field(
        10.0, gt=0, description="Longest wait for a free Redis connection (then an error, not an unbounded queue).")
    log_level: str = Field("info", description="Log level.")

    @cached_property
    def async_database_url(self) -> str:
        """The URL SQLAlchemy's asyncpg dialect wants."""
        return to_driver_url(self.database_url, "asyncpg")

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
