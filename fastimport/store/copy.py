"""Moving a DuckDB till up to PostgreSQL: every table, ids and sequences, in one transaction.

The DuckDB file is opened read-only (nothing on the till changes, and no other process may write
it meanwhile).  The target must be an empty database or an empty fastimport store: its schema is
brought to this version first, then one PostgreSQL transaction locks every table, checks again that
none holds a row, copies each table (Arrow batches read from DuckDB, written by the connection's
binary COPY of registered tables) and sets each sequence past what was copied.  Any failure rolls
the transaction back: the target is left with its tables and no row in them.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from fastimport.errors import StoreError
from fastimport.store import payload_log, raw
from fastimport.store.db import Connection, first_row, latest_version, migrate, schema_version, transaction
from fastimport.store.postgres import PgConnection, first_line, shown

# Rows per Arrow batch read from DuckDB and written by COPY; raw payload chunks are large blobs.
BATCH_ROWS = 10_000
BLOB_BATCH_ROWS = 200
STAGING = "fastimport_copy_batch"  # the TEMP table each batch is COPY'd into
# Called after each batch: table, rows copied so far, rows the table holds.
Progress = Callable[[str, int, int], None]
_SAID_FIRST = ("orders", "invoices", "journal")
_NEXTVAL = re.compile(r"""nextval\('"?([^'"]+)"?'(?:::regclass)?\)""")


@dataclass(frozen=True, slots=True)
class TableCopy:
    table: str
    rows: int
    seconds: float


@dataclass(frozen=True, slots=True)
class CopyResult:
    """What was copied: each table's rows and time, each sequence's next-to-last value."""

    source: str
    target: str
    schema_version: int
    tables: tuple[TableCopy, ...]
    sequences: dict[str, int]
    seconds: float


def open_source(path: Path) -> duckdb.DuckDBPyConnection:
    """The DuckDB till at ``path``, read-only, at this fastimport's schema (else a plain StoreError)."""
    if not path.is_file():
        raise StoreError(f"there is no DuckDB till at {path}: check [database] path", path=str(path))
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as exc:
        if "lock" in str(exc).lower():
            raise StoreError(
                f"the DuckDB till {path} is open in another program (the till page, an import, a print "
                "worker): stop it, then copy (nothing may change the till while it is copied)",
                path=str(path),
            ) from exc
        raise StoreError(f"cannot open the DuckDB till {path}: {first_line(exc)}", path=str(path)) from exc
    con.execute("SET TimeZone = 'UTC'")
    version, latest = schema_version(con), latest_version()
    if version != latest:
        con.close()
        what = "run fastimport db migrate on it first" if version < latest else "upgrade fastimport first"
        raise StoreError(
            f"the DuckDB till {path} is at schema {version} and this fastimport writes schema {latest}: {what}",
            schema_version=version,
            latest=latest,
        )
    return con


def copy_to_postgres(
    path: Path,
    url: str,
    *,
    check: Callable[[duckdb.DuckDBPyConnection], None] | None = None,
    progress: Progress | None = None,
) -> CopyResult:
    """Copy every table of the DuckDB till at ``path`` into the empty PostgreSQL store at ``url``.

    ``check(source)`` runs on the opened till before anything is written (the fiscal room's anchors).
    """
    started = time.perf_counter()
    source = open_source(path)
    try:
        if check is not None:
            check(source)
        return _copy(source, str(path), url, started, progress)
    finally:
        source.close()


def _copy(
    source: duckdb.DuckDBPyConnection, name: str, url: str, started: float, progress: Progress | None
) -> CopyResult:
    tables = _duckdb_tables(source)
    target = PgConnection(url)
    try:
        version = schema_version(target)
        if version > latest_version():
            raise StoreError(
                f"the PostgreSQL store {shown(url)} was written by a newer fastimport (schema {version}): "
                "nothing was copied"
            )
        foreign = sorted(set(_pg_tables(target)) - set(tables))
        if foreign:
            raise StoreError(
                f"the PostgreSQL database {shown(url)} holds tables that are not fastimport's "
                f"({', '.join(foreign[:5])}{', ...' if len(foreign) > 5 else ''}): nothing was copied. "
                "Copy into a database of its own (createdb fastimport)",
                tables=foreign,
            )
        _refuse_rows(target, url, _pg_tables(target))  # before migrating: a refused copy changes nothing
        migrate(target)  # an empty database gets the schema (committed: an empty store either way)
        copied: list[TableCopy] = []
        with transaction(target):
            present = _pg_tables(target)
            missing = sorted(set(tables) - set(present))
            if missing:
                raise StoreError(
                    f"the PostgreSQL store lacks the tables {', '.join(missing)}: nothing was copied"
                )
            # No other till may write while the store fills: readers wait for the commit too.
            target.execute("LOCK TABLE " + ", ".join(f'"{t}"' for t in present) + " IN EXCLUSIVE MODE")
            _refuse_rows(target, url, present)
            target.execute("DELETE FROM schema_version")  # the till's own history of migrations follows
            for table in tables:
                copied.append(_copy_table(source, target, table, progress))
            target.unregister(STAGING)
            # setval is not undone by a rollback: last, so a failed copy leaves the sequences as they were.
            sequences = _set_sequences(source, target)
        # A fresh copy looks empty to the planner until analysed (one invoicing query took 1.9 s, not 0.02 s).
        target.execute("ANALYZE")
    finally:
        target.close()
    return CopyResult(
        source=name,
        target=shown(url),
        schema_version=latest_version(),
        tables=tuple(copied),
        sequences=sequences,
        seconds=time.perf_counter() - started,
    )


def _duckdb_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' "
        "AND table_type = 'BASE TABLE' ORDER BY table_name"
    ).fetchall()
    return [str(r[0]) for r in rows]


