"""scoped keys and uploads: external ids per sender, upload → incident, action keys remember their body

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06

- `incidents.external_scope`: whose id space an `external_id` belongs to (the sender: "u<user id>", or "12345"
  for the 12345 platform link). Unique per (channel, scope, id) instead of (channel, id), so one sender's id can
  neither replay nor conflict with another's report. Existing rows: their creator's scope ("12345" for hotline
  work orders without a creator). `idempotency_key` holds "<scope>:<key>" (a 128-character key plus its scope):
  200 characters.
- The 12345 outbox trigger reports only the link's own work orders (scope "12345"), not any hotline-channel
  incident that happens to carry an external id.
- `uploads.incident_id`: the incident a photo was attached to, which decides who may read it (its uploader
  and whoever sees that incident). Existing attachments are read back from the events that carry photos.
- `request_keys.body_sha256`: the body an action's Idempotency-Key was first used with; the same key with
  another body is a conflict, not a replay.
"""
from alembic import op
import sqlalchemy as sa

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

_BATCH = 5000

_TRIGGER_FN = """
CREATE OR REPLACE FUNCTION gridcmd_hotline_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    ext text;
    pub uuid;
BEGIN
    SELECT i.external_id, i.public_id INTO ext, pub FROM incidents i
     WHERE i.id = NEW.incident_id AND i.channel = 'hotline' AND i.external_id IS NOT NULL{scope};
    IF ext IS NOT NULL THEN
        INSERT INTO hotline_outbox (event_id, incident_id, external_id, payload)
        VALUES (NEW.id, NEW.incident_id, ext, jsonb_build_object(
            'event_id', NEW.id, 'work_order_id', ext, 'incident_public_id', pub, 'kind', NEW.kind,
            'from', NEW.from_state, 'to', NEW.to_state, 'reason', NEW.reason, 'at', NEW.created_at));
    END IF;
    RETURN NULL;
END
$$
"""


def upgrade() -> None:
    # Online (docs/operations-upgrades.md): each step on incidents commits on its own, so no lock that blocks
    # reads or writes is held across the backfill or an index build. The schema is the same as built in one go.
    ctx = op.get_context()
    with ctx.autocommit_block():
        op.execute("ALTER TABLE incidents ADD COLUMN IF NOT EXISTS external_scope VARCHAR(64) DEFAULT '' NOT NULL")
    bind = op.get_bind()
    low, high = bind.execute(sa.text("SELECT min(id), max(id) FROM incidents")).one()
    with ctx.autocommit_block():
        # In batches of ids, each its own transaction: rows stay locked for one batch, not the whole backfill.
        for start in range(low or 0, (high or -1) + 1, _BATCH):
            bind.execute(sa.text("""
                UPDATE incidents SET external_scope = CASE WHEN created_by IS NOT NULL THEN 'u' || created_by
                                                           WHEN channel = 'hotline' THEN '12345' ELSE '' END
                 WHERE external_id IS NOT NULL AND id BETWEEN :lo AND :hi
            """), {"lo": start, "hi": start + _BATCH - 1})
        op.execute("CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS uq_incidents_channel_external_scope_external_id"
                   " ON incidents (channel, external_scope, external_id)")
        # One statement, so the old constraint never goes without the new one; the index is already built.
        op.execute("ALTER TABLE incidents DROP CONSTRAINT IF EXISTS uq_incidents_channel_external_id, "
                   "ADD CONSTRAINT uq_incidents_channel_external_scope_external_id "
                   "UNIQUE USING INDEX uq_incidents_channel_external_scope_external_id")
        # A longer varchar is binary-compatible: no rewrite, no index rebuild, a brief lock.
        op.alter_column('incidents', 'idempotency_key', type_=sa.String(length=200), existing_nullable=True)
    op.execute(_TRIGGER_FN.format(scope=" AND i.external_scope = '12345'"))

    op.add_column('uploads', sa.Column('incident_id', sa.BigInteger(), nullable=True))
    op.create_foreign_key(op.f('fk_uploads_incident_id_incidents'), 'uploads', 'incidents', ['incident_id'], ['id'],
                          ondelete='SET NULL')
    op.create_index(op.f('ix_uploads_incident_id'), 'uploads', ['incident_id'], unique=False)
    op.execute("""
        UPDATE uploads u SET incident_id = a.incident_id
          FROM (SELECT DISTINCT ON (p.photo) p.photo, e.incident_id
                  FROM events e CROSS JOIN LATERAL jsonb_array_elements_text(e.payload -> 'photos') AS p(photo)
                 WHERE e.incident_id IS NOT NULL AND jsonb_typeof(e.payload -> 'photos') = 'array'
                   AND p.photo ~ '^[0-9a-f-]{36}$'
                 ORDER BY p.photo, e.id) a
         WHERE u.id = CAST(a.photo AS uuid)
    """)

    op.add_column('request_keys', sa.Column('body_sha256', sa.String(length=64), nullable=True))


def downgrade() -> None:
    op.drop_column('request_keys', 'body_sha256')
    op.drop_index(op.f('ix_uploads_incident_id'), table_name='uploads')
    op.drop_constraint(op.f('fk_uploads_incident_id_incidents'), 'uploads', type_='foreignkey')
    op.drop_column('uploads', 'incident_id')
    op.execute(_TRIGGER_FN.format(scope=""))
    op.alter_column('incidents', 'idempotency_key', type_=sa.String(length=128), existing_nullable=True)
    op.drop_constraint(op.f('uq_incidents_channel_external_scope_external_id'), 'incidents', type_='unique')
    op.create_unique_constraint('uq_incidents_channel_external_id', 'incidents', ['channel', 'external_id'])
    op.drop_column('incidents', 'external_scope')
