"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-23

The PostGIS extension and the whole schema.
"""
from alembic import op
import sqlalchemy as sa
import geoalchemy2
from sqlalchemy.dialects import postgresql

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.create_table('categories',
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name_zh', sa.String(length=100), nullable=False),
    sa.Column('name_en', sa.String(length=100), nullable=False),
    sa.Column('group', sa.String(length=16), nullable=False),
    sa.Column('default_priority', sa.SmallInteger(), nullable=False),
    sa.Column('item_type', sa.String(length=16), nullable=False),
    sa.Column('active', sa.Boolean(), server_default='true', nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_categories'))
    )
    op.create_table('departments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('region_code', sa.String(length=64), nullable=False),
    sa.Column('phone', sa.String(length=32), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_departments')),
    sa.UniqueConstraint('code', name=op.f('uq_departments_code'))
    )
    op.create_index(op.f('ix_departments_kind'), 'departments', ['kind'], unique=False)
    op.create_index(op.f('ix_departments_region_code'), 'departments', ['region_code'], unique=False)
    op.create_table('regions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('level', sa.String(length=16), nullable=False),
    sa.Column('depth', sa.SmallInteger(), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('path', sa.ARRAY(sa.String(length=64)), nullable=False),
    sa.Column('geom', geoalchemy2.types.Geometry(geometry_type='MULTIPOLYGON', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('properties', postgresql.JSONB(astext_type=sa.Text()), server_default='{}', nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("level IN ('district','street','community','grid','microgrid')", name=op.f('ck_regions_level')),
    sa.ForeignKeyConstraint(['parent_id'], ['regions.id'], name=op.f('fk_regions_parent_id_regions'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_regions')),
    sa.UniqueConstraint('code', name=op.f('uq_regions_code'))
    )
    op.create_index('ix_regions_geom', 'regions', ['geom'], unique=False, postgresql_using='gist')
    op.create_index(op.f('ix_regions_parent_id'), 'regions', ['parent_id'], unique=False)
    op.create_index('ix_regions_path', 'regions', ['path'], unique=False, postgresql_using='gin')
    op.create_table('resource_points',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('region_code', sa.String(length=64), nullable=True),
    sa.Column('geom', geoalchemy2.types.Geometry(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('properties', postgresql.JSONB(astext_type=sa.Text()), server_default='{}', nullable=False),
    sa.CheckConstraint("kind IN ('hydrant','shelter','aed','hospital','police_station','camera')", name=op.f('ck_resource_points_kind')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_resource_points'))
    )
    op.create_index('ix_resource_points_geom', 'resource_points', ['geom'], unique=False, postgresql_using='gist')
    op.create_index(op.f('ix_resource_points_kind'), 'resource_points', ['kind'], unique=False)
    op.create_index(op.f('ix_resource_points_region_code'), 'resource_points', ['region_code'], unique=False)
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('display_name', sa.String(length=100), nullable=False),
    sa.Column('phone', sa.String(length=32), nullable=True),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('region_code', sa.String(length=64), nullable=True),
    sa.Column('department_code', sa.String(length=64), nullable=True),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('active', sa.Boolean(), server_default='true', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("role IN ('admin','supervisor','operator','worker','liaison')", name=op.f('ck_users_role')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('username', name=op.f('uq_users_username'))
    )
    op.create_table('incidents',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('public_id', sa.Uuid(), nullable=False),
    sa.Column('category_code', sa.String(length=64), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('priority', sa.SmallInteger(), nullable=False),
    sa.Column('item_type', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=24), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('lon', sa.Float(), nullable=False),
    sa.Column('lat', sa.Float(), nullable=False),
    sa.Column('geom', geoalchemy2.types.Geometry(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('region_code', sa.String(length=64), nullable=True),
    sa.Column('region_path', sa.ARRAY(sa.String(length=64)), nullable=False),
    sa.Column('reporter_name', sa.String(length=100), nullable=True),
    sa.Column('reporter_phone', sa.String(length=32), nullable=True),
    sa.Column('external_id', sa.String(length=128), nullable=True),
    sa.Column('idempotency_key', sa.String(length=128), nullable=True),
    sa.Column('attention_reason', sa.String(length=200), nullable=True),
    sa.Column('dispatch_attempts', sa.SmallInteger(), server_default='0', nullable=False),
    sa.Column('merged_into_id', sa.BigInteger(), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('dispatched_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('respond_due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolve_due_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['category_code'], ['categories.code'], name=op.f('fk_incidents_category_code_categories')),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_incidents_created_by_users')),
    sa.ForeignKeyConstraint(['merged_into_id'], ['incidents.id'], name=op.f('fk_incidents_merged_into_id_incidents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incidents')),
    sa.UniqueConstraint('channel', 'external_id', name=op.f('uq_incidents_channel_external_id')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_incidents_idempotency_key')),
    sa.UniqueConstraint('public_id', name=op.f('uq_incidents_public_id'))
    )
    op.create_index(op.f('ix_incidents_category_code'), 'incidents', ['category_code'], unique=False)
    op.create_index('ix_incidents_created_at', 'incidents', ['created_at'], unique=False)
    op.create_index('ix_incidents_geom', 'incidents', ['geom'], unique=False, postgresql_using='gist')
    op.create_index('ix_incidents_region_path', 'incidents', ['region_path'], unique=False, postgresql_using='gin')
    op.create_index(op.f('ix_incidents_status'), 'incidents', ['status'], unique=False)
    op.create_table('routing_rules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('category_code', sa.String(length=64), nullable=False),
    sa.Column('region_code', sa.String(length=64), nullable=True),
    sa.Column('workers_needed', sa.SmallInteger(), nullable=False),
    sa.Column('department_kinds', sa.ARRAY(sa.String(length=32)), nullable=False),
    sa.Column('radius_m', sa.Float(), nullable=False),
    sa.Column('own_grid_first', sa.Boolean(), nullable=False),
    sa.Column('ack_timeout_s', sa.Integer(), nullable=False),
    sa.Column('max_attempts', sa.SmallInteger(), nullable=False),
    sa.ForeignKeyConstraint(['category_code'], ['categories.code'], name=op.f('fk_routing_rules_category_code_categories')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_routing_rules')),
    sa.UniqueConstraint('category_code', 'region_code', name=op.f('uq_routing_rules_category_code_region_code'))
    )
    op.create_table('workers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('phone', sa.String(length=32), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('grid_codes', sa.ARRAY(sa.String(length=64)), nullable=False),
    sa.Column('skills', sa.ARRAY(sa.String(length=32)), nullable=False),
    sa.Column('shift_start', sa.Time(), nullable=True),
    sa.Column('shift_end', sa.Time(), nullable=True),
    sa.Column('max_load', sa.SmallInteger(), nullable=False),
    sa.Column('home', geoalchemy2.types.Geometry(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry'), nullable=True),
    sa.Column('on_duty', sa.Boolean(), server_default='true', nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_workers_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_workers')),
    sa.UniqueConstraint('user_id', name=op.f('uq_workers_user_id'))
    )
    op.create_index('ix_workers_grid_codes', 'workers', ['grid_codes'], unique=False, postgresql_using='gin')
    op.create_table('orders',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('incident_id', sa.BigInteger(), nullable=False),
    sa.Column('assignee_kind', sa.String(length=16), nullable=False),
    sa.Column('worker_id', sa.Integer(), nullable=True),
    sa.Column('department_code', sa.String(length=64), nullable=True),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=24), nullable=False),
    sa.Column('distance_m', sa.Float(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('ack_due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("(assignee_kind = 'worker' AND worker_id IS NOT NULL) OR (assignee_kind = 'department' AND department_code IS NOT NULL)", name=op.f('ck_orders_assignee')),
    sa.CheckConstraint("assignee_kind IN ('worker','department')", name=op.f('ck_orders_assignee_kind')),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_orders_incident_id_incidents')),
    sa.ForeignKeyConstraint(['worker_id'], ['workers.id'], name=op.f('fk_orders_worker_id_workers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_orders'))
    )
    op.create_index(op.f('ix_orders_department_code'), 'orders', ['department_code'], unique=False)
    op.create_index(op.f('ix_orders_incident_id'), 'orders', ['incident_id'], unique=False)
    op.create_index(op.f('ix_orders_status'), 'orders', ['status'], unique=False)
    op.create_index(op.f('ix_orders_worker_id'), 'orders', ['worker_id'], unique=False)
    op.create_table('events',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('kind', sa.String(length=48), nullable=False),
    sa.Column('incident_id', sa.BigInteger(), nullable=True),
    sa.Column('order_id', sa.BigInteger(), nullable=True),
    sa.Column('actor_user_id', sa.Integer(), nullable=True),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('from_state', sa.String(length=24), nullable=True),
    sa.Column('to_state', sa.String(length=24), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('region_path', sa.ARRAY(sa.String(length=64)), nullable=False),
    sa.Column('worker_id', sa.Integer(), nullable=True),
    sa.Column('department_code', sa.String(length=64), nullable=True),
    sa.Column('payload', postgresql.JSONB(astext_type=sa.Text()), server_default='{}', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['actor_user_id'], ['users.id'], name=op.f('fk_events_actor_user_id_users')),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_events_incident_id_incidents')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_events_order_id_orders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_events'))
    )
    op.create_index(op.f('ix_events_incident_id'), 'events', ['incident_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_events_incident_id'), table_name='events')
    op.drop_table('events')
    op.drop_index(op.f('ix_orders_worker_id'), table_name='orders')
    op.drop_index(op.f('ix_orders_status'), table_name='orders')
    op.drop_index(op.f('ix_orders_incident_id'), table_name='orders')
    op.drop_index(op.f('ix_orders_department_code'), table_name='orders')
    op.drop_table('orders')
    op.drop_index('ix_workers_grid_codes', table_name='workers', postgresql_using='gin')
    op.drop_table('workers')
    op.drop_table('routing_rules')
    op.drop_index(op.f('ix_incidents_status'), table_name='incidents')
    op.drop_index('ix_incidents_region_path', table_name='incidents', postgresql_using='gin')
    op.drop_index('ix_incidents_geom', table_name='incidents', postgresql_using='gist')
    op.drop_index('ix_incidents_created_at', table_name='incidents')
    op.drop_index(op.f('ix_incidents_category_code'), table_name='incidents')
    op.drop_table('incidents')
    op.drop_table('users')
    op.drop_index(op.f('ix_resource_points_region_code'), table_name='resource_points')
    op.drop_index(op.f('ix_resource_points_kind'), table_name='resource_points')
    op.drop_index('ix_resource_points_geom', table_name='resource_points', postgresql_using='gist')
    op.drop_table('resource_points')
    op.drop_index('ix_regions_path', table_name='regions', postgresql_using='gin')
    op.drop_index(op.f('ix_regions_parent_id'), table_name='regions')
    op.drop_index('ix_regions_geom', table_name='regions', postgresql_using='gist')
    op.drop_table('regions')
    op.drop_index(op.f('ix_departments_region_code'), table_name='departments')
    op.drop_index(op.f('ix_departments_kind'), table_name='departments')
    op.drop_table('departments')
    op.drop_table('categories')
