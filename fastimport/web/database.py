"""The web server's one store connection, used from one thread so the event loop never blocks on it.

DuckDB serves one writer per file; the till page, its webhooks and its imports share one
connection, and every call runs on a single worker thread (``await db.run(fn, *args)`` calls
``fn(config, con, *args)`` there), which also serialises writes in arrival order.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

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

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(config, con, *args)`` on the database thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, lambda: fn(self.config, self.con, *args))

    def close(self) -> None:
        self._pool.submit(self.con.close).result()
        self._pool.shutdown()


CONFIG_KEY = web.AppKey("fastimport.config", Config)
DATABASE_KEY = web.AppKey("fastimport.database", Database)
