"""event txid: the writing transaction's id on every event, for the stream relay

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23

`events.txid` is pg_current_xact_id() of the transaction that appended the event. Event ids (bigserial) are
handed out at insert but become visible at commit, so they can appear out of order; transaction ids, compared
with the snapshot's xmin, tell the relay exactly which events can still appear (see command/relay.py).
"""
from alembic import op
import sqlalchemy as sa

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('events', sa.Column('txid', sa.BigInteger(),
                                      server_default=sa.text('(pg_current_xact_id())::text::bigint'), nullable=False))
    op.create_index(op.f('ix_events_txid'), 'events', ['txid'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_events_txid'), table_name='events')
    op.drop_column('events', 'txid')
