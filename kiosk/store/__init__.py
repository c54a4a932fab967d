"""The kiosk's local store: one SQLite file, SQLAlchemy 2 models, Alembic migrations."""

from kiosk.store.engine import NewerDatabaseError, Store, StoreError, open_store

__all__ = ["NewerDatabaseError", "Store", "StoreError", "open_store"]
