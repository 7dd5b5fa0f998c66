"""petitions: the 信访 case table and the users' petition duty flag

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07

A new table `petitions` (command/core/models/petitions.py) and a nullable column `users.petition_role` (staff |
leader): adding a nullable column without a default is a catalogue change; its CHECK is added NOT VALID and
validated after, so `users` is never scanned under a write-blocking lock. Nothing on incidents, events or regions.
"""
from alembic import op
import sqlalchemy as sa

revision = '0018'
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('users', sa.Column('petition_role', sa.String(16)))
    op.execute("ALTER TABLE users ADD CONSTRAINT ck_users_petition_role "
               "CHECK (petition_role IN ('staff','leader')) NOT VALID")
    op.execute("ALTER TABLE users VALIDATE CONSTRAINT ck_users_petition_role")
    op.create_table(
        'petitions',
        sa.Column('incident_id', sa.BigInteger(), sa.ForeignKey('incidents.id', ondelete='CASCADE',
                                                             name='fk_petitions_incident_id_incidents'),
                  primary_key=True),
        sa.Column('state', sa.String(16), nullable=False),
        sa.Column('form', sa.String(16), nullable=False),
        sa.Column('registered_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('registered_by', sa.Integer(), sa.ForeignKey('users.id', name='fk_petitions_registered_by_users'),
                  nullable=False),
        sa.Column('notice_due_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('noticed_at', sa.DateTime(timezone=True)),
        sa.Column('notice_text', sa.Text()),
        sa.Column('leader_user_id', sa.Integer(), sa.ForeignKey('users.id',
                                                                name='fk_petitions_leader_user_id_users')),
        sa.Column('leader_assigned_at', sa.DateTime(timezone=True)),
        sa.Column('reply_due_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('extended_at', sa.DateTime(timezone=True)),
        sa.Column('extension_workdays', sa.SmallInteger()),
        sa.Column('extension_reason', sa.Text()),
        sa.Column('replied_at', sa.DateTime(timezone=True)),
        sa.Column('reply_text', sa.Text()),
        sa.Column('replied_by', sa.Integer(), sa.ForeignKey('users.id', name='fk_petitions_replied_by_users')),
        sa.Column('satisfied', sa.Boolean()),
        sa.Column('answered_at', sa.DateTime(timezone=True)),
        sa.Column('review_due_at', sa.DateTime(timezone=True)),
        sa.Column('review_reason', sa.Text()),
        sa.Column('reviewed_at', sa.DateTime(timezone=True)),
        sa.Column('review_text', sa.Text()),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint("state IN ('registered','noticed','replied','reviewing','closed')",
                           name='ck_petitions_state'),
        sa.CheckConstraint("form IN ('visit','letter','phone','online')", name='ck_petitions_form'),
    )
    op.create_index('ix_petitions_leader_user_id', 'petitions', ['leader_user_id'])


def downgrade() -> None:
    op.drop_table('petitions')
    op.execute("ALTER TABLE users DROP CONSTRAINT IF EXISTS ck_users_petition_role")
    op.drop_column('users', 'petition_role')
