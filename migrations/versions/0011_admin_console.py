"""admin console: audit log, working-day calendar overrides, limits in working days, department jurisdiction

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07

Expand-only:
- `audit_log`: every administrative change (who, when, entity, before/after as JSON).
- `calendar_overrides`: local days off / extra working days, per region or installation-wide (region NULL).
- `deadline_rules.limit_workdays`: a limit in China's working days; the check accepts it as the limit.
- `departments.region_codes`: further regions of a department's jurisdiction.
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0011'
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'audit_log',
        sa.Column('id', sa.BigInteger(), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column('actor_id', sa.Integer(), nullable=True),
        sa.Column('actor', sa.String(length=64), nullable=False),
        sa.Column('action', sa.String(length=32), nullable=False),
        sa.Column('entity', sa.String(length=32), nullable=False),
        sa.Column('entity_id', sa.String(length=64), nullable=False),
        sa.Column('region_code', sa.String(length=64), nullable=True),
        sa.Column('before', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column('after', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log')),
    )
    op.create_index('ix_audit_log_entity', 'audit_log', ['entity', 'entity_id'])
    op.create_index('ix_audit_log_at', 'audit_log', ['at'])
    op.create_table(
        'calendar_overrides',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('region_code', sa.String(length=64), nullable=True),
        sa.Column('workday', sa.Boolean(), nullable=False),
        sa.Column('note', sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_calendar_overrides')),
        sa.UniqueConstraint('day', 'region_code', name=op.f('uq_calendar_overrides_day_region_code'),
                            postgresql_nulls_not_distinct=True),
    )
    op.add_column('deadline_rules', sa.Column('limit_workdays', sa.SmallInteger(), nullable=True))
    op.drop_constraint('ck_deadline_rules_limit', 'deadline_rules', type_='check')
    op.create_check_constraint('ck_deadline_rules_limit', 'deadline_rules',
                               'same_day OR limit_s > 0 OR limit_workdays > 0')
    op.add_column('departments', sa.Column('region_codes', postgresql.ARRAY(sa.String(length=64)),
                                           server_default='{}', nullable=False))


def downgrade() -> None:
    op.drop_column('departments', 'region_codes')
    op.drop_constraint('ck_deadline_rules_limit', 'deadline_rules', type_='check')
    op.create_check_constraint('ck_deadline_rules_limit', 'deadline_rules', 'same_day OR limit_s > 0')
    op.drop_column('deadline_rules', 'limit_workdays')
    op.drop_table('calendar_overrides')
    op.drop_index('ix_audit_log_at', table_name='audit_log')
    op.drop_index('ix_audit_log_entity', table_name='audit_log')
    op.drop_table('audit_log')
