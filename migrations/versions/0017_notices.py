"""notices: notices with read receipts, duty roster, shift handovers; the service catalogue

Revision ID: 0017
Revises: 0012
Create Date: 2026-12-07

New tables only (command/core/models/comms.py): `notices`, `notice_recipients`, `duty_shifts`, `handovers`;
`service_items` (command/core/models/catalogue.py).
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0017'
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'notices',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('title', sa.String(200), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('priority', sa.SmallInteger(), nullable=False),
        sa.Column('sender_user_id', sa.Integer(), sa.ForeignKey('users.id', name='fk_notices_sender_user_id_users'),
                  nullable=False),
        sa.Column('sender_name', sa.String(100), nullable=False),
        sa.Column('region_path', postgresql.ARRAY(sa.String(64)), nullable=False),
        sa.Column('targets', postgresql.JSONB(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint('priority BETWEEN 1 AND 4', name='ck_notices_priority'),
    )
    op.create_index('ix_notices_sender_user_id', 'notices', ['sender_user_id'])
    op.create_table(
        'notice_recipients',
        sa.Column('notice_id', sa.Integer(), sa.ForeignKey('notices.id', ondelete='CASCADE',
                                                           name='fk_notice_recipients_notice_id_notices'),
                  primary_key=True),
        sa.Column('user_id', sa.Integer(), sa.ForeignKey('users.id', name='fk_notice_recipients_user_id_users'),
                  primary_key=True),
        sa.Column('worker_id', sa.Integer()),
        sa.Column('department_code', sa.String(64)),
        sa.Column('read_at', sa.DateTime(timezone=True)),
    )
    op.create_index('ix_notice_recipients_user_id', 'notice_recipients', ['user_id'])
    op.create_table(
        'duty_shifts',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('region_code', sa.String(64)),
        sa.Column('user_id', sa.Integer(), sa.ForeignKey('users.id', name='fk_duty_shifts_user_id_users'),
                  nullable=False),
        sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('created_by', sa.Integer(), sa.ForeignKey('users.id', name='fk_duty_shifts_created_by_users'),
                  nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint('ends_at > starts_at', name='ck_duty_shifts_ends_after_start'),
    )
    op.create_index('ix_duty_shifts_region_code', 'duty_shifts', ['region_code'])
    op.create_index('ix_duty_shifts_user_id', 'duty_shifts', ['user_id'])
    op.create_index('ix_duty_shifts_starts_at', 'duty_shifts', ['starts_at'])
    op.create_table(
        'handovers',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('region_code', sa.String(64)),
        sa.Column('from_user_id', sa.Integer(), sa.ForeignKey('users.id', name='fk_handovers_from_user_id_users'),
                  nullable=False),
        sa.Column('to_user_id', sa.Integer(), sa.ForeignKey('users.id', name='fk_handovers_to_user_id_users')),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column('signed_by', sa.Integer(), sa.ForeignKey('users.id', name='fk_handovers_signed_by_users')),
        sa.Column('signed_at', sa.DateTime(timezone=True)),
        sa.Column('sign_note', sa.Text()),
    )
    op.create_index('ix_handovers_region_code', 'handovers', ['region_code'])


    op.create_table(
        'service_items',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('code', sa.String(32), nullable=False),
        sa.Column('name', sa.String(200), nullable=False),
        sa.Column('group_name', sa.String(32), nullable=False),
        sa.Column('department', sa.String(100), nullable=False),
        sa.Column('category_code', sa.String(64)),
        sa.Column('level', sa.String(16), nullable=False),
        sa.Column('item_type', sa.String(16), nullable=False),
        sa.Column('conditions', sa.Text(), nullable=False),
        sa.Column('materials', postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column('office', sa.String(200), nullable=False),
        sa.Column('address', sa.String(300), nullable=False),
        sa.Column('hours', sa.String(100), nullable=False),
        sa.Column('time_limit_days', sa.SmallInteger()),
        sa.Column('phone', sa.String(32), nullable=False),
        sa.Column('online', sa.Boolean(), nullable=False),
        sa.Column('offline', sa.Boolean(), nullable=False),
        sa.Column('active', sa.Boolean(), server_default='true', nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.UniqueConstraint('code', name='uq_service_items_code'),
        sa.CheckConstraint("level IN ('community','street','district')", name='ck_service_items_level'),
        sa.CheckConstraint("item_type IN ('immediate','promise','joint','answer')", name='ck_service_items_item_type'),
    )
    op.create_index('ix_service_items_group_name', 'service_items', ['group_name'])


def downgrade() -> None:
    for table in ('service_items', 'handovers', 'duty_shifts', 'notice_recipients', 'notices'):
        op.drop_table(table)
