"""The store's schema version, and bringing it to this fastimport's (``fastimport db``)."""

from __future__ import annotations

from dataclasses import dataclass

from fastimport.config import Config
from fastimport.errors import StoreError


@dataclass(frozen=True, slots=True)
class SchemaVersions:
    """``before`` and ``after`` a migration (equal when nothing was done), and what this fastimport writes."""

    database: str
    before: int
    after: int
    latest: int


def _newer(current: int, latest: int) -> StoreError:
    return StoreError(
        f"this database was written by a newer fastimport (schema {current}, this one knows {latest}); "
        "upgrade fastimport before using it",
        schema_version=current,
        latest=latest,
    )


def store_version(config: Config) -> SchemaVersions:
    """The store's schema version as it is (``before == after``), without migrating it; a store
    written by a newer fastimport is reported, not refused (``before > latest``)."""
    from fastimport.store.db import connect, latest_version, schema_version

    con = connect(config.target, upgrade=False)
    try:
        current = schema_version(con)
    finally:
        con.close()
    return SchemaVersions(config.where, current, current, latest_version())


def migrate_store(config: Config) -> SchemaVersions:
    """Run the migrations the store lacks (creating it if needed): from which version to which.

    Refuses, with a StoreError, a store written by a newer fastimport.
    """
    from fastimport.store.db import connect, latest_version, migrate, schema_version

    con = connect(config.target, upgrade=False)
    try:
        before = schema_version(con)
        if before > latest_version():
            raise _newer(before, latest_version())
        after = migrate(con)
    finally:
        con.close()
    return SchemaVersions(config.where, before, after, latest_version())


def refuse_newer(versions: SchemaVersions) -> None:
    """A StoreError when ``versions`` says the store was written by a newer fastimport."""
    if versions.before > versions.latest:
        raise _newer(versions.before, versions.latest)


def copy_to_postgres(config: Config, url_env: str) -> tuple[str, str, dict[str, int]]:
    """Copy the configured DuckDB till into the empty PostgreSQL store whose URL is in ``url_env``:
    (from where, to where, rows per table).  A StoreError if that store holds anything."""
    import os

    from fastimport.errors import ConfigError
    from fastimport.store.copy import copy_store
    from fastimport.store.db import connect
    from fastimport.store.postgres import PgConnection, is_url, shown

    if config.url_env is not None:
        raise ConfigError(
            "db copy copies a DuckDB till ([database] path) into PostgreSQL: this one is on PostgreSQL"
        )
    url = os.environ.get(url_env, "")
    if not is_url(url):
        raise ConfigError(
            f"the environment variable {url_env} (named by --to-env) must hold the PostgreSQL store's "
            "postgresql://… URL",
            key="to_env",
        )
    source = connect(config.target)
    try:
        target = connect(url, upgrade=False)
        try:
            assert isinstance(target, PgConnection) and not isinstance(source, PgConnection)
            report = copy_store(source, target)
        finally:
            target.close()
    finally:
        source.close()
    return config.where, shown(url), report.tables
