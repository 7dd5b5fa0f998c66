"""deadlines: partial indexes of what the scheduler still has to fire

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07

The scheduler's three claims (command/deadlines/scheduler.py: reminders, overdue, escalations) and the
scheduler-lag metric (command/ops/metrics_state.py) ask for the oldest deadline of a stage that has not fired. On the
plain indexes of 0002 (remind_at, due_at, next_escalation_at) that is a scan from the oldest entry through every
deadline that already fired, i.e. the whole history, on every 5 s tick and every scrape. These indexes hold only the
rows still pending, a set bounded by the open work. Built CONCURRENTLY, outside the migration's transaction: writes
to deadlines go on meanwhile.
"""
from alembic import op

revision = '0023'
down_revision = "0022"
branch_labels = None
depends_on = None

INDEXES = {
    "ix_deadlines_remind_pending": "(remind_at) WHERE met_at IS NULL AND reminded_at IS NULL",
    "ix_deadlines_due_pending": "(due_at) WHERE met_at IS NULL AND overdue_at IS NULL",
    "ix_deadlines_escalation_pending": "(next_escalation_at) WHERE met_at IS NULL AND next_escalation_at IS NOT NULL",
}


def upgrade() -> None:
    with op.get_context().autocommit_block():
        for name, definition in INDEXES.items():
            op.execute(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON deadlines {definition}")


def downgrade() -> None:
    with op.get_context().autocommit_block():
        for name in INDEXES:
            op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
