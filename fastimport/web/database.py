"""The web server's one store connection, used from one thread so the event loop never blocks on it.

DuckDB serves one writer per file; the till page, its webhooks and its imports share one
connection, and every call runs on a single worker thread (``await db.run(fn, *args)`` calls
``fn(config, con, *args)`` there), which also serialises writes in arrival order.

Pages that only read (the pending table) go through :meth:`Database.read` instead: a second
thread with its own cursor on the same database, so they are answered while an import or a batch
of invoices holds the writing thread (DuckDB gives each reader the last committed state).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Hashable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar, cast

from aiohttp import web

from fastimport.config import Config
from fastimport.store.db import Connection

T = TypeVar("T")


class Database:
    def __init__(self, config: Config) -> None:
        from fastimport.api.imports import connect

        self.config = config
        self._pool = ThreadPoolExecutor(1, "fastimport-web-db")
        # Opened on the worker thread: every use of the connection happens there.
        self.con: Connection = self._pool.submit(connect, config).result()
        self._readers = ThreadPoolExecutor(1, "fastimport-web-read")
        # A second connection to the same store, used on the reader thread only.
        self._reader = cast(Connection, self._pool.submit(self.con.cursor).result())
        self._lock = threading.Lock()
        self._queued: dict[Hashable, Future[Any]] = {}  # reads not started yet, by key

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(config, con, *args)`` on the database thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, lambda: fn(self.config, self.con, *args))

    async def read(self, fn: Callable[..., T], *args: Any, key: Hashable = None) -> T:
        """``fn(config, cursor, *args)`` on the reader thread: for reads only, never waiting on a write.

        Reads given the same ``key`` share one answer while it waits its turn: fifty clients asking
        the first page of the pending table cost one query.  Only a read that has not started yet is
        shared, so every caller sees at least what was committed when it asked.
        """
        with self._lock:
            job = self._queued.get(key) if key is not None else None
            if job is None:
                job = self._readers.submit(self._read_job, key, fn, args)
                if key is not None:
                    self._queued[key] = job
        return await asyncio.wrap_future(job)

    def _read_job(self, key: Hashable, fn: Callable[..., T], args: tuple[Any, ...]) -> T:
        with self._lock:  # started: later callers wait for a fresh read
            self._queued.pop(key, None)
        return fn(self.config, self._reader, *args)

    def close(self) -> None:
        self._readers.submit(self._reader.close).result()
        self._readers.shutdown()
        self._pool.submit(self.con.close).result()
        self._pool.shutdown()


CONFIG_KEY = web.AppKey("fastimport.config", Config)
DATABASE_KEY = web.AppKey("fastimport.database", Database)
