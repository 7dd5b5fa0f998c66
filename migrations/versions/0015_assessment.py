"""assessment (考核): scheme versions, published period results, worker position tracks

Revision ID: 0015
Revises: 0010
Create Date: 2026-12-07

- `assessment_schemes`: one row per version of a unit level's scheme (indices with weight and direction, as
  JSON); a version is never updated, a new one is inserted with its `effective_from`, so a past period is always
  scored by the version in force on its first day (command/reports/assessment_schemes.py).
- `assessment_results`: the published (closed-period) figures and scores of a level, period and scope, stored
  as computed then, so a later scheme change or a rule change does not alter them.
- `worker_positions`: every position report of a worker (巡查轨迹), range-partitioned by day on `ts` (a default
  partition takes what has no day partition yet); feeds 在岗时长 and 巡查里程.
"""
from alembic import op

revision = '0015'
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        CREATE TABLE assessment_schemes (
            id serial PRIMARY KEY,
            level varchar(16) NOT NULL CHECK (level IN ('district','street','community','grid','department','worker')),
            name varchar(100) NOT NULL,
            effective_from date NOT NULL,
            indices jsonb NOT NULL,
            note text,
            created_by integer REFERENCES users(id) ON DELETE SET NULL,
            created_at timestamptz NOT NULL DEFAULT now()
        )""")
    op.execute("CREATE INDEX ix_assessment_schemes_level_from ON assessment_schemes (level, effective_from, id)")
    op.execute("""
        CREATE TABLE assessment_results (
            id serial PRIMARY KEY,
            level varchar(16) NOT NULL,
            period_kind varchar(16) NOT NULL,
            period_start date NOT NULL,
            period_end date NOT NULL,
            scope_code varchar(64) NOT NULL DEFAULT '',
            scheme_id integer REFERENCES assessment_schemes(id) ON DELETE RESTRICT,
            scheme jsonb NOT NULL,
            rows jsonb NOT NULL,
            published_by integer REFERENCES users(id) ON DELETE SET NULL,
            published_at timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT uq_assessment_results_period UNIQUE (level, period_start, period_end, scope_code)
        )""")
    op.execute("""
        CREATE TABLE worker_positions (
            worker_id integer NOT NULL,
            ts timestamptz NOT NULL,
            lon double precision NOT NULL,
            lat double precision NOT NULL
        ) PARTITION BY RANGE (ts)""")
    op.execute("CREATE TABLE worker_positions_default PARTITION OF worker_positions DEFAULT")
    op.execute("CREATE INDEX ix_worker_positions_worker_ts ON worker_positions (worker_id, ts)")


def downgrade() -> None:
    op.execute("DROP TABLE worker_positions")
    op.execute("DROP TABLE assessment_results")
    op.execute("DROP TABLE assessment_schemes")
