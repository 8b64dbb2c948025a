"""Kills at random points of the till page's import: ``fastimport serve`` started, an import asked through its
JSON API (``POST /api/import``), the server SIGKILLed mid-import, restarted, and the import asked again,
N times in a row on one store; then one import to its end. Nothing lost, nothing doubled."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from pathlib import Path
from typing import Any

import aiohttp
import duckdb
import pytest

from tests.chaos import harness
from tests.chaos.harness import check, command
from tests.conftest import ShopFactory, subprocess_env, write_config_file
from tests.test_documents_mail import free_port
from tests.test_processing_support import W0, W1

pytestmark = pytest.mark.chaos
SINCE, UNTIL = "2026-03-23", "2026-03-31"


class Till:
    """``fastimport serve`` in a child process on a free loopback port."""

    def __init__(self, config: Path, env: dict[str, str]) -> None:
        self.config, self.env = config, env
        self.port = free_port()
        self.proc: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self, http: aiohttp.ClientSession) -> None:
        argv = command(self.config, "serve", "--port", str(self.port))
        self.proc = await asyncio.create_subprocess_exec(
            *argv,
            cwd=harness.ROOT,
            env=self.env,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        harness.FIGURES.runs += 1
        for _ in range(600):  # up to a minute on a busy machine
            if self.proc.returncode is not None:
                err = await self.proc.stderr.read() if self.proc.stderr else b""
                raise AssertionError(f"the till page did not start: {err.decode()}")
            with contextlib.suppress(aiohttp.ClientError):
                async with http.get(self.url + "/api/pending?limit=1") as answer:
                    if answer.status == 200:
                        return
            await asyncio.sleep(0.1)
        raise AssertionError("the till page did not answer within a minute")

    async def import_range(self, http: aiohttp.ClientSession) -> str:
        async with http.post(self.url + "/api/import", json={"since": SINCE, "until": UNTIL}) as answer:
            body = await answer.json()
            check(answer.status == 202, f"import not started: {answer.status} {body}")
            return str(body["run"])

    async def state(self, http: aiohttp.ClientSession, run: str) -> dict[str, Any]:
        async with http.get(f"{self.url}/api/import/{run}") as answer:
            check(answer.status == 200, f"run {run}: {answer.status}")
            body: dict[str, Any] = await answer.json()
            return body

    async def kill(self) -> bool:
        """SIGKILL the server; True when it was still running (the kill landed)."""
        assert self.proc is not None
        landed = self.proc.returncode is None
        with contextlib.suppress(ProcessLookupError):
            self.proc.send_signal(signal.SIGKILL)
        await self.proc.wait()
        if self.proc.stderr is not None:
            await self.proc.stderr.read()
        harness.FIGURES.kills += landed
        return landed


def check_stored_once(db: Path, shop: Any) -> None:
    """After a kill: what was stored is stored once, whole (all its lines), and the shop has it."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.execute(
            "SELECT o.order_id, o.line_count, (SELECT count(*) FROM order_lines l WHERE l.store_id = o.store_id "
            "AND l.order_id = o.order_id) FROM orders o"
        ).fetchall()
    finally:
        con.close()
    ids = [r[0] for r in rows]
    check(len(ids) == len(set(ids)), "an order stored twice")
    check(set(ids) <= {o["id"] for o in shop.truth()}, "an order the shop does not have")
    check(
        all(r[1] == r[2] for r in rows),
        f"an order without all its lines: {[r for r in rows if r[1] != r[2]][:5]}",
    )


async def test_till_page_import_killed_n_times_then_exact(tmp_path: Path, shop_factory: ShopFactory) -> None:
    rng, shop, url = await harness.seeded_shop("till-import", shop_factory, 800, latency=0.01)
    config = write_config_file(tmp_path, url, per_page=20, concurrency=2)
    environ = {**subprocess_env(), "FASTIMPORT_BATCH_ORDERS": "50"}
    till = Till(config, environ)
    async with aiohttp.ClientSession() as http:
        for _ in range(harness.runs()):
            await till.start(http)
            run = await till.import_range(http)
            await asyncio.sleep(rng.uniform(0.1, 2.5))
            state = (await till.state(http, run))["state"]
            await till.kill()
            check(state in ("running", "done"), f"the import failed: {state}")
            check_stored_once(tmp_path / "till.duckdb", shop)
            # the shop moves on between runs: a paid order, a cancellation
            live = [o["id"] for o in shop.truth()]
            shop.modify_order(rng.choice(live), rng.choice(["processing", "completed", "cancelled"]))
        await till.start(http)
        run = await till.import_range(http)
        for _ in range(1200):
            state = await till.state(http, run)
            if state["state"] != "running":
                break
            await asyncio.sleep(0.1)
        await till.kill()
    check(state["state"] == "done" and state["ok"], f"the last import did not end well: {state}")
    harness.check_orders(tmp_path / "till.duckdb", shop, W0, W1)
