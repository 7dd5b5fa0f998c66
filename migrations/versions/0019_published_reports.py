"""published reports (通报): subscriptions and the generated daily, weekly, half-monthly and monthly reports

Revision ID: 0019
Revises: 0017
Create Date: 2026-12-07

New tables only (command/reports/published.py):
- `report_subscriptions`: a user subscribes to a region's reports of some kinds; the scheduler generates a
  region's reports only while it has subscribers, and pushes each released report to them as a notice.
- `published_reports`: one row per kind, period and region: the figures as generated (JSON), the PDF and XLSX
  (bytea), the supervisor's 研判 text and its state (a half-monthly report is a draft until released).
"""
from alembic import op

revision = '0019'
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        CREATE TABLE report_subscriptions (
            user_id integer NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            region_code varchar(64) NOT NULL,
            kinds varchar(16)[] NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (user_id, region_code)
        )""")
    op.execute("CREATE INDEX ix_report_subscriptions_region ON report_subscriptions (region_code)")
    op.execute("""
        CREATE TABLE published_reports (
            id serial PRIMARY KEY,
            kind varchar(16) NOT NULL CHECK (kind IN ('daily','weekly','half_monthly','monthly')),
            period_start date NOT NULL,
            period_end date NOT NULL,
            region_code varchar(64) NOT NULL,
            status varchar(16) NOT NULL DEFAULT 'draft' CHECK (status IN ('draft','released')),
            figures jsonb NOT NULL,
            analysis text,
            pdf bytea NOT NULL,
            xlsx bytea NOT NULL,
            generated_at timestamptz NOT NULL DEFAULT now(),
            released_at timestamptz,
            released_by integer REFERENCES users(id) ON DELETE SET NULL,
            notice_id integer REFERENCES notices(id) ON DELETE SET NULL,
            CONSTRAINT uq_published_reports_period UNIQUE (kind, period_start, region_code)
        )""")
    op.execute("CREATE INDEX ix_published_reports_region ON published_reports (region_code, period_start)")


def downgrade() -> None:
    op.execute("DROP TABLE published_reports")
    op.execute("DROP TABLE report_subscriptions")
