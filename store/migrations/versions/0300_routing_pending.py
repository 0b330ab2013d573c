"""routing_pending on events: routing survives a crash after the analysis commit; messages
the old outbox gave up after 8 attempts are announced as dead

Revision ID: 0300_routing_pending
Revises: 0200_workflow
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0300_routing_pending'
down_revision = '0200_workflow'
branch_labels = None
depends_on = None


# Plain ALTER TABLE, not batch mode: SQLite adds a column in place, while rebuilding the
# events table (which cases and posts reference) fails its foreign keys on a filled database.
def upgrade() -> None:
    op.add_column('events', sa.Column('routing_pending', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
    op.create_index(op.f('ix_events_routing_pending'), 'events', ['routing_pending'],
                    unique=False)
    # heal what the old two-step flow lost: alerting events without their case, or whose
    # case missed a severity raise, are routed by the next analysis run
    events = sa.table('events', sa.column('id', sa.Integer), sa.column('severity', sa.Integer),
                      sa.column('routing_pending', sa.Boolean))
    cases = sa.table('cases', sa.column('event_id', sa.Integer),
                     sa.column('severity', sa.Integer))
    behind = sa.select(cases.c.event_id).where(
        cases.c.event_id == events.c.id,
        sa.or_(cases.c.severity.is_(None), cases.c.severity > events.c.severity))
    unrouted = ~sa.exists().where(cases.c.event_id == events.c.id)
    op.execute(events.update().where(events.c.severity.in_([1, 2, 3, 4]),
                                     sa.or_(unrouted, behind.exists()))
               .values(routing_pending=sa.true()))
    # the old outbox failed a message silently after 8 transient errors: hand those to the
    # next delivery pass as expired, which marks them dead and tells the monitors
    notifications = sa.table('notifications', sa.column('id', sa.Integer),
                             sa.column('status', sa.String))
    deliveries = sa.table('deliveries', sa.column('notification_id', sa.Integer),
                          sa.column('permanent', sa.Boolean))
    permanent = sa.exists().where(deliveries.c.notification_id == notifications.c.id,
                                  deliveries.c.permanent.is_(True))
    op.execute(notifications.update().where(notifications.c.status == 'failed', ~permanent)
               .values(status='expired'))


def downgrade() -> None:
    op.drop_index(op.f('ix_events_routing_pending'), table_name='events')
    op.drop_column('events', 'routing_pending')  # SQLite >= 3.35 drops a column in place
