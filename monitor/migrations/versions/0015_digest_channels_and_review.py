"""issue 15: digest messages to chat/webhooks (channel, target)

Revision ID: 0015
Revises: 0003
Create Date: 2026-12-01 11:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0015'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('digest_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False,
                                      server_default='email'))
        batch_op.add_column(sa.Column('target', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('digest_message', schema=None) as batch_op:
        batch_op.drop_column('target')
        batch_op.drop_column('channel')
