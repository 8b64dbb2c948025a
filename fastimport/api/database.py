"""The store's schema version, bringing it to this fastimport's, moving a till up (``fastimport db``)."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fastimport.config import Config
from fastimport.errors import ConfigError, StoreError

if TYPE_CHECKING:
    from fastimport.store.copy import TableCopy
    from fastimport.store.db import Connection


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


@dataclass(frozen=True, slots=True)
class CopyReport:
    """``fastimport db copy``: from which DuckDB till to which PostgreSQL store, each table's rows."""

    source: str
    target: str
    schema_version: int
    tables: tuple[TableCopy, ...]  # every table of the schema: rows copied, seconds
    sequences: dict[str, int]  # sequence -> the last value taken (the next id follows it)
    seconds: float

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "target": self.target,
            "schema_version": self.schema_version,
            "tables": {t.table: {"rows": t.rows, "seconds": round(t.seconds, 3)} for t in self.tables},
            "rows": sum(t.rows for t in self.tables),
            "sequences": self.sequences,
            "seconds": round(self.seconds, 3),
        }


def copy_store(
    config: Config, to_env: str, *, progress: Callable[[str, int, int], None] | None = None
) -> CopyReport:
    """Copy the configuration's DuckDB till into the empty PostgreSQL store whose URL is in ``to_env``.

    Every table, ids and sequences kept, in one PostgreSQL transaction (a failure leaves the target
    without a row); a target holding rows is refused.  The till's anchor file is checked first: a
    till whose chain heads disagree with it (what ``verify`` reports) is not moved.
    ``progress(table, rows_copied, rows_in_table)`` is called as each batch is written.
    """
    from fastimport.fiscal import anchors
    from fastimport.processing import numbering
    from fastimport.store.copy import copy_to_postgres

    if config.database is None:
        raise ConfigError(
            f"the configuration's store is already on PostgreSQL ([database] url_env = {config.url_env}): "
            "db copy moves a DuckDB till ([database] path) to PostgreSQL",
            key="database.path",
        )
    url = os.environ.get(to_env, "")
    if not url.startswith(("postgresql://", "postgres://")):
        raise ConfigError(
            f"the environment variable {to_env} (given to --to-env) "
            + ("is not set" if not url else "does not hold a postgresql://… URL")
            + ": set it to the PostgreSQL store's URL, e.g. postgresql://till@db.shop.lan:5432/fastimport",
            key="--to-env",
        )
    names: dict[str, Any] = {
        "journal": lambda _series, seq: f"journal #{seq}",
        **dict.fromkeys(("delivery", "invoice", "credit_note", "closing"), numbering.document_number),
    }

    def anchored(source: Connection) -> None:
        problems = anchors.check(source, names)
        if problems:
            raise StoreError(
                f"the DuckDB till does not match its anchor file ({problems[0].message}): nothing was "
                "copied. Run fastimport verify on the till and settle this first",
                problems=[p.message for p in problems],
            )

    done = copy_to_postgres(config.database, url, check=anchored, progress=progress)
    # This till's witness of the new store starts from the heads its DuckDB file anchored.
    witness = config.till_anchors or anchors.default_witness(config.till, url)
    anchors.seed(config.database.with_name(config.database.name + anchors.SUFFIX), witness)
    return CopyReport(
        source=done.source,
        target=done.target,
        schema_version=done.schema_version,
        tables=done.tables,
        sequences=done.sequences,
        seconds=done.seconds,
    )
