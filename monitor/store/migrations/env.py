"""Alembic environment: always run with a connection handed over by monitor/schema.py."""

from alembic import context
from sqlmodel import SQLModel

import monitor.store.db  # noqa: F401  (every table registered on SQLModel.metadata)
from monitor.store.schema import include_object

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=SQLModel.metadata, render_as_batch=True,
                  compare_type=True, include_object=include_object)
with context.begin_transaction():
    context.run_migrations()
