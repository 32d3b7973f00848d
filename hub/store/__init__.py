"""The hub's own database: alerts, freezes, check runs (and, in later revisions, audit, keys, workflow)."""

from __future__ import annotations

from hub.store.db import Store, open_store, upgrade

__all__ = ["Store", "open_store", "upgrade"]
