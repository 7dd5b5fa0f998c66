"""regions: a partial GiST index over the upper levels (district, street, community) for low-zoom tiles

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23

A zoom-7 tile of a province needs its ~20 districts, but the full geometry index hands back every region in the
tile's box (~335,000 of 544,000 at province scale) to be filtered by level: ~0.5 s a tile. This index holds only
depth <= 2 (~22,000 regions); geo/tiles.py states the depth bound literally so the planner can use it.
"""
from alembic import op
import sqlalchemy as sa

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Built concurrently: writes go on meanwhile (docs/operations-upgrades.md).
    with op.get_context().autocommit_block():
        op.create_index('ix_regions_geom_upper', 'regions', ['geom'], unique=False, postgresql_using='gist',
                        postgresql_where=sa.text('depth <= 2'), postgresql_concurrently=True,
                        if_not_exists=True)


def downgrade() -> None:
    op.drop_index('ix_regions_geom_upper', table_name='regions', postgresql_using='gist',
                  postgresql_where=sa.text('depth <= 2'))
