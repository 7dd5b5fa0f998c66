"""routing_rules.priority: the priority an alert takes in the rule's region when its sender gives none

Revision ID: 0021
Revises: 0019
Create Date: 2026-12-08

Nullable, no default: NULL keeps the category's default_priority (command/intake/intake.py). Metadata-only: ADD
COLUMN without a default rewrites nothing, and the check, added in the same statement, has only the few rules of a
small reference table to scan; the ALTER's lock is held for that moment (and waited for no longer than
migration_lock_timeout_ms). Intake reads the table through command.core.refdata's cache.
"""
from alembic import op

revision = '0021'
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE routing_rules ADD COLUMN priority smallint "
               "CONSTRAINT ck_routing_rules_priority CHECK (priority BETWEEN 1 AND 4)")


def downgrade() -> None:
    op.execute("ALTER TABLE routing_rules DROP COLUMN priority")
