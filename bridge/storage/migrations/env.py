"""Alembic environment: always handed a live connection by `bridge.storage.database.migrate`."""

from __future__ import annotations

from alembic import context

from bridge.storage.tables import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations with `support-bridge migrate`")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
