"""GPS devices and CAP intake: device ids bound to workers, CAP messages, CAP category mapping, incident areas

Revision ID: 0013
Revises: 0010
Create Date: 2026-12-07

- `gps_devices`: a GPS app's device id (OsmAnd / Traccar Client) bound to one grid worker, with the datum its
  coordinates are in (WGS-84 from GPS apps). Issue 17 item 4.
- `cap_messages`: every CAP 1.2 message taken in, unique per (sender, identifier) (CAP's own idempotency key), with
  the incident it made or acted on and the full XML (every language kept). Issue 17 item 3.
- `cap_category_map`: an admin's table from CAP `category` / `event` to a gridcmd category.
- `incidents.area`, `incidents.area_grids`: the alert area a CAP message gave (any geometry, WGS-84) and every grid
  it touches. Both nullable, no default: adding them rewrites nothing.
"""
from alembic import op
import sqlalchemy as sa
from geoalchemy2 import Geometry
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

revision = '0013'
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('incidents', sa.Column('area', Geometry('GEOMETRY', srid=4326, spatial_index=False),
                                         nullable=True))
    op.add_column('incidents', sa.Column('area_grids', ARRAY(sa.String(64)), nullable=True))
    op.create_table(
        'gps_devices',
        sa.Column('device_id', sa.String(64), primary_key=True),
        sa.Column('worker_id', sa.Integer(), sa.ForeignKey('workers.id', ondelete='CASCADE'), nullable=False),
        sa.Column('datum', sa.String(8), nullable=False, server_default='wgs84'),
        sa.Column('bound_by', sa.Integer(), sa.ForeignKey('users.id', ondelete='SET NULL'), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False, server_default=sa.text('now()')),
    )
    op.create_index('ix_gps_devices_worker_id', 'gps_devices', ['worker_id'])
    op.create_table(
        'cap_messages',
        sa.Column('id', sa.BigInteger(), primary_key=True),
        sa.Column('sender', sa.Text(), nullable=False),
        sa.Column('identifier', sa.Text(), nullable=False),
        sa.Column('sent', sa.DateTime(timezone=True), nullable=False),
        sa.Column('status', sa.String(12), nullable=False),
        sa.Column('msg_type', sa.String(8), nullable=False),
        sa.Column('refs', sa.Text(), nullable=True),
        sa.Column('incident_id', sa.BigInteger(), sa.ForeignKey('incidents.id'), nullable=True),
        sa.Column('grids', ARRAY(sa.String(64)), nullable=False, server_default='{}'),
        sa.Column('infos', JSONB(), nullable=False, server_default='[]'),
        sa.Column('xml', sa.Text(), nullable=False),
        sa.Column('received_at', sa.DateTime(timezone=True), nullable=False, server_default=sa.text('now()')),
        sa.UniqueConstraint('sender', 'identifier', name='uq_cap_messages_sender_identifier'),
    )
    op.create_index('ix_cap_messages_incident_id', 'cap_messages', ['incident_id'])
    op.create_table(
        'cap_category_map',
        sa.Column('kind', sa.String(8), primary_key=True),
        sa.Column('value', sa.String(128), primary_key=True),
        sa.Column('category_code', sa.String(64), sa.ForeignKey('categories.code'), nullable=False),
        sa.Column('priority', sa.SmallInteger(), nullable=True),
        sa.CheckConstraint("kind IN ('event', 'category')", name='ck_cap_category_map_kind'),
    )


def downgrade() -> None:
    op.drop_table('cap_category_map')
    op.drop_index('ix_cap_messages_incident_id', table_name='cap_messages')
    op.drop_table('cap_messages')
    op.drop_index('ix_gps_devices_worker_id', table_name='gps_devices')
    op.drop_table('gps_devices')
    op.drop_column('incidents', 'area_grids')
    op.drop_column('incidents', 'area')
