"""admin desk: users' last sign-in and token use, and the audit of console config edits

Revision ID: 0440_admin_users
Revises: 0310_auth_sessions
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0440_admin_users'
down_revision = '0310_auth_sessions'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_login_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('token_created_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('token_last_used_at', sa.DateTime(), nullable=True))
    op.create_table('config_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('file', sa.String(length=32), nullable=False),
    sa.Column('key', sa.String(length=128), nullable=False),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('before', sa.JSON(), nullable=False),
    sa.Column('after', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                            name=op.f('fk_config_changes_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_config_changes'))
    )
    with op.batch_alter_table('config_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_config_changes_at'), ['at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('config_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_config_changes_at'))
    op.drop_table('config_changes')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('token_last_used_at')
        batch_op.drop_column('token_created_at')
        batch_op.drop_column('last_login_at')
