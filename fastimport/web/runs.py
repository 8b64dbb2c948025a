"""Imports started from the till page: one at a time, on the database thread, with live progress.

A run's progress (pages, orders read, per store) is updated from the database thread through the
event loop; pages and the JSON API read it, and :func:`ImportRun.changes` yields each new state
(the server-sent events of ``/api/import/<id>/events``).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import secrets
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

import fastimport
from fastimport.api.imports import selected_stores
from fastimport.config import Config
from fastimport.errors import FastImportError
from fastimport.importer import ImportReport
from fastimport.ranges import RangeRequest
from fastimport.store.db import Connection
from fastimport.web.database import Database

PRESETS = ("today", "yesterday", "week")
KEPT_RUNS = 20
SUMMED = ("new", "updated", "unchanged", "repeated", "locked_changes", "unknown_articles",
          "unknown_customers", "pages", "requests", "retries")  # fmt: skip


def range_request(body: dict[str, Any]) -> RangeRequest:
    """``{"preset": "today"|"yesterday"|"week"}`` or ``{"since": "YYYY-MM-DD", "until": "YYYY-MM-DD"}``."""
    preset = body.get("preset")
    if preset is not None:
        if preset not in PRESETS:
            raise web.HTTPBadRequest(text=f"unknown preset {preset!r}: use today, yesterday or week")
        return {"today": RangeRequest.today, "yesterday": RangeRequest.yesterday, "week": RangeRequest.week}[
            preset
        ]()
    since, until = body.get("since"), body.get("until")
    if not isinstance(since, str) or not since:
        raise web.HTTPBadRequest(
            text='give "preset" (today, yesterday, week) or "since" (and "until") as YYYY-MM-DD'
        )
    for value in (since, until):
        if value is not None:
            try:
                dt.date.fromisoformat(str(value))
            except ValueError as exc:
                raise web.HTTPBadRequest(text=f"{value!r} is not a date: write YYYY-MM-DD") from exc
    if until is not None and str(until) < since:
        raise web.HTTPBadRequest(text="the range ends before it starts")
    return RangeRequest.between(since, str(until) if until else None)


@dataclass
class ImportRun:
    id: str
    started_at: str
    stores: list[str]
    state: str = "running"  # running | done | failed
    progress: dict[str, dict[str, int]] = field(default_factory=dict)
    reports: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    version: int = 0
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    def touch(self) -> None:
        self.version += 1
        self._changed.set()

    async def changes(self) -> AsyncIterator[dict[str, Any]]:
        """The run's state now, then after each change, until it has finished."""
        seen = -1
        while True:
            if self.version != seen:
                seen = self.version
                yield self.to_json()
            if self.state != "running":
                return
            self._changed.clear()
            if self.version == seen:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), 15)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"run": self.id, "state": self.state, "started_at": self.started_at}
        for key in SUMMED:
            out[key] = sum(int(r.get(key) or 0) for r in self.reports)
        out["orders_read"] = sum(p["orders"] for p in self.progress.values())
        out["ok"] = self.state == "done"
        out["error"] = self.error
        out["progress"] = [
            {"store": s, **self.progress.get(s, {"pages": 0, "orders": 0})} for s in self.stores
        ]
        out["reports"] = self.reports
        return out


class ImportRuns:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.runs: dict[str, ImportRun] = {}
        self.current: ImportRun | None = None
        self.tasks: set[asyncio.Task[None]] = set()

    def start(self, config: Config, request: RangeRequest, stores: Sequence[str] | None) -> ImportRun:
        if self.current is not None and self.current.state == "running":
            raise web.HTTPConflict(text=f"an import is already running (run {self.current.id})")
        names = [s.name for s in selected_stores(config, stores)]
        now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        run = ImportRun(secrets.token_hex(8), now, names)
        self.runs[run.id] = run
        for old in list(self.runs)[:-KEPT_RUNS]:
            del self.runs[old]
        self.current = run
        task = asyncio.get_running_loop().create_task(self._run(run, request, stores))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return run

    async def _run(self, run: ImportRun, request: RangeRequest, stores: Sequence[str] | None) -> None:
        loop = asyncio.get_running_loop()

        def progressed(store: str, pages: int, orders: int) -> None:  # on the database thread
            def apply() -> None:
                run.progress[store] = {"pages": pages, "orders": orders}
                run.touch()

            loop.call_soon_threadsafe(apply)

        def work(config: Config, con: Connection) -> list[ImportReport]:
            return fastimport.import_stores(config, con, request, stores=stores, progress=progressed)

        try:
            reports = await self.db.run(work)
        except FastImportError as exc:
            run.state, run.error = "failed", exc.message
        except Exception as exc:  # the page must learn the run ended, whatever happened
            run.state, run.error = "failed", f"the import stopped: {type(exc).__name__}"
        else:
            run.reports = [r.to_json() for r in reports]
            for r in reports:
                run.progress[r.store] = {"pages": r.pages, "orders": r.orders}
            failed = [r for r in reports if not r.ok]
            run.state = "failed" if failed else "done"
            run.error = "; ".join(f"{r.store}: {r.error}" for r in failed) or None
        run.touch()

    async def close(self) -> None:
        for task in list(self.tasks):
            with contextlib.suppress(BaseException):
                await task


RUNS_KEY = web.AppKey("fastimport.import_runs", ImportRuns)
