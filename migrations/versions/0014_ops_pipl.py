"""ops and PIPL: personal-data retention and erasure, the reporter-phone access log

Revision ID: 0014
Revises: 0010
Create Date: 2026-12-07

Expand-only (new nullable columns, new tables):
- `incidents.reporter_erased_at`: when the reporter's name and phone were erased (retention or a request).
- `uploads.erased_at`: the photo's file was deleted; the row stays (events name it by id).
- `reporter_views`: who read a reporter's name and phone, when, through what.
- `erasures`: what each erasure removed (the resident named by a keyed hash only).
- A partial index finds what retention still has to erase without reading every incident.
"""
from alembic import op
import sqlalchemy as sa

revision = '0014'
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('incidents', sa.Column('reporter_erased_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('uploads', sa.Column('erased_at', sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        'reporter_views',
        sa.Column('id', sa.BigInteger(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('username', sa.String(length=100), nullable=False),
        sa.Column('role', sa.String(length=16), nullable=False),
        sa.Column('incident_id', sa.BigInteger(), nullable=False),
        sa.Column('via', sa.String(length=48), nullable=False),
        sa.Column('request_id', sa.String(length=64), nullable=True),
        sa.Column('viewed_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_reporter_views_user_id_users'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_reporter_views_incident_id_incidents'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_reporter_views')),
    )
    op.create_index(op.f('ix_reporter_views_user_id'), 'reporter_views', ['user_id'], unique=False)
    op.create_index(op.f('ix_reporter_views_incident_id'), 'reporter_views', ['incident_id'], unique=False)
    op.create_index(op.f('ix_reporter_views_viewed_at'), 'reporter_views', ['viewed_at'], unique=False)
    op.create_table(
        'erasures',
        sa.Column('id', sa.BigInteger(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('subject_hash', sa.String(length=64), nullable=True),
        sa.Column('requested_by', sa.Integer(), nullable=True),
        sa.Column('incidents', sa.Integer(), server_default='0', nullable=False),
        sa.Column('events', sa.Integer(), server_default='0', nullable=False),
        sa.Column('photos', sa.Integer(), server_default='0', nullable=False),
        sa.Column('positions', sa.Integer(), server_default='0', nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.CheckConstraint("kind IN ('resident','retention')", name=op.f('ck_erasures_kind')),
        sa.ForeignKeyConstraint(['requested_by'], ['users.id'], name=op.f('fk_erasures_requested_by_users'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_erasures')),
    )
    # On a big incidents table: built without blocking writes (outside the migration's transaction).
    with op.get_context().autocommit_block():
        op.execute("CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_incidents_reporter_pending ON incidents (updated_at) "
                   "WHERE reporter_erased_at IS NULL AND (reporter_phone IS NOT NULL OR reporter_name IS NOT NULL)")


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_incidents_reporter_pending")
    op.drop_table('erasures')
    op.drop_table('reporter_views')
    op.drop_column('uploads', 'erased_at')
    op.drop_column('incidents', 'reporter_erased_at')
