"""issue 14: the extraction rules of each version; robots.txt and last request per host

Revision ID: 0014_rules_and_robots
Revises: 0003
Create Date: 2026-12-01 11:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0014_rules_and_robots'
down_revision: str | None = '0013_volatile_held'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('robots_txt',
                    sa.Column('origin', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
                    sa.Column('status', sa.Integer(), nullable=False),
                    sa.Column('body', sa.Text(), nullable=True),
                    sa.Column('fetched_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
                    sa.PrimaryKeyConstraint('origin'))
    op.create_table('crawl_host',
                    sa.Column('host', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
                    sa.Column('last_request_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
                    sa.PrimaryKeyConstraint('host'))
    with op.batch_alter_table('version', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rules', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True))


def downgrade() -> None:
    op.drop_table('crawl_host')
    op.drop_table('robots_txt')
    with op.batch_alter_table('version', schema=None) as batch_op:
        batch_op.drop_column('rules')
