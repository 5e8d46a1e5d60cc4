"""Alembic environment for the records store.

Run only through :mod:`relevo.records.migrate`, which hands over an open
connection (async engines run Alembic inside ``run_sync``). The version table
is ``relevo_alembic_version`` so an app's own Alembic history can share the
database.
"""

from __future__ import annotations

from alembic import context

from relevo.records.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run the records migrations with `relevo migrate`")

context.configure(
    connection=connection,
    target_metadata=metadata,
    version_table="relevo_alembic_version",
    render_as_batch=True,
)
with context.begin_transaction():
    context.run_migrations()
