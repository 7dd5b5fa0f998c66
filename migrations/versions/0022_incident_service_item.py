"""incidents.service_item_code: the catalogue item (服务事项) a request was filed from

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07

Nullable, no default, no foreign key: ADD COLUMN without a default rewrites nothing and takes its ACCESS EXCLUSIVE
lock only for the catalogue change (bounded by migration_lock_timeout_ms); a foreign key would also validate every
incident under a lock. Catalogue items are withdrawn, never deleted (docs/catalogue.md), so a code stays valid;
intake checks it against the active items (command/intake/service_items.py).
"""
from alembic import op

revision = '0022'
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE incidents ADD COLUMN service_item_code varchar(32)")


def downgrade() -> None:
    op.execute("ALTER TABLE incidents DROP COLUMN service_item_code")
