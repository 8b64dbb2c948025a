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
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

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


def store_locks(database: Path) -> StoreLocks:
    """The locks of the store at ``database``: files beside a DuckDB file (``till.duckdb.locks/``)."""
    if str(database) == ":memory:":
        return _IN_MEMORY
    return FileStoreLocks(database.with_name(database.name + ".locks"))
