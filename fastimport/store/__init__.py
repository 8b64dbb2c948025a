"""The store room: DuckDB schema, migrations, bulk upserts, transactions."""

from fastimport.store.db import connect, migrate, schema_version, transaction

__all__ = ["connect", "migrate", "schema_version", "transaction"]
