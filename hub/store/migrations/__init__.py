"""Alembic migrations of the hub store; run them with hub.store.upgrade(url), no alembic.ini needed."""
