"""schemes: monitoring schemes (监测方案), post tags, job high-water marks

Revision ID: 0410_schemes
Revises: 0310_auth_sessions
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0410_schemes'
down_revision = '0310_auth_sessions'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('schemes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('owner', sa.String(length=100), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('spec', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('updated_by', sa.String(length=100), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_schemes')),
    sa.UniqueConstraint('key', name=op.f('uq_schemes_key'))
    )
    op.create_table('post_tags',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('post_id', sa.Integer(), nullable=False),
    sa.Column('scheme_key', sa.String(length=64), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['post_id'], ['posts.id'], name=op.f('fk_post_tags_post_id_posts'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_post_tags')),
    sa.UniqueConstraint('post_id', 'scheme_key', name='uq_post_tags_post_scheme')
    )
    with op.batch_alter_table('post_tags', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_post_tags_post_id'), ['post_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_post_tags_scheme_key'), ['scheme_key'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_post_tags_at'), ['at'], unique=False)
    op.create_table('job_marks',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=True),
    sa.Column('last_id', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_job_marks'))
    )


def downgrade() -> None:
    op.drop_table('job_marks')
    with op.batch_alter_table('post_tags', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_post_tags_at'))
        batch_op.drop_index(batch_op.f('ix_post_tags_scheme_key'))
        batch_op.drop_index(batch_op.f('ix_post_tags_post_id'))
    op.drop_table('post_tags')
    op.drop_table('schemes')
