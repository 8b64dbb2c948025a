"""Opening the store, migrations on open: a DuckDB file (one writer process at a time) or PostgreSQL.

:func:`connect` takes the DuckDB file's path or a ``postgresql://`` URL; both give a
:data:`Connection` that runs the same SQL (see :mod:`fastimport.store.postgres`).
"""

from __future__ import annotations

import errno
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import duckdb

from fastimport.errors import StoreError
from fastimport.store.postgres import COMPAT_FUNCTIONS, PgConnection, is_url, translate_ddl
from fastimport.store.schema import MIGRATIONS

# What the rooms above the store hold: DuckDB's connection, or the PostgreSQL one speaking its API.
Connection = duckdb.DuckDBPyConnection | PgConnection

# DuckDB lets one process hold a database file for writing; a second process
# (another till, a nightly job) waits for it rather than failing at once.
DEFAULT_LOCK_WAIT_SECONDS = 30.0
# DuckDB's default buffer pool is 80 % of RAM, which a till shares with everything else; it caches
# what an import writes and peaked at 1 GB for a million orders. It spills to disk beyond this cap.
MEMORY_LIMIT = "512MB"
# DuckDB folds its write-ahead log into the file every 16 MB by default, i.e. after nearly every
# import batch, re-compressing the same row groups each time; every 64 MB cut the store stage by
# ~30 % on 200,000 orders (each batch is still committed and durable in the log).
CHECKPOINT_THRESHOLD = "64MB"
# Called after each transaction ends, with whether it committed (the fiscal room appends the new
# chain heads to its anchor file after a commit that extended a chain).
AFTER_TRANSACTION: list[Callable[[Connection, bool], None]] = []


# The till each open connection works for ([till] name): its print jobs are its own.  Held beside the
# connection (DuckDB's connections take no attributes), weakly: keyed by id() alone, a new connection
# could inherit a closed one's till when Python reuses the id.
_TILLS: weakref.WeakKeyDictionary[Connection, str | None] = weakref.WeakKeyDictionary()


def first_row(result: Connection) -> tuple[Any, ...] | None:
    """The first row of a statement's result (None when it has none), read to its end.

    DuckDB refuses to register or unregister a table on a connection whose last result is half-read (as
    ``fetchone`` leaves it, even on a one-row result): the store reads its one-row answers through this.
    """
    rows = result.fetchall()
    return tuple(rows[0]) if rows else None


def set_till(con: Connection, name: str | None) -> None:
    _TILLS[con] = name


def till_of(con: Connection) -> str | None:
    """The till this connection works for (None: the one till of a store that names none)."""
    return _TILLS.get(con)


def connect(
    path: str | Path, lock_wait: float = DEFAULT_LOCK_WAIT_SECONDS, *, upgrade: bool = True
) -> Connection:
    """Open (creating if needed) the database at ``path`` (a ``postgresql://`` URL: that server's
    database) and bring its schema up to date (``upgrade=False``: as it is, for ``fastimport db``)."""
    if is_url(path):
        pg = PgConnection(str(path))
        if upgrade:
            try:
                migrate(pg)
            except BaseException:
                pg.close()
                raise
        return pg
    path = Path(path)
    if str(path) != ":memory:":
        path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + lock_wait
    delay = 0.05
    while True:
        try:
            con = duckdb.connect(
                str(path), config={"memory_limit": MEMORY_LIMIT, "checkpoint_threshold": CHECKPOINT_THRESHOLD}
            )
            break
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower() or time.monotonic() >= deadline:
                raise StoreError(
                    f"cannot open the database {path}: {_first_line(exc)}",
                    path=str(path),
                ) from exc
            time.sleep(delay)
            delay = min(delay * 2, 0.5)
    con.execute("SET TimeZone = 'UTC'")
    if upgrade:
        migrate(con)
    return con


@contextmanager
def transaction(con: Connection) -> Iterator[Connection]:
    """``with transaction(con):`` BEGIN, COMMIT when the block ends, ROLLBACK on any exception (re-raised).

    Any exception, not only database errors: a KeyboardInterrupt or a failing hook (a print job that
    cannot be rendered) must not leave half a batch of invoices behind.
    """
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
    except BaseException as exc:
        try:
            con.execute("ROLLBACK")
        except (duckdb.Error, StoreError):
            # A full disk or an internal error invalidates the database, a lost server takes its
            # transaction with it: nothing can roll back, and nothing was committed.
            if store_failure(exc) is None and not isinstance(exc, StoreError):
                raise
        for hook in AFTER_TRANSACTION:
            hook(con, False)
        failure = store_failure(exc)
        if failure is not None and not isinstance(exc, StoreError):
            raise failure from exc
        raise
    try:
        con.execute("COMMIT")
    except duckdb.Error as exc:
        failure = store_failure(exc)
        if failure is None:
            raise
        for hook in AFTER_TRANSACTION:
            hook(con, False)
        raise failure from exc
    for hook in AFTER_TRANSACTION:
        hook(con, True)


