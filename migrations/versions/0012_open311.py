"""open311: client applications and their requests; hotline platform mappings

Revision ID: 0012
Revises: 0010
Create Date: 2026-12-07

- `open311_clients`: an application allowed to POST Open311 requests (api_key kept as its SHA-256), with its own
  rate limit.
- `open311_requests`: the Open311 side of an incident filed through /open311/v2 (token, address, contact,
  attributes). New tables only; incidents are not touched.
- `platform_mappings`: a hotline platform's wire format as data (docs/interop.md). The outbox trigger now also
  reports the work orders of a mapped platform (incidents.external_scope "p:<platform>"), with the platform named
  in the payload; the 12345 link's reports are unchanged.
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0012'
down_revision = '0010'
branch_labels = None
depends_on = None


_TRIGGER_FN = """
CREATE OR REPLACE FUNCTION gridcmd_hotline_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    ext text;
    pub uuid;
    scope text;
BEGIN
    SELECT i.external_id, i.public_id, i.external_scope INTO ext, pub, scope FROM incidents i
     WHERE i.id = NEW.incident_id AND i.channel = 'hotline' AND i.external_id IS NOT NULL{scope};
    IF ext IS NOT NULL THEN
        INSERT INTO hotline_outbox (event_id, incident_id, external_id, payload)
        VALUES (NEW.id, NEW.incident_id, ext, jsonb_build_object(
            'event_id', NEW.id, 'work_order_id', ext, 'incident_public_id', pub, 'kind', NEW.kind,
            'from', NEW.from_state, 'to', NEW.to_state, 'reason', NEW.reason, 'at', NEW.created_at){platform});
    END IF;
    RETURN NULL;
END
$$
"""
_MAPPED = (" AND (i.external_scope = '12345' OR (i.external_scope LIKE 'p:%' AND EXISTS ("
           "SELECT 1 FROM platform_mappings m WHERE m.platform = substr(i.external_scope, 3))))")
_PLATFORM = (" || CASE WHEN scope = '12345' THEN '{}'::jsonb"
             " ELSE jsonb_build_object('platform', substr(scope, 3)) END")


def upgrade() -> None:
    op.create_table(
        'open311_clients',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('name', sa.String(100), nullable=False),
        sa.Column('key_sha256', sa.String(64), nullable=False),
        sa.Column('key_prefix', sa.String(12), nullable=False),
        sa.Column('rate_per_min', sa.Integer(), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False, server_default='true'),
        sa.Column('created_by', sa.Integer(), sa.ForeignKey('users.id', ondelete='SET NULL'), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.UniqueConstraint('name', name=op.f('uq_open311_clients_name')),
        sa.UniqueConstraint('key_sha256', name=op.f('uq_open311_clients_key_sha256')),
    )
    op.create_table(
        'open311_requests',
        sa.Column('incident_id', sa.BigInteger(), sa.ForeignKey('incidents.id', ondelete='CASCADE'),
                  primary_key=True),
        sa.Column('client_id', sa.Integer(), sa.ForeignKey('open311_clients.id', ondelete='CASCADE'),
                  nullable=False, index=True),
        sa.Column('token', sa.String(64), nullable=False),
        sa.Column('jurisdiction_id', sa.String(64), nullable=True),
        sa.Column('address_string', sa.Text(), nullable=True),
        sa.Column('address_id', sa.String(128), nullable=True),
        sa.Column('zipcode', sa.String(32), nullable=True),
        sa.Column('email', sa.String(254), nullable=True),
        sa.Column('device_id', sa.String(128), nullable=True),
        sa.Column('account_id', sa.String(128), nullable=True),
        sa.Column('media_url', sa.Text(), nullable=True),
        sa.Column('attributes', postgresql.JSONB(), nullable=False, server_default='{}'),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.UniqueConstraint('token', name=op.f('uq_open311_requests_token')),
    )
    op.create_index('ix_open311_requests_created_at', 'open311_requests', ['created_at'])
    op.create_table(
        'platform_mappings',
        sa.Column('platform', sa.String(32), primary_key=True),
        sa.Column('mapping', postgresql.JSONB(), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.execute(_TRIGGER_FN.format(scope=_MAPPED, platform=_PLATFORM))


def downgrade() -> None:
    op.execute(_TRIGGER_FN.format(scope=" AND i.external_scope = '12345'", platform=""))
    op.drop_table('platform_mappings')
    op.drop_index('ix_open311_requests_created_at', table_name='open311_requests')
    op.drop_table('open311_requests')
    op.drop_table('open311_clients')
