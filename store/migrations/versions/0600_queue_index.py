"""queue indexes end with the id descending (the order's tie-breaker); one per topic

Revision ID: 0600_queue_index
Revises: 0510_queue_order

The queue orders open cases by level, next deadline, then newest case first. The 0510 index
stopped at the deadline, so every page sorted its ties in a temporary B-tree (SQLite) or an
incremental sort (PostgreSQL); the topic filter (领域) had no index at all and scanned every
case for a rare topic.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0600_queue_index'
down_revision = '0510_queue_order'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index('ix_cases_queue', table_name='cases')
    op.create_index('ix_cases_queue_order', 'cases',
                    ['queue_open', 'queue_severity', 'queue_due_at', sa.text('id DESC')])
    op.create_index('ix_cases_topic_queue', 'cases',
                    ['topic', 'queue_open', 'queue_severity', 'queue_due_at', sa.text('id DESC')])


def downgrade() -> None:
    op.drop_index('ix_cases_topic_queue', table_name='cases')
    op.drop_index('ix_cases_queue_order', table_name='cases')
    op.create_index('ix_cases_queue', 'cases', ['queue_open', 'queue_severity', 'queue_due_at'])
