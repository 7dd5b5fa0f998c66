"""event txid: the writing transaction's id on every event, for the stream relay

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23

`events.txid` is pg_current_xact_id() of the transaction that appended the event. Event ids (bigserial) are
handed out at insert but become visible at commit, so they can appear out of order; transaction ids, compared
with the snapshot's xmin, tell the relay exactly which events can still appear (see command/realtime/relay.py).
"""
from alembic import op
import sqlalchemy as sa

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

_TXID = "(pg_current_xact_id())::text::bigint"


def upgrade() -> None:
    # Online (docs/operations-upgrades.md). ADD COLUMN with this volatile default would rewrite the whole event log
    # under an ACCESS EXCLUSIVE lock; instead: a nullable column (metadata only) whose default applies to new rows,
    # existing rows filled with this transaction's id (what the one-step form gave them), NOT NULL proven by a
    # constraint validated without blocking writes, and the index built concurrently. Same schema in the end.
    ctx = op.get_context()
    with ctx.autocommit_block():
        op.execute("ALTER TABLE events ADD COLUMN IF NOT EXISTS txid BIGINT")
        op.execute(f"ALTER TABLE events ALTER COLUMN txid SET DEFAULT {_TXID}")
    op.execute(f"UPDATE events SET txid = {_TXID} WHERE txid IS NULL")
    with ctx.autocommit_block():
        op.execute("ALTER TABLE events DROP CONSTRAINT IF EXISTS ck_events_txid_not_null")
        op.execute("ALTER TABLE events ADD CONSTRAINT ck_events_txid_not_null CHECK (txid IS NOT NULL) NOT VALID")
        op.execute("ALTER TABLE events VALIDATE CONSTRAINT ck_events_txid_not_null")
        op.execute("ALTER TABLE events ALTER COLUMN txid SET NOT NULL")  # the valid check spares the scan
        op.execute("ALTER TABLE events DROP CONSTRAINT ck_events_txid_not_null")
        op.create_index(op.f('ix_events_txid'), 'events', ['txid'], unique=False, postgresql_concurrently=True,
                        if_not_exists=True)


def downgrade() -> None:
    op.drop_index(op.f('ix_events_txid'), table_name='events')
    op.drop_column('events', 'txid')
