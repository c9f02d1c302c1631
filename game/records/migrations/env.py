"""Alembic environment: the caller passes an open connection (already in a transaction) in the config.

Run through :func:`game.records.migrate.upgrade`; no alembic.ini is needed.
"""

from alembic import context

from game.records.models import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