def schema_version(con: Connection) -> int:
    exists = first_row(
        con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_version' "
            "AND table_schema = current_schema()"
        )
    )
    if not exists or not exists[0]:
        return 0
    # fetchall: an unfinished result would refuse a table registered next (connect's last query).
    return int(con.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchall()[0][0])


def latest_version() -> int:
    """The schema version this fastimport writes."""
    return MIGRATIONS[-1].version


def migrate(con: Connection) -> int:
    """Run the migrations this database lacks; returns the resulting version."""
    current = schema_version(con)
    latest = MIGRATIONS[-1].version
    if current > latest:
        raise StoreError(
            f"this database was written by a newer fastimport (schema {current}, this one knows {latest}); "
            "upgrade fastimport before using it"
        )
    postgres = isinstance(con, PgConnection)
    if not (postgres and current < latest):
        return _apply(con, current, postgres)
    # Two tills opening a new server at once: one migrates, the other waits, then finds it done.
    con.execute("SELECT pg_advisory_lock(hashtext('fastimport schema'))")
    try:
        return _apply(con, schema_version(con), postgres)
    finally:
        con.execute("SELECT pg_advisory_unlock(hashtext('fastimport schema'))")


def _apply(con: Connection, current: int, postgres: bool) -> int:
    for migration in MIGRATIONS:
        if migration.version <= current:
            continue
        try:
            with transaction(con):
                if migration.version == 1:
                    con.execute(
                        "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, "
                        "description VARCHAR NOT NULL, applied_at TIMESTAMPTZ NOT NULL)"
                    )
                    for function in COMPAT_FUNCTIONS if postgres else ():
                        con.execute(function)
                runs = migration.backend in ("both", "postgres" if postgres else "duckdb")
                for statement in migration.statements if runs else ():
                    con.execute(translate_ddl(statement) if postgres else statement)
                con.execute(
                    "INSERT INTO schema_version VALUES (?, ?, now())",
                    [migration.version, migration.description],
                )
        except duckdb.Error as exc:
            raise StoreError(
                f"could not upgrade the database to schema {migration.version}: {_first_line(exc)}"
            ) from exc
        current = migration.version
    return current


# What a full filesystem, a quota or a file-size limit looks like from DuckDB and from Python.
_DISK_FULL_ERRNOS = {errno.ENOSPC, errno.EFBIG, errno.EDQUOT}
_DISK_FULL_SIGNS = ("no space left on device", "file too large", "disk quota exceeded")


def store_failure(exc: BaseException) -> StoreError | None:
    """The plain-words :class:`StoreError` for a failure after which the database refuses everything
    until it is opened again: a full disk (:func:`disk_full`), or DuckDB's invalidation after an
    internal error (a ``FatalException``, e.g. a checkpoint that found no memory); else None."""
    full = disk_full(exc)
    if full is not None or not isinstance(exc, duckdb.FatalException):
        return full
    lines = str(exc).strip().splitlines()
    cause = next((line for line in lines if line.startswith("Original error")), lines[0] if lines else "")
    cause = cause.removeprefix('Original error: "').rstrip('"')
    return StoreError(
        f"the database stopped after an internal error ({cause}); what was committed before is kept. "
        "Run the command again (it opens the database anew)"
    )


def disk_full(exc: BaseException) -> StoreError | None:
    """The plain-words :class:`StoreError` for an error that means the disk is full, else None.

    DuckDB reports it as an ``IOException`` (``Could not write file …: No space left on device`` or
    ``File too large`` under a file-size limit), then as a ``FatalException`` (the database is
    invalidated) carrying the original error's text; Python as an ``OSError`` with its errno.
    """
    if isinstance(exc, StoreError):
        return exc if getattr(exc, "disk_full", False) else None
    text = str(exc).lower()
    if not (
        (isinstance(exc, OSError) and exc.errno in _DISK_FULL_ERRNOS)
        or any(sign in text for sign in _DISK_FULL_SIGNS)
    ):
        return None
    cause = next(
        (line for line in str(exc).splitlines() if any(s in line.lower() for s in _DISK_FULL_SIGNS)), ""
    )
    cause = cause.strip().removeprefix('Original error: "').rstrip('"') or _first_line(exc)
    return StoreError(
        "the disk is full: the database could not be written "
        f"({cause}); what was committed before is kept. "
        "Free some space and run the command again",
        disk_full=True,
    )


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


class _Held:
    """Who holds one database-wide DuckDB setting now, and what it was before the first of them."""

    __slots__ = ("holders", "original")

    def __init__(self, original: str) -> None:
        self.original = original  # an SQL literal
        self.holders: list[tuple[object, str]] = []  # (token, value), latest last


# ``SET threads`` and ``SET memory_limit`` act on the whole database (every connection and cursor of
# it), so two runs saving and putting back the value each on their own could interleave (an import
# and a batch of invoices on two cursors) and leave the wrong one behind.  One owner instead, per
# (database, setting): the first holder saves the value, the last one to leave puts it back.
_HELD: dict[tuple[str, str], _Held] = {}
_HELD_LOCK = threading.Lock()


