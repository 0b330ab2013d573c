"""triage: merged cases (并案) point at the case they were merged into; inbox read state

Revision ID: 0420_triage
Revises: 0310_auth_sessions
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0420_triage'
down_revision = '0440_admin_users'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('merged_into_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_cases_merged_into_id'), ['merged_into_id'],
                              unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_cases_merged_into_id_cases'), 'cases',
                                    ['merged_into_id'], ['id'])
    op.create_table('notice_reads',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('notice_id', sa.Integer(), nullable=False),
    sa.Column('read_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['notice_id'], ['notices.id'],
                            name=op.f('fk_notice_reads_notice_id_notices')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notice_reads_user_id_users')),
    sa.PrimaryKeyConstraint('user_id', 'notice_id', name=op.f('pk_notice_reads'))
    )
    with op.batch_alter_table('notice_reads', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notice_reads_notice_id'), ['notice_id'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('notice_reads', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notice_reads_notice_id'))
    op.drop_table('notice_reads')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_cases_merged_into_id_cases'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_cases_merged_into_id'))
        batch_op.drop_column('merged_into_id')
