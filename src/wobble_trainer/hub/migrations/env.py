"""Alembic environment: always run programmatically on a connection the hub hands over.

:func:`wobble_trainer.hub.db.migrate` passes its open connection in
``config.attributes["connection"]``; there is no alembic.ini and no URL here, so the migrations
run the same way from ``wobble hub serve``, ``wobble hub migrate`` and the tests.
"""

from alembic import context

from wobble_trainer.hub.tables import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    transaction_per_migration=False,
)
with context.begin_transaction():
    context.run_migrations()