def _database_key(con: duckdb.DuckDBPyConnection) -> str:
    """Which DuckDB database ``con`` works on: its file (a second ``connect`` to one file in one process
    shares its database), or for an in-memory one the connection itself (its cursors cannot be told
    apart from another in-memory database's; an entry lives only while a holder keeps ``con`` alive)."""
    rows = con.execute(
        "SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
    ).fetchall()
    path = rows[0][0] if rows else None
    return f"file:{path}" if path else f"memory:{id(con)}"


def _hold(con: duckdb.DuckDBPyConnection, values: dict[str, str]) -> Callable[[], None]:
    """Set each ``setting = value`` (SQL literals) on the database for as long as this holder keeps it;
    returns the release, which sets what the latest remaining holder asked, or the saved value after
    the last one (it raises DuckDB's error when the database refuses, the holder released all the same)."""
    token = object()
    database = _database_key(con)
    with _HELD_LOCK:
        try:
            for setting, value in values.items():
                held = _HELD.get((database, setting))
                if held is None:
                    current = str(con.execute(f"SELECT current_setting('{setting}')").fetchall()[0][0])
                    # As a string literal, which DuckDB reads back for any setting (threads = '2').
                    held = _HELD[(database, setting)] = _Held("'" + current.replace("'", "''") + "'")
                held.holders.append((token, value))
                con.execute(f"SET {setting} = {value}")
        except BaseException:
            with suppress(duckdb.Error):
                _release(con, database, token, values)
            raise

    def release() -> None:
        with _HELD_LOCK:
            _release(con, database, token, values)

    return release


def _release(con: duckdb.DuckDBPyConnection, database: str, token: object, values: dict[str, str]) -> None:
    failure: duckdb.Error | None = None
    for setting in values:
        held = _HELD.get((database, setting))
        if held is None or all(t is not token for t, _ in held.holders):
            continue
        latest = held.holders[-1][0] is token
        held.holders = [(t, v) for t, v in held.holders if t is not token]
        if held.holders:
            if not latest:
                continue  # the value set is a later holder's, still in force
            value = held.holders[-1][1]
        else:
            del _HELD[(database, setting)]
            value = held.original
        try:
            con.execute(f"SET {setting} = {value}")
        except duckdb.Error as exc:
            failure = failure or exc
    if failure is not None:
        raise failure


@contextmanager
def single_threaded(con: Connection) -> Iterator[None]:
    """DuckDB on one thread while a run of small statements goes (a batch of invoices), then as it was.

    Each statement of an invoice chunk handles a few thousand rows: a second DuckDB thread only adds
    hand-overs and locks (6 % more instructions per invoice, and more CPU seconds, measured).  Nothing
    is set on PostgreSQL.  The setting is the database's: while an import (:func:`ingest_settings`)
    or another batch holds it too, the last of them to end puts back the value found by the first.
    """
    if isinstance(con, PgConnection):
        yield
        return
    release = _hold(con, {"threads": "1"})
    try:
        yield
    finally:
        # A database that stopped (full disk) refuses this too: the error that stopped it is the one to see.
        with suppress(duckdb.Error):
            release()


INGEST_THREADS = 1  # DuckDB threads while an import runs
# DuckDB's buffer pool while an import runs, the same whatever the store's size (issue #12: flat in N).
# A pool grown with the store (64 MB + 128 bytes a stored order: 192 MB at a million) peaked at 543
# and 561 MB RSS at a million (two runs); fixed at 64 MB, 408 and 409 MB; at 48 MB, 385 and 382 MB
# with no more CPU (89 and 91 CPU-s against 99 and 97, alternating rounds, DuckDB 2.0.1), and two
# million orders went through it.  Rows not yet folded into the file spill to DuckDB's temporary
# directory beside it.  An earlier measurement, before the raw payloads left the file for their log,
# had a checkpoint fail ("failed to pin block") at 550,000 orders under 64 MB; it has not recurred.
INGEST_MEMORY_MB = 48


@contextmanager
def ingest_settings(con: Connection) -> Iterator[None]:
    """DuckDB set for a stream of appends while the import runs, then put back as it was.

    One DuckDB thread: its worker threads otherwise compete with the parse and pack threads for
    the cores, and an append of a batch gains nothing from them (8,298 against 6,716 orders/s on
    200,000 orders, one run, 2 shared cores).  A small fixed buffer pool (:data:`INGEST_MEMORY_MB`):
    DuckDB otherwise keeps the blocks it wrote, up to its limit (300,000 orders peaked at 500 MB with
    128 MB, 604 MB with 512 MB).  The log is folded into the file at the end, under the same limit,
    rather than at an arbitrary later moment.  Nothing is set on PostgreSQL, which tunes itself.
    Both settings are the database's, held as :func:`single_threaded` holds ``threads``.
    """
    if isinstance(con, PgConnection):
        yield
        return
    release = _hold(con, {"threads": str(INGEST_THREADS), "memory_limit": f"'{INGEST_MEMORY_MB}MB'"})
    try:
        yield
    finally:
        # Another transaction open (the till page's thread)? Then DuckDB checkpoints later by itself.
        with suppress(duckdb.Error):
            con.execute("CHECKPOINT")
        try:
            release()
        except duckdb.Error as exc:
            full = disk_full(exc)
            if full is None:
                raise
            raise full from exc
