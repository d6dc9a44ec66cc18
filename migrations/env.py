"""Alembic environment: runs on the connection handed in by storage.db (or DATABASE_URL)."""

import os

from alembic import context

from storage.db import make_engine
from storage.models import Base

config = context.config


def run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=True,  # SQLite cannot ALTER most things; batch mode copies the table
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    run(connection)
else:
    with make_engine(os.environ["DATABASE_URL"]).begin() as conn:
        run(conn)
