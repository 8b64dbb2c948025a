"""Where the webhook intake plugs into the till page: mounted when its module exists, outside the session."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import fastimport
from fastimport.web import app as app_module
from tests.conftest import ShopFactory
from tests.web_support import till_client, till_config

TOKEN = "till-token-0123456789-abcdefghij"


async def test_webhook_routes_are_mounted_and_keep_their_own_checks(
    tmp_path: Path, shop_factory: ShopFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, url = await shop_factory(orders=1)
    monkeypatch.setattr(app_module, "WEBHOOKS_MODULE", "tests.web_fake_webhooks")
    monkeypatch.setenv("FASTIMPORT_TEST_TILL_TOKEN", TOKEN)
    config = till_config(tmp_path, url, token_env="FASTIMPORT_TEST_TILL_TOKEN")
    async with till_client(config, monkeypatch, host="0.0.0.0") as client:
        # No session, no CSRF token, no bearer: the shop signs its webhooks, the module checks them.
        answer = await client.post("/webhooks/eshop", data=b'{"id": 1}')
        assert answer.status == 200 and (await answer.json()) == {"store": "eshop", "bytes": 9}
        assert (await client.get("/api/pending")).status == 401


async def test_the_journal_shows_what_the_library_says_about_webhooks(
    tmp_path: Path, shop_factory: ShopFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, url = await shop_factory(orders=1)

    def webhook_status(config: Any, con: Any) -> list[dict[str, Any]]:
        return [{"store": "eshop", "last_webhook": "<i>jamais</i>"}]

    monkeypatch.setattr(fastimport, "webhook_status", webhook_status, raising=False)
    monkeypatch.setattr(fastimport, "__all__", [*fastimport.__all__, "webhook_status"])
    async with till_client(till_config(tmp_path, url), monkeypatch) as client:
        page = await (await client.get("/journal")).text()
        assert "Webhooks" in page and "last_webhook : &lt;i&gt;jamais&lt;/i&gt;" in page
        journal = await (await client.get("/api/journal")).json()
        assert journal["webhooks"] == [{"store": "eshop", "last_webhook": "<i>jamais</i>"}]


async def test_the_home_page_is_compiled_at_start_up(
    tmp_path: Path, shop_factory: ShopFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first ``GET /`` does not pay for compiling its templates (~50 ms, issue #12's first render)."""
    import aiohttp_jinja2

    _, url = await shop_factory(orders=1)
    async with till_client(till_config(tmp_path, url), monkeypatch) as client:
        env = aiohttp_jinja2.get_env(client.app)
        compiled = {key[1] for key in env.cache} if env.cache is not None else set()
        assert {"base.html", "pending.html"} <= compiled
        compiles: list[str] = []
        monkeypatch.setattr(env, "compile", lambda *a, **k: compiles.append(a[1]))
        assert (await client.get("/")).status == 200 and not compiles
