"""access follows the account: users.token_version (bumped by a trigger), revoked sessions, the login audit

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24

A token carries the account's token version when it was issued; every request compares it with the row's
(command/admin/accounts.py). The trigger bumps the version whenever what a token stands for changes — password, role,
region, department, active — whoever makes the change (the admin API, the CLI, an UPDATE typed in psql), unless
the same statement already moved it. Logout revokes one session (`revoked_sessions`, kept until every token of
it has expired); `login_attempts` keeps who tried to log in, from where, and how it ended.
"""
from alembic import op
import sqlalchemy as sa

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('users', sa.Column('token_version', sa.Integer(), server_default='0', nullable=False))
    op.execute("""
        CREATE FUNCTION users_bump_token_version() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.token_version = OLD.token_version AND (
                NEW.password_hash IS DISTINCT FROM OLD.password_hash OR NEW.role IS DISTINCT FROM OLD.role
                OR NEW.region_code IS DISTINCT FROM OLD.region_code
                OR NEW.department_code IS DISTINCT FROM OLD.department_code
                OR NEW.active IS DISTINCT FROM OLD.active) THEN
                NEW.token_version := OLD.token_version + 1;
            END IF;
            RETURN NEW;
        END $$
    """)
    op.execute("""
        CREATE TRIGGER users_bump_token_version BEFORE UPDATE ON users
        FOR EACH ROW EXECUTE FUNCTION users_bump_token_version()
    """)
    op.create_table(
        'revoked_sessions',
        sa.Column('session_id', sa.String(length=64), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('revoked_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_revoked_sessions_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('session_id', name=op.f('pk_revoked_sessions')),
    )
    op.create_index(op.f('ix_revoked_sessions_user_id'), 'revoked_sessions', ['user_id'], unique=False)
    op.create_index(op.f('ix_revoked_sessions_expires_at'), 'revoked_sessions', ['expires_at'], unique=False)
    op.create_table(
        'login_attempts',
        sa.Column('id', sa.BigInteger(), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column('username', sa.String(length=64), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('address', sa.String(length=64), nullable=False),
        sa.Column('result', sa.String(length=16), nullable=False),
        sa.CheckConstraint("result IN ('success','failure','throttled')", name=op.f('ck_login_attempts_result')),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_login_attempts_user_id_users'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_login_attempts')),
    )
    op.create_index('ix_login_attempts_username_at', 'login_attempts', ['username', 'at'], unique=False)
    op.create_index('ix_login_attempts_at', 'login_attempts', ['at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_login_attempts_at', table_name='login_attempts')
    op.drop_index('ix_login_attempts_username_at', table_name='login_attempts')
    op.drop_table('login_attempts')
    op.drop_index(op.f('ix_revoked_sessions_expires_at'), table_name='revoked_sessions')
    op.drop_index(op.f('ix_revoked_sessions_user_id'), table_name='revoked_sessions')
    op.drop_table('revoked_sessions')
    op.execute("DROP TRIGGER users_bump_token_version ON users")
    op.execute("DROP FUNCTION users_bump_token_version()")
    op.drop_column('users', 'token_version')
