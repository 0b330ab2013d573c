"""workers: an index on posts.analyzed_at (the workers' pending poll and event catch-up)

Revision ID: 0500_workers
Revises: 0420_triage
"""

from __future__ import annotations

from alembic import op

revision = '0500_workers'
down_revision = '0420_triage'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # every worker polls "analyzed_at IS NULL" each second and catches its event index up
    # from "analyzed_at >= mark": without an index both scan the whole table
    with op.batch_alter_table('posts', schema=None) as batch_op:
        batch_op.create_index('ix_posts_analyzed', ['analyzed_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('posts', schema=None) as batch_op:
        batch_op.drop_index('ix_posts_analyzed')
