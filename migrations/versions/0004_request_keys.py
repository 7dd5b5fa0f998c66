"""request keys: Idempotency-Key of each action, committed with the action

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23

A phone on a flaky network retries an action (accept, note, sign for…) with the key it made when the action
was created; the key row commits in the same transaction as the action, so a retry is recognised exactly when
the first attempt took effect.
"""
from alembic import op
import sqlalchemy as sa

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'request_keys',
        sa.Column('scope', sa.String(length=64), nullable=False),
        sa.Column('key', sa.String(length=128), nullable=False),
        sa.Column('request', sa.String(length=300), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.PrimaryKeyConstraint('scope', 'key', name=op.f('pk_request_keys')),
    )
    op.create_index(op.f('ix_request_keys_created_at'), 'request_keys', ['created_at'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_request_keys_created_at'), table_name='request_keys')
    op.drop_table('request_keys')
