"""regions: locate's fast path — a partial GiST index over the deepest level, and the chain's names and levels
stored along `path`

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23

locate() answers "the deepest region that holds the point". A micro-grid hit is final (no level is deeper), so it
asks this index first (417,000 of 544,000 regions at province scale) and reads the whole chain from the row it
finds: `path_names` and `path_levels` run parallel to `path`. Only a point that no micro-grid holds takes the
full statement. The depth bound is literal here (4 = micro-grid, geo.models.DEEPEST). Existing rows
get their chains here; the import keeps them afterwards (geo/imports.py).
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Online (docs/operations-upgrades.md): the columns commit before the backfill, so the backfill holds row locks
    # only, and the index is built concurrently. The schema is the same as built in one go.
    ctx = op.get_context()
    with ctx.autocommit_block():
        op.execute("ALTER TABLE regions ADD COLUMN IF NOT EXISTS path_names VARCHAR(200)[] DEFAULT '{}' NOT NULL, "
                   "ADD COLUMN IF NOT EXISTS path_levels VARCHAR(16)[] DEFAULT '{}' NOT NULL")
    op.execute("""
        UPDATE regions r SET path_names = c.names, path_levels = c.levels
        FROM (SELECT r2.id, array_agg(a.name ORDER BY o.i) AS names, array_agg(a.level ORDER BY o.i) AS levels
              FROM regions r2 CROSS JOIN LATERAL unnest(r2.path) WITH ORDINALITY AS o(code, i)
              JOIN regions a ON a.code = o.code
              GROUP BY r2.id HAVING count(*) = cardinality(r2.path)) c
        WHERE r.id = c.id
    """)
    with ctx.autocommit_block():
        op.create_index('ix_regions_geom_deepest', 'regions', ['geom'], unique=False, postgresql_using='gist',
                        postgresql_where=sa.text('depth >= 4'), postgresql_concurrently=True, if_not_exists=True)


def downgrade() -> None:
    op.drop_index('ix_regions_geom_deepest', table_name='regions', postgresql_using='gist',
                  postgresql_where=sa.text('depth >= 4'))
    op.drop_column('regions', 'path_levels')
    op.drop_column('regions', 'path_names')