def _pg_tables(con: Connection) -> list[str]:
    rows = con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() "
        "AND table_type = 'BASE TABLE' ORDER BY table_name"
    ).fetchall()
    return [str(r[0]) for r in rows]


def held_rows(con: Connection, tables: list[str]) -> dict[str, int]:
    """The tables holding rows, with how many (the schema's own history is not counted)."""
    out: dict[str, int] = {}
    for table in tables:
        if table == "schema_version":
            continue
        row = first_row(con.execute(f'SELECT count(*) FROM "{table}"'))
        if row and int(row[0]):
            out[table] = int(row[0])
    return out


def _refuse_rows(con: Connection, url: str, tables: list[str]) -> None:
    held = held_rows(con, tables)
    if not held:
        return
    # What a shopkeeper recognises first (orders, invoices, the journal), then the biggest tables.
    first = [t for t in _SAID_FIRST if t in held]
    order = first + sorted(set(held) - set(first), key=lambda t: -held[t])
    said = ", ".join(f"{t}: {held[t]} rows" for t in order[:5])
    more = f" and {len(order) - 5} more tables" if len(order) > 5 else ""
    raise StoreError(
        f"the PostgreSQL store {shown(url)} is not empty ({said}{more}): "
        "db copy only fills an empty store, and nothing was copied. Copy into a new database "
        "(createdb), or drop this one first if it holds nothing you need",
        held=held,
    )


def _columns(target: Connection, table: str) -> list[tuple[str, str]]:
    """The PostgreSQL table's columns and their exact types (binary COPY and the casts need them)."""
    rows = target.execute(
        "SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a "
        "JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = current_schema() AND c.relname = ? AND a.attnum > 0 AND NOT a.attisdropped "
        "ORDER BY a.attnum",
        [table],
    ).fetchall()
    return [(str(name), str(kind)) for name, kind in rows]


def _copy_table(
    source: duckdb.DuckDBPyConnection, target: PgConnection, table: str, progress: Progress | None
) -> TableCopy:
    import pyarrow as pa

    started = time.perf_counter()
    columns = _columns(target, table)
    have = {
        str(r[0])
        for r in source.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = 'main' AND table_name = ?",
            [table],
        ).fetchall()
    }
    if have != {name for name, _ in columns}:
        raise StoreError(
            f"the table {table} has other columns in the DuckDB till than in the PostgreSQL store "
            f"({', '.join(sorted(have ^ {n for n, _ in columns}))}): nothing was copied"
        )
    names = ", ".join(f'"{name}"' for name, _ in columns)
    casts = ", ".join(f'CAST("{name}" AS {kind}) AS "{name}"' for name, kind in columns)
    # fetchall: an unfinished result would keep the DuckDB connection busy for the reader below.
    total = int(source.execute(f'SELECT count(*) FROM "{table}"').fetchall()[0][0])
    blobs = any(kind == "bytea" for _, kind in columns)
    log = payload_log.of(source)  # before the reader: it keeps the connection busy
    reader = source.sql(f'SELECT {names} FROM "{table}"').to_arrow_reader(
        BLOB_BATCH_ROWS if blobs else BATCH_ROWS
    )
    done = 0
    if progress:
        progress(table, 0, total)
    for batch in reader:
        if not batch.num_rows:
            continue
        if table == "raw_chunks":  # frames from the log beside the till: PostgreSQL keeps them inline
            batch = raw.inlined(batch, log)
        target.register(STAGING, pa.Table.from_batches([batch]))
        target.execute(f'INSERT INTO "{table}" ({names}) SELECT {casts} FROM "{STAGING}"')
        done += batch.num_rows
        if progress:
            progress(table, done, total)
    return TableCopy(table, done, time.perf_counter() - started)


def _set_sequences(source: duckdb.DuckDBPyConnection, target: Connection) -> dict[str, int]:
    """Each PostgreSQL sequence past the DuckDB one and past the ids copied: the next id follows."""
    last = {
        str(name): int(value)
        for name, value in source.execute(
            "SELECT sequence_name, last_value FROM duckdb_sequences() WHERE schema_name = 'main'"
        ).fetchall()
        if value is not None
    }
    defaults = target.execute(
        "SELECT table_name, column_name, column_default FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND column_default LIKE 'nextval(%'"
    ).fetchall()
    for table, column, default in defaults:
        found = _NEXTVAL.search(str(default))
        if not found:
            continue
        row = first_row(target.execute(f'SELECT coalesce(max("{column}"), 0) FROM "{table}"'))
        name = found.group(1)
        last[name] = max(last.get(name, 0), int(row[0]) if row else 0)
    sequences = {
        str(r[0])
        for r in target.execute(
            "SELECT sequencename FROM pg_sequences WHERE schemaname = current_schema()"
        ).fetchall()
    }
    out: dict[str, int] = {}
    for name in sorted(sequences):
        value = last.get(name, 0)
        if value > 0:
            target.execute("SELECT setval(?, ?, true)", [name, value])
            out[name] = value
    return out
