"""Helpers for the till page's tests (no tests here): a shop, a till configuration, the app on loopback."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp.test_utils import TestClient, TestServer

from fastimport.config import Config, parse_config
from fastimport.web.app import create_app
from tests.conftest import ShopFactory
from tests.test_processing_support import SIGNING_ENV, SIGNING_KEY, raw_config

PARIS = ZoneInfo("Europe/Paris")
EVIL_NAME = "<b>Émile</b><script>alert(1)</script>"


def today_window(now: dt.datetime | None = None) -> tuple[dt.datetime, dt.datetime]:
    """From local midnight (Paris) to now, in UTC: orders made there fall in "Aujourd'hui"."""
    now = (now or dt.datetime.now(dt.UTC)).replace(second=0, microsecond=0)
    local = now.astimezone(PARIS)
    midnight = local.replace(hour=0, minute=0).astimezone(dt.UTC)
    if now - midnight < dt.timedelta(minutes=2):  # just after midnight: a window of a minute at least
        now = midnight + dt.timedelta(minutes=2)
    return midnight, now


def till_config(
    tmp_path: Path,
    url: str,
    printer_port: int | None = None,
    store: dict[str, Any] | None = None,
    **server: Any,
) -> Config:
    raw = raw_config(tmp_path, url, **(store or {}))
    if printer_port is not None:
        raw["printers"] = [
            {"name": "comptoir", "kind": "network", "host": "127.0.0.1", "port": printer_port, "timeout": 2}
        ]
    raw["server"] = server
    return parse_config(raw)


async def shop_of_today(shop_factory: ShopFactory, orders: int = 12, evil: bool = False) -> tuple[Any, str]:
    start, end = today_window()
    shop, url = await shop_factory(orders=orders, start=start, end=end, unknown_sku_rate=0.0)
    if evil:
        base = shop.store.order(0)
        shop.create_order(
            start,  # the oldest of the day: first row of the table, oldest first
            billing={**base["billing"], "first_name": EVIL_NAME, "last_name": "Dupont"},
            customer_note="<img src=x onerror=alert(2)>",
        )
    return shop, url


@asynccontextmanager
async def till_client(
    config: Config, monkeypatch: Any, host: str | None = None
) -> AsyncIterator[TestClient[Any, Any]]:
    monkeypatch.setenv(SIGNING_ENV, SIGNING_KEY)
    app = create_app(config, host=host)
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        yield client


async def csrf_of(client: TestClient[Any, Any]) -> str:
    """The CSRF token of the client's session (read from the page, as the browser does)."""
    page = await (await client.get("/")).text()
    marker = 'name="csrf-token" content="'
    start = page.index(marker) + len(marker)
    return page[start : page.index('"', start)]
