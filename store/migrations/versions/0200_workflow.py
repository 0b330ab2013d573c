"""workflow: SLA marks and extension requests on cases, channel states, console notices

Revision ID: 0200_workflow
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0200_workflow'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sla_marks', sa.JSON(), nullable=False,
                                      server_default='{}'))
        batch_op.add_column(sa.Column('extension_request', sa.JSON(), nullable=False,
                                      server_default='{}'))
    op.create_table('channel_states',
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('disabled', sa.Boolean(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('changed_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_channel_states'))
    )
    op.create_table('notices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('notification_id', sa.Integer(), nullable=True),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('severity', sa.Integer(), nullable=True),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('link', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_notices_case_id_cases')),
    sa.ForeignKeyConstraint(['notification_id'], ['notifications.id'], name=op.f('fk_notices_notification_id_notifications')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_notices_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notices')),
    sa.UniqueConstraint('notification_id', name=op.f('uq_notices_notification_id'))
    )
    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notices_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_notices_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_notices_unit_id'), ['unit_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notices_unit_id'))
        batch_op.drop_index(batch_op.f('ix_notices_created_at'))
        batch_op.drop_index(batch_op.f('ix_notices_case_id'))
    op.drop_table('notices')
    op.drop_table('channel_states')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_column('extension_request')
        batch_op.drop_column('sla_marks')
