"""The simulated shop in its own process (``python -m fastimport.sim``), so its CPU and RSS are not ours."""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from types import TracebackType

KEY, SECRET = "ck_test", "cs_test"
API = "/wp-json/wc/v3"


@dataclass(frozen=True, slots=True)
class ShopSpec:
    orders: int
    latency: float = 0.0
    max_concurrency: int = 0
    days: float = 7.0


@dataclass(frozen=True, slots=True)
class Window:
    """Creation dates of the shop's first and last order (UTC), read back from the shop itself."""

    first: dt.datetime
    last: dt.datetime
    total: int

    def range_for(self, fraction: float) -> tuple[dt.datetime, dt.datetime]:
        """A ``[start, end)`` holding about ``fraction`` of the orders (all of them at 1.0)."""
        start = self.first
        if fraction >= 1.0:
            return start, self.last + dt.timedelta(seconds=1)
        span = (self.last - self.first) * fraction
        return start, start + span


class ShopProcess:
    """Start a shop, wait for its URL; ``stop()`` (or the ``with`` block's end) ends it by its pid."""

    def __init__(self, spec: ShopSpec) -> None:
        self.spec = spec
        self.proc: subprocess.Popen[str] | None = None
        self.url = ""
        self.started_at = 0.0
        self.ready_seconds = 0.0

    def launch(self) -> None:
        """Start the process without waiting for it (a big shop renders its orders for a while)."""
        cmd = [
            sys.executable,
            "-m",
            "fastimport.sim",
            "--orders",
            str(self.spec.orders),
            "--latency",
            str(self.spec.latency),
            "--max-concurrency",
            str(self.spec.max_concurrency),
            "--days",
            str(self.spec.days),
            "--port",
            "0",
        ]
        self.started_at = time.perf_counter()
        self.proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env={**os.environ}
        )

    def wait_ready(self, timeout: float = 600.0) -> str:
        if self.proc is None:
            self.launch()
        assert self.proc is not None and self.proc.stdout is not None
        if self.url:
            return self.url
        # The shop prints its URL once it listens (after rendering every order).
        line = self.proc.stdout.readline().strip()
        if not line.startswith("http"):
            code = self.proc.poll()
            raise RuntimeError(f"the simulated shop did not start (exit code {code}, printed {line!r})")
        self.url = line
        self.ready_seconds = time.perf_counter() - self.started_at
        del timeout
        return self.url

    def window(self) -> Window:
        first, total = _probe(self.url, "asc")
        last, _ = _probe(self.url, "desc")
        return Window(first, last, total)

    def stop(self) -> None:
        proc = self.proc
        if proc is None:
            return
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait(10)
        if proc.stdout is not None:
            proc.stdout.close()
        self.proc = None

    def __enter__(self) -> ShopProcess:
        self.wait_ready()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def _probe(url: str, order: str) -> tuple[dt.datetime, int]:
    query = f"{API}/orders?per_page=1&orderby=id&order={order}&status=any"
    req = urllib.request.Request(url + query, headers={"Authorization": basic_auth()})
    with urllib.request.urlopen(req, timeout=60) as resp:
        body = json.loads(resp.read())
        total = int(resp.headers["X-WP-Total"])
    created = dt.datetime.fromisoformat(body[0]["date_created_gmt"]).replace(tzinfo=dt.UTC)
    return created, total


def basic_auth() -> str:
    return "Basic " + base64.b64encode(f"{KEY}:{SECRET}".encode()).decode()
