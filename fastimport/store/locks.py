"""Per-store locks: one run imports a given store at a time; a second run skips it as ``locked``.

The interface is :class:`StoreLocks` (``try_acquire(store, owner)`` gives a :class:`Lease` or raises
:class:`~fastimport.errors.StoreLockedError` naming the holder) so that each store backend brings
its own: today a lock file per store beside the DuckDB file, held with ``fcntl.flock``; on
PostgreSQL, ``pg_try_advisory_lock`` on a key derived from the store's name, held by the session.

:class:`FileStoreLocks` serves both cases DuckDB has: two runs in one process (each acquisition
opens the file anew, and ``flock`` treats two open file descriptions as two holders) and two
processes on one machine.  The kernel releases a ``flock`` when its holder dies, so a killed run
never leaves a store locked; the file itself stays (deleting it would race with a new holder).
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import socket
import threading
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import orjson

from fastimport.errors import StoreError, StoreLockedError


@dataclass(frozen=True, slots=True)
class Owner:
    """Who holds a store: written into the lock so a run that finds it busy can say who and since when."""

    pid: int
    host: str
    since: str  # ISO 8601, UTC
    run: str  # the holder's run id (one per invocation)

    @classmethod
    def current(cls, run: str) -> Owner:
        now = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
        return cls(pid=os.getpid(), host=socket.gethostname(), since=now, run=run)

    def describe(self) -> str:
        return f"run {self.run} (process {self.pid} on {self.host}) since {self.since}"


class Lease(Protocol):
    """A held store lock; ``release()`` is idempotent."""

    store: str

    def release(self) -> None: ...


class StoreLocks(Protocol):
    """What a store backend offers: take a store's lock without waiting, or say who has it."""

    def try_acquire(self, store: str, owner: Owner) -> Lease: ...


def _locked(store: str, owner: Owner | None) -> StoreLockedError:
    who = owner.describe() if owner else "another run"
    return StoreLockedError(
        f"store '{store}' is being imported by {who}; skipped",
        store=store,
        holder=owner.describe() if owner else None,
        since=owner.since if owner else None,
    )


class _FileLease:
    def __init__(self, store: str, fd: int) -> None:
        self.store = store
        self._fd: int | None = fd

    def release(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)  # closing the last descriptor releases the flock


class FileStoreLocks:
    """``<database>.locks/<store>.lock`` files held with ``flock(LOCK_EX | LOCK_NB)``."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def path(self, store: str) -> Path:
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in store)
        return self.directory / f"{safe}.lock"

    def try_acquire(self, store: str, owner: Owner) -> Lease:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path(store), os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise StoreError(f"cannot create the lock of store '{store}' in {self.directory}: {exc}") from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_owner(fd)
            os.close(fd)
            raise _locked(store, holder) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, orjson.dumps(owner), 0)
        return _FileLease(store, fd)

    def holder(self, store: str) -> Owner | None:
        """Who last held the store's lock (whether or not it still does), for messages."""
        try:
            fd = os.open(self.path(store), os.O_RDONLY)
        except OSError:
            return None
        try:
            return _read_owner(fd)
        finally:
            os.close(fd)


def _read_owner(fd: int) -> Owner | None:
    try:
        data = orjson.loads(os.pread(fd, 4096, 0))
        return Owner(
            pid=int(data["pid"]), host=str(data["host"]), since=str(data["since"]), run=str(data["run"])
        )
    except (OSError, orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        return None  # the holder has not written itself in yet


class _MemoryLease:
    def __init__(self, locks: MemoryStoreLocks, store: str) -> None:
        self.store = store
        self._locks: MemoryStoreLocks | None = locks

    def release(self) -> None:
        if self._locks is not None:
            locks, self._locks = self._locks, None
            with locks.mutex:
                locks.held.pop(self.store, None)


class MemoryStoreLocks:
    """Locks inside this process only: for an in-memory database, which no other process can see."""

    def __init__(self) -> None:
        self.mutex = threading.Lock()
        self.held: dict[str, Owner] = {}

    def try_acquire(self, store: str, owner: Owner) -> Lease:
        with self.mutex:
            if store in self.held:
                raise _locked(store, self.held[store])
            self.held[store] = owner
        return _MemoryLease(self, store)


_IN_MEMORY = MemoryStoreLocks()

# The first half of fastimport's advisory lock keys ("fimp"); the second is the store name's CRC.
_PG_LOCK_CLASS = 0x66696D70 & 0x7FFFFFFF


class _PgLease:
    def __init__(self, store: str, con: Any) -> None:
        self.store = store
        self._con: Any = con

    def release(self) -> None:
        if self._con is not None:
            con, self._con = self._con, None
            con.close()  # the session's end releases its advisory locks


class PgStoreLocks:
    """``pg_try_advisory_lock`` held by a session of its own per store: works across machines.

    The server releases the lock when the holder's connection ends, killed or not.  The holder
    names itself in its session's ``application_name``, which a run that finds it busy reads back.
    """

    def __init__(self, url: str) -> None:
        self.url = url

    def try_acquire(self, store: str, owner: Owner) -> Lease:
        import psycopg

        from fastimport.store.postgres import first_line, shown

        key = zlib.crc32(store.encode("utf-8")) & 0x7FFFFFFF
        name = f"fastimport {owner.run} {owner.pid}@{owner.host}"[:63]
        try:
            con = psycopg.connect(self.url, autocommit=True, application_name=name)
        except psycopg.Error as exc:
            raise StoreError(
                f"cannot reach the PostgreSQL store {shown(self.url)}: {first_line(exc)}"
            ) from exc
        try:
            row = con.execute("SELECT pg_try_advisory_lock(%s, %s)", [_PG_LOCK_CLASS, key]).fetchone()
            if row and row[0]:
                return _PgLease(store, con)
            holder = con.execute(
                "SELECT a.application_name, a.pid, coalesce(host(a.client_addr), 'local'), a.backend_start "
                "FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' "
                "AND l.classid = %s AND l.objid = %s AND l.objsubid = 2 AND l.granted",
                [_PG_LOCK_CLASS, key],
            ).fetchone()
        except psycopg.Error as exc:
            con.close()
            raise StoreError(f"cannot lock store '{store}' on {shown(self.url)}: {first_line(exc)}") from exc
        con.close()
        raise _locked(store, _pg_owner(holder)) from None


def _pg_owner(row: Any) -> Owner | None:
    if row is None:
        return None
    words = str(row[0]).split(" ")
    run = words[1] if len(words) > 1 and words[0] == "fastimport" else "?"
    host = words[2].partition("@")[2] if len(words) > 2 else str(row[2])
    since = row[3].astimezone(dt.UTC).replace(microsecond=0).isoformat()
    return Owner(pid=int(row[1]), host=host or str(row[2]), since=since, run=run)


def store_locks(database: Path | str) -> StoreLocks:
    """The locks of the store at ``database``: files beside a DuckDB file (``till.duckdb.locks/``),
    advisory locks on a PostgreSQL server (a ``postgresql://`` URL)."""
    if isinstance(database, str) and database.startswith(("postgresql://", "postgres://")):
        return PgStoreLocks(database)
    database = Path(database)
    if str(database) == ":memory:":
        return _IN_MEMORY
    return FileStoreLocks(database.with_name(database.name + ".locks"))
