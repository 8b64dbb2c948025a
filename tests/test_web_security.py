"""The till page's security: loopback by default, a token beyond it, sessions, CSRF, no secret shown."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from fastimport.errors import ConfigError
from fastimport.web.app import create_app
from fastimport.web.settings import is_loopback
from tests.conftest import ShopFactory
from tests.test_processing_support import env, write_toml
from tests.web_support import csrf_of, till_client, till_config

TOKEN = "till-token-0123456789-abcdefghij"
TOKEN_ENV = "FASTIMPORT_TEST_TILL_TOKEN"


def test_loopback_addresses() -> None:
    assert all(is_loopback(h) for h in ("127.0.0.1", "127.8.9.1", "::1", "[::1]", "localhost"))
    assert not any(is_loopback(h) for h in ("0.0.0.0", "192.168.1.20", "::", "till.local"))


def test_a_bind_beyond_loopback_without_a_token_refuses_to_start(tmp_path: Path) -> None:
    config = till_config(tmp_path, "http://127.0.0.1:9")
    for host in ("0.0.0.0", "192.168.1.20", "::"):
        with pytest.raises(ConfigError, match="token_env"):
            create_app(config, host=host)
    create_app(config, host="127.0.0.1")  # loopback needs none
    unset = till_config(tmp_path, "http://127.0.0.1:9", token_env="FASTIMPORT_TEST_UNSET_TOKEN")
    with pytest.raises(ConfigError, match="FASTIMPORT_TEST_UNSET_TOKEN"):
        create_app(unset, host="0.0.0.0")


def test_serve_command_refuses_and_says_why(tmp_path: Path) -> None:
    path = write_toml(tmp_path, "http://127.0.0.1:9")
    done = subprocess.run(
        [sys.executable, "-m", "fastimport", "serve", "--config", str(path), "--host", "0.0.0.0", "--port", "0"],
        capture_output=True, text=True, env=env(), timeout=60,
    )  # fmt: skip
    assert done.returncode == 1
    assert "token_env" in done.stderr and "0.0.0.0" in done.stderr


def _routes(client: TestClient[Any, Any]) -> list[tuple[str, str]]:
    out = []
    for route in client.app.router.routes():
        info = route.resource.get_info() if route.resource else {}
        path = info.get("path") or info.get("formatter") or info.get("prefix", "")
        if route.method == "HEAD" or path.startswith(("/static", "/webhooks")) or path == "/login":
            continue
        path = path.replace("{store}", "eshop").replace("{order}", "1").replace("{run}", "x")
        path = path.replace("{action}", "slip").replace("{job:\\d+}", "1")
        out.append((route.method, path))
    return out


async def test_with_a_token_every_route_but_login_needs_it(
    tmp_path: Path, shop_factory: ShopFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, url = await shop_factory(orders=2)
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    config = till_config(tmp_path, url, token_env=TOKEN_ENV)
    async with till_client(config, monkeypatch, host="0.0.0.0") as client:
        routes = _routes(client)
        assert len(routes) >= 15
        for method, path in routes:
            answer = await client.request(method, path)
            assert answer.status == 401, (method, path)
            text = await answer.text()
            assert TOKEN not in text
            if path.startswith("/api/"):
                assert "error" in await answer.json()
            else:
                assert 'name="token"' in text  # the login form
        assert (await client.get("/login")).status == 200
        bearer = {"Authorization": f"Bearer {TOKEN}"}
        assert (await client.get("/api/pending", headers=bearer)).status == 200
        assert (await client.get("/api/pending", headers={"Authorization": "Bearer wrong"})).status == 401
        # A program with the token needs no CSRF token.
        started = await client.post("/api/import", json={"preset": "today"}, headers=bearer)
        assert started.status == 202

        wrong = await client.post("/login", data={"token": "nope", "csrf": await _login_csrf(client)})
        assert wrong.status == 401 and TOKEN not in await wrong.text()
        login = await client.post(
            "/login", data={"token": TOKEN, "csrf": await _login_csrf(client)}, allow_redirects=False
        )
        assert login.status == 303
        cookie = login.headers["Set-Cookie"]
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and TOKEN not in cookie
        page = await client.get("/")
        assert page.status == 200 and TOKEN not in await page.text()
        journal = await client.get("/api/journal")
        assert journal.status == 200 and TOKEN not in await journal.text()


async def _login_csrf(client: TestClient[Any, Any]) -> str:
    page = await (await client.get("/login")).text()
    marker = 'name="csrf" value="'
    start = page.index(marker) + len(marker)
    return page[start : page.index('"', start)]


async def test_state_changing_calls_need_the_csrf_token(
    tmp_path: Path, shop_factory: ShopFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, url = await shop_factory(orders=2)
    async with till_client(till_config(tmp_path, url), monkeypatch) as client:
        csrf = await csrf_of(client)  # the browser has its session cookie now
        refused = await client.post("/api/import", json={"preset": "today"})
        assert refused.status == 403 and "error" in await refused.json()
        forged = await client.post(
            "/api/import", json={"preset": "today"}, headers={"X-CSRF-Token": "0" * 64}
        )
        assert forged.status == 403
        foreign = await client.post(
            "/api/import", json={"preset": "today"},
            headers={"X-CSRF-Token": csrf, "Origin": "http://evil.example"},
        )  # fmt: skip
        assert foreign.status == 403
        form = await client.post("/api/orders/eshop/1/comment", data={"text": "x"})
        assert form.status == 403
        assert (await client.post("/api/stock/push")).status == 403
        good = await client.post("/api/import", json={"preset": "today"}, headers={"X-CSRF-Token": csrf})
        assert good.status == 202
        # Another session's token is not this one's.
        client.session.cookie_jar.clear()
        stolen = await client.post(
            "/api/print/retry",
            json={},
            headers={"X-CSRF-Token": csrf, "Origin": str(client.make_url("")).rstrip("/")},
        )
        assert stolen.status == 403


async def test_serve_command_serves_the_page_on_loopback(tmp_path: Path) -> None:
    import asyncio
    import socket

    import aiohttp

    path = write_toml(tmp_path, "http://127.0.0.1:9")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "fastimport", "serve", "--config", str(path), "--port", str(port),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env(),
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        line = (await asyncio.wait_for(proc.stdout.readline(), 60)).decode()
        assert f"http://127.0.0.1:{port}/" in line
        async with aiohttp.ClientSession() as session:
            for _ in range(100):  # bounded: the socket opens right after the line
                try:
                    async with session.get(f"http://127.0.0.1:{port}/") as answer:
                        assert answer.status == 200
                        assert "Commandes en attente" in await answer.text()
                        assert "HttpOnly" in answer.headers["Set-Cookie"]
                        break
                except aiohttp.ClientConnectorError:
                    await asyncio.sleep(0.1)
            else:
                raise AssertionError("the till page never answered")
    finally:
        proc.terminate()
        await proc.wait()
