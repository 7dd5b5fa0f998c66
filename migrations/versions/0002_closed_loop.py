"""closed loop: deadlines and rules, extensions, links, callbacks, uploads, patrol, 12345 link

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23

A trigger on `events` fills `hotline_outbox` in the same transaction as every incident status change
of a 12345 work order, whatever code made the change, so no report back to the platform is lost.
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

HOTLINE_TRIGGER_FN = """
CREATE OR REPLACE FUNCTION gridcmd_hotline_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    ext text;
    pub uuid;
BEGIN
    SELECT i.external_id, i.public_id INTO ext, pub FROM incidents i
     WHERE i.id = NEW.incident_id AND i.channel = 'hotline' AND i.external_id IS NOT NULL;
    IF ext IS NOT NULL THEN
        INSERT INTO hotline_outbox (event_id, incident_id, external_id, payload)
        VALUES (NEW.id, NEW.incident_id, ext, jsonb_build_object(
            'event_id', NEW.id, 'work_order_id', ext, 'incident_public_id', pub, 'kind', NEW.kind,
            'from', NEW.from_state, 'to', NEW.to_state, 'reason', NEW.reason, 'at', NEW.created_at));
    END IF;
    RETURN NULL;
END
$$
"""


def upgrade() -> None:
    op.create_table('deadline_rules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('category_code', sa.String(length=64), nullable=True),
    sa.Column('region_code', sa.String(length=64), nullable=True),
    sa.Column('channel', sa.String(length=16), nullable=True),
    sa.Column('priority', sa.SmallInteger(), nullable=True),
    sa.Column('limit_s', sa.Integer(), nullable=True),
    sa.Column('same_day', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('remind_before_s', sa.Integer(), server_default='0', nullable=False),
    sa.Column('note', sa.String(length=200), nullable=True),
    sa.CheckConstraint("kind IN ('sign_for','respond','feedback','resolve')", name=op.f('ck_deadline_rules_kind')),
    sa.CheckConstraint('remind_before_s >= 0', name=op.f('ck_deadline_rules_remind')),
    sa.CheckConstraint('same_day OR limit_s > 0', name=op.f('ck_deadline_rules_limit')),
    sa.ForeignKeyConstraint(['category_code'], ['categories.code'], name=op.f('fk_deadline_rules_category_code_categories'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deadline_rules'))
    )
    op.create_table('hotline_categories',
    sa.Column('their_code', sa.String(length=64), nullable=False),
    sa.Column('category_code', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['category_code'], ['categories.code'], name=op.f('fk_hotline_categories_category_code_categories'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('their_code', name=op.f('pk_hotline_categories'))
    )
    op.create_table('patrol_tasks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('grid_code', sa.String(length=64), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('visit_weekday', sa.SmallInteger(), nullable=False),
    sa.Column('callback_weekday', sa.SmallInteger(), nullable=True),
    sa.Column('active', sa.Boolean(), server_default='true', nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('callback_weekday IS NULL OR callback_weekday BETWEEN 0 AND 6', name=op.f('ck_patrol_tasks_callback_weekday')),
    sa.CheckConstraint('visit_weekday BETWEEN 0 AND 6', name=op.f('ck_patrol_tasks_visit_weekday')),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_patrol_tasks_created_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_patrol_tasks'))
    )
    op.create_index(op.f('ix_patrol_tasks_grid_code'), 'patrol_tasks', ['grid_code'], unique=False)
    op.create_table('uploads',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('content_type', sa.String(length=32), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('path', sa.String(length=300), nullable=False),
    sa.Column('uploaded_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['uploaded_by'], ['users.id'], name=op.f('fk_uploads_uploaded_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_uploads'))
    )
    op.create_table('callbacks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.BigInteger(), nullable=False),
    sa.Column('rating', sa.String(length=24), nullable=False),
    sa.Column('via', sa.String(length=8), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('recorded_by', sa.Integer(), nullable=True),
    sa.Column('reopened', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("rating IN ('satisfied','basically_satisfied','dissatisfied')", name=op.f('ck_callbacks_rating')),
    sa.CheckConstraint("via IN ('link','phone')", name=op.f('ck_callbacks_via')),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_callbacks_incident_id_incidents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recorded_by'], ['users.id'], name=op.f('fk_callbacks_recorded_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_callbacks'))
    )
    op.create_index(op.f('ix_callbacks_incident_id'), 'callbacks', ['incident_id'], unique=False)
    op.create_table('incident_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.BigInteger(), nullable=False),
    sa.Column('other_id', sa.BigInteger(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('distance_m', sa.Double(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("kind IN ('suggested','merged','dismissed')", name=op.f('ck_incident_links_kind')),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_incident_links_incident_id_incidents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['other_id'], ['incidents.id'], name=op.f('fk_incident_links_other_id_incidents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incident_links')),
    sa.UniqueConstraint('incident_id', 'other_id', name=op.f('uq_incident_links_incident_id_other_id'))
    )
    op.create_index(op.f('ix_incident_links_incident_id'), 'incident_links', ['incident_id'], unique=False)
    op.create_index(op.f('ix_incident_links_other_id'), 'incident_links', ['other_id'], unique=False)
    op.create_table('patrol_visits',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('worker_ids', sa.ARRAY(sa.Integer()), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('done_by', sa.Integer(), nullable=True),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.CheckConstraint("kind IN ('visit','callback')", name=op.f('ck_patrol_visits_kind')),
    sa.CheckConstraint("status IN ('planned','done')", name=op.f('ck_patrol_visits_status')),
    sa.ForeignKeyConstraint(['done_by'], ['workers.id'], name=op.f('fk_patrol_visits_done_by_workers')),
    sa.ForeignKeyConstraint(['task_id'], ['patrol_tasks.id'], name=op.f('fk_patrol_visits_task_id_patrol_tasks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_patrol_visits')),
    sa.UniqueConstraint('task_id', 'kind', 'due_date', name=op.f('uq_patrol_visits_task_id_kind_due_date'))
    )
    op.create_index(op.f('ix_patrol_visits_task_id'), 'patrol_visits', ['task_id'], unique=False)
    op.create_index('ix_patrol_visits_worker_ids', 'patrol_visits', ['worker_ids'], unique=False, postgresql_using='gin')
    op.create_table('deadlines',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('key', sa.String(length=80), nullable=False),
    sa.Column('incident_id', sa.BigInteger(), nullable=False),
    sa.Column('order_id', sa.BigInteger(), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('remind_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reminded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('overdue_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('met_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('supervision_level', sa.SmallInteger(), server_default='0', nullable=False),
    sa.Column('next_escalation_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("kind IN ('sign_for','respond','feedback','resolve')", name=op.f('ck_deadlines_kind')),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_deadlines_incident_id_incidents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_deadlines_order_id_orders'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deadlines')),
    sa.UniqueConstraint('key', name=op.f('uq_deadlines_key'))
    )
    op.create_index(op.f('ix_deadlines_due_at'), 'deadlines', ['due_at'], unique=False)
    op.create_index(op.f('ix_deadlines_incident_id'), 'deadlines', ['incident_id'], unique=False)
    op.create_index(op.f('ix_deadlines_next_escalation_at'), 'deadlines', ['next_escalation_at'], unique=False)
    op.create_index(op.f('ix_deadlines_order_id'), 'deadlines', ['order_id'], unique=False)
    op.create_index(op.f('ix_deadlines_remind_at'), 'deadlines', ['remind_at'], unique=False)
    op.create_table('extension_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.BigInteger(), nullable=False),
    sa.Column('incident_id', sa.BigInteger(), nullable=False),
    sa.Column('requested_by', sa.Integer(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('requested_due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('decided_by', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decision_reason', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("status IN ('pending','granted','refused')", name=op.f('ck_extension_requests_status')),
    sa.ForeignKeyConstraint(['decided_by'], ['users.id'], name=op.f('fk_extension_requests_decided_by_users')),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_extension_requests_incident_id_incidents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_extension_requests_order_id_orders'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['requested_by'], ['users.id'], name=op.f('fk_extension_requests_requested_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_extension_requests'))
    )
    op.create_index(op.f('ix_extension_requests_incident_id'), 'extension_requests', ['incident_id'], unique=False)
    op.create_index(op.f('ix_extension_requests_order_id'), 'extension_requests', ['order_id'], unique=False)
    op.create_index(op.f('ix_extension_requests_status'), 'extension_requests', ['status'], unique=False)
    op.create_table('patrol_findings',
    sa.Column('incident_id', sa.BigInteger(), nullable=False),
    sa.Column('visit_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_patrol_findings_incident_id_incidents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['visit_id'], ['patrol_visits.id'], name=op.f('fk_patrol_findings_visit_id_patrol_visits'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('incident_id', name=op.f('pk_patrol_findings'))
    )
    op.create_index(op.f('ix_patrol_findings_visit_id'), 'patrol_findings', ['visit_id'], unique=False)
    op.create_table('hotline_outbox',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('event_id', sa.BigInteger(), nullable=False),
    sa.Column('incident_id', sa.BigInteger(), nullable=False),
    sa.Column('external_id', sa.String(length=128), nullable=False),
    sa.Column('payload', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_hotline_outbox_event_id_events'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_hotline_outbox_incident_id_incidents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hotline_outbox')),
    sa.UniqueConstraint('event_id', name=op.f('uq_hotline_outbox_event_id'))
    )
    op.create_index(op.f('ix_hotline_outbox_external_id'), 'hotline_outbox', ['external_id'], unique=False)
    op.create_index(op.f('ix_hotline_outbox_incident_id'), 'hotline_outbox', ['incident_id'], unique=False)
    op.create_index('ix_hotline_outbox_pending', 'hotline_outbox', ['external_id', 'id'], unique=False, postgresql_where=sa.text('delivered_at IS NULL'))

    op.execute(HOTLINE_TRIGGER_FN)
    op.execute(
        "CREATE TRIGGER events_hotline_outbox AFTER INSERT ON events FOR EACH ROW "
        "WHEN (NEW.incident_id IS NOT NULL AND NEW.to_state IS NOT NULL AND NEW.kind LIKE 'incident.%') "
        "EXECUTE FUNCTION gridcmd_hotline_outbox()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS events_hotline_outbox ON events")
    op.execute("DROP FUNCTION IF EXISTS gridcmd_hotline_outbox()")
    op.drop_index('ix_hotline_outbox_pending', table_name='hotline_outbox', postgresql_where=sa.text('delivered_at IS NULL'))
    op.drop_index(op.f('ix_hotline_outbox_incident_id'), table_name='hotline_outbox')
    op.drop_index(op.f('ix_hotline_outbox_external_id'), table_name='hotline_outbox')
    op.drop_table('hotline_outbox')
    op.drop_index(op.f('ix_patrol_findings_visit_id'), table_name='patrol_findings')
    op.drop_table('patrol_findings')
    op.drop_index(op.f('ix_extension_requests_status'), table_name='extension_requests')
    op.drop_index(op.f('ix_extension_requests_order_id'), table_name='extension_requests')
    op.drop_index(op.f('ix_extension_requests_incident_id'), table_name='extension_requests')
    op.drop_table('extension_requests')
    op.drop_index(op.f('ix_deadlines_remind_at'), table_name='deadlines')
    op.drop_index(op.f('ix_deadlines_order_id'), table_name='deadlines')
    op.drop_index(op.f('ix_deadlines_next_escalation_at'), table_name='deadlines')
    op.drop_index(op.f('ix_deadlines_incident_id'), table_name='deadlines')
    op.drop_index(op.f('ix_deadlines_due_at'), table_name='deadlines')
    op.drop_table('deadlines')
    op.drop_index('ix_patrol_visits_worker_ids', table_name='patrol_visits', postgresql_using='gin')
    op.drop_index(op.f('ix_patrol_visits_task_id'), table_name='patrol_visits')
    op.drop_table('patrol_visits')
    op.drop_index(op.f('ix_incident_links_other_id'), table_name='incident_links')
    op.drop_index(op.f('ix_incident_links_incident_id'), table_name='incident_links')
    op.drop_table('incident_links')
    op.drop_index(op.f('ix_callbacks_incident_id'), table_name='callbacks')
    op.drop_table('callbacks')
    op.drop_table('uploads')
    op.drop_index(op.f('ix_patrol_tasks_grid_code'), table_name='patrol_tasks')
    op.drop_table('patrol_tasks')
    op.drop_table('hotline_categories')
    op.drop_table('deadline_rules')
