"""Alembic environment: migrations run on the connection the kiosk hands over at start.

Run by hand for development with ``uv run alembic -c kiosk/store/migrations/alembic.ini ...``
(see docs/development.md); the kiosk itself never reads an ini file.
"""

from alembic import context
from sqlalchemy import create_engine

from kiosk.store.models import Base

config = context.config
connection = config.attributes.get("connection")

if connection is None:
    # Development use (autogenerate against a scratch database).
    url = config.get_main_option("sqlalchemy.url") or "sqlite:///./scratch.sqlite3"
    engine = create_engine(url)
    with engine.connect() as conn:
        context.configure(connection=conn, target_metadata=Base.metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
else:
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
