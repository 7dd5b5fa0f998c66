"""daily facts: the assessment's fact columns summed per local day and unit, kept exact by a watermark job

Revision ID: 0020
Revises: 0017
Create Date: 2026-12-07

New tables only (command/reports/daily_facts.py):
- `daily_facts`: per local day (of the incidents' `created_at`) and unit — every region level (grid rows also per
  category) and each department (per street path) — the sums of the fact columns of
  command/reports/assessment_indices.py;
- `daily_facts_days`: the days computed and the time zone they were cut in;
- `daily_facts_state`: the event-log watermark (a txid) the job has folded in.
"""
from alembic import op

revision = '0020'
down_revision = "0018"
branch_labels = None
depends_on = None

_INT_COLUMNS = ("received", "sign_due", "signed", "signed_on_time", "resolved", "resolved_on_time", "reworked",
                "disposed", "overdue", "closed", "rated", "satisfied", "callback_due", "supervisions")


def upgrade() -> None:
    cols = ",\n".join(f"            {c} integer NOT NULL DEFAULT 0" for c in _INT_COLUMNS)
    op.execute(f"""
        CREATE TABLE daily_facts (
            day date NOT NULL,
            level varchar(16) NOT NULL,
            unit varchar(64) NOT NULL,
            path varchar(64)[] NOT NULL,
            category_code varchar(64) NOT NULL DEFAULT '',
{cols}
        )""")
    # Reads: one level over a run of days, optionally within a region at depth 1..3 (path[n] = the scope).
    op.execute("CREATE INDEX ix_daily_facts_level_day ON daily_facts (level, day)")
    for n in (1, 2, 3):
        op.execute(f"CREATE INDEX ix_daily_facts_level_path{n}_day ON daily_facts (level, (path[{n}]), day)")
    op.execute("""
        CREATE TABLE daily_facts_days (
            day date PRIMARY KEY,
            tz varchar(64) NOT NULL,
            computed_at timestamptz NOT NULL DEFAULT now()
        )""")
    op.execute("""
        CREATE TABLE daily_facts_state (
            id integer PRIMARY KEY CHECK (id = 1),
            watermark bigint NOT NULL,
            tz varchar(64) NOT NULL,
            updated_at timestamptz NOT NULL DEFAULT now()
        )""")


def downgrade() -> None:
    op.execute("DROP TABLE daily_facts_state")
    op.execute("DROP TABLE daily_facts_days")
    op.execute("DROP TABLE daily_facts")
