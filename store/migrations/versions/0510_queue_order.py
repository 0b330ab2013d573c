"""alert queue sort keys on cases (open, level, next deadline) and their index

Revision ID: 0510_queue_order
Revises: 0420_triage
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision = '0510_queue_order'
down_revision = '0500_workers'
branch_labels = None
depends_on = None

NO_DUE = datetime(9999, 1, 1)  # naive UTC, as the models store it


def upgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('queue_open', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        batch_op.add_column(sa.Column('queue_severity', sa.Integer(), nullable=False,
                                      server_default='9'))
        batch_op.add_column(sa.Column('queue_due_at', sa.DateTime(), nullable=True))
    # the same rule as store/queue_order.py, once over the existing cases
    op.execute(sa.text(
        "UPDATE cases SET "
        "queue_open = (state IN ('new', 'dispatched', 'acknowledged', 'responded', 'returned')),"
        " queue_severity = COALESCE(severity, 9),"
        " queue_due_at = COALESCE(CASE"
        " WHEN state = 'dispatched' THEN COALESCE(due_sign_at, due_answer_at)"
        " WHEN state IN ('new', 'acknowledged', 'returned')"
        " THEN COALESCE(due_first_response_at, due_answer_at) END, :no_due)"
    ).bindparams(no_due=NO_DUE))
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.alter_column('queue_due_at', existing_type=sa.DateTime(), nullable=False)
        batch_op.create_index('ix_cases_queue', ['queue_open', 'queue_severity', 'queue_due_at'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_queue')
        batch_op.drop_column('queue_due_at')
        batch_op.drop_column('queue_severity')
        batch_op.drop_column('queue_open')
