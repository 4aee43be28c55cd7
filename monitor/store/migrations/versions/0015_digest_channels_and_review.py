"""issue 15: digest messages to chat/webhooks (channel, target); review state of changes

Revision ID: 0015
Revises: 0003
Create Date: 2026-12-01 11:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0015'
down_revision: str | None = '0014_rules_and_robots'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('digest_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False,
                                      server_default='email'))
        batch_op.add_column(sa.Column('target', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
    op.create_table(
        'change_review',
        sa.Column('change_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('reviewed_by', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column('reviewed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('note', sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint('change_id'),
    )
    with op.batch_alter_table('change_review', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_change_review_reviewed_at'), ['reviewed_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('change_review', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_change_review_reviewed_at'))
    op.drop_table('change_review')
    with op.batch_alter_table('digest_message', schema=None) as batch_op:
        batch_op.drop_column('target')
        batch_op.drop_column('channel')
