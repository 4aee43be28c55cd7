"""volatile sites per source, change context, held-back and alternating texts (issue 13)

Revision ID: 0013_volatile_held
Revises: 0003
Create Date: 2026-12-01 11:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0013_volatile_held'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'volatile_site',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('source_id', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column('site_key', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('left_json', sa.Text(), nullable=False),
        sa.Column('right', sa.Text(), nullable=False),
        sa.Column('max_len', sa.Integer(), nullable=False),
        sa.Column('digits', sa.Boolean(), nullable=False),
        sa.Column('last_value', sa.Text(), nullable=True),
        sa.Column('stable_count', sa.Integer(), nullable=False),
        sa.Column('learned_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['source_id'], ['source.id'], ),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('source_id', 'site_key'),
    )
    with op.batch_alter_table('volatile_site', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_volatile_site_source_id'), ['source_id'], unique=False)

    with op.batch_alter_table('change', schema=None) as batch_op:
        batch_op.add_column(sa.Column('context_json', sa.Text(), nullable=True))

    with op.batch_alter_table('source_status', schema=None) as batch_op:
        batch_op.add_column(sa.Column('held_sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch_op.add_column(sa.Column('held_fetches', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('held_cycles_json', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('alternating_json', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('alternating_since', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('source_status', schema=None) as batch_op:
        batch_op.drop_column('alternating_since')
        batch_op.drop_column('alternating_json')
        batch_op.drop_column('held_cycles_json')
        batch_op.drop_column('held_fetches')
        batch_op.drop_column('held_sha256')

    with op.batch_alter_table('change', schema=None) as batch_op:
        batch_op.drop_column('context_json')

    with op.batch_alter_table('volatile_site', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_volatile_site_source_id'))

    op.drop_table('volatile_site')
