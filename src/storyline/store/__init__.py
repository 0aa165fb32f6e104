"""The store: SQLite system of record (the vector index is a cache rebuilt from it)."""

from storyline.store.lock import StoreBusy
from storyline.store.sqlite import ENRICHED, INGESTED, PLACED, QUARANTINED, Store, default_db_path

__all__ = ["Store", "StoreBusy", "default_db_path", "INGESTED", "ENRICHED", "PLACED", "QUARANTINED"]
