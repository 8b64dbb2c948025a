"""Webhooks end to end: invoiced orders, the WooCommerce ping, replay at start, the simulated shop
delivering with retries, and what the Journal shows (``webhook_status``)."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiohttp import web

import fastimport
from fastimport.config import parse_config
from fastimport.io.webhook import Delivery
from fastimport.sim import SimOptions, SimShop
from fastimport.store import connect
from tests.conftest import ShopFactory, config_for, store_table
from tests.test_processing_support import SIGNING_ENV, SIGNING_KEY, W0, W1, raw_config
from tests.webhook_support import WEBHOOK_ENV, WEBHOOK_SECRET, Till, signed, till


@pytest.fixture(autouse=True)
def _secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(WEBHOOK_ENV, WEBHOOK_SECRET)
    monkeypatch.setenv(SIGNING_ENV, SIGNING_KEY)


def _body(shop: SimShop, order_id: int) -> bytes:
    return shop.store.blob(shop.store.find(order_id))


async def _until(t: Till, query: str, expected: Any) -> None:
    """Wait for the background task to reach ``expected`` (a bounded wait, not a speed check)."""
    for _ in range(500):
        if await t.sql(query) == expected:
            return
        await asyncio.sleep(0.02)
    assert await t.sql(query) == expected


@pytest.mark.parametrize("platform", ["woocommerce", "shopify"])
async def test_a_webhook_for_an_invoiced_order_records_an_event_and_does_not_overwrite(
    tmp_path: Path, shop_factory: ShopFactory, platform: str
) -> None:
    shop, url = await shop_factory(orders=5, start=W0, end=W1)
    config = parse_config(raw_config(tmp_path, url, webhook_secret_env=WEBHOOK_ENV))
    # Some simulated Shopify orders are refused at invoicing (their total differs from their lines,
    # as imported ones are too): take the first of a few that invoices.
    created = [shop.create_order(status="processing") for _ in range(6)]
    async with till(config) as t:
        for oid in created:
            body = _body(shop, oid)
            await t.post("eshop", body, signed(platform, "created", body))
        await t.intake.drain()
        outcome = await t.db.run(lambda c, con: fastimport.invoice(c, con, pending=True))
        assert outcome.result.issued, outcome.result.refused
        oid = outcome.result.issued[0].order_id
        query = f"SELECT shop_status, state, total, content_hash FROM orders WHERE order_id = {oid}"
        before = await t.sql(query)
        assert before[0][1] == "invoiced"
        shop.modify_order(oid, "cancelled")
        changed = _body(shop, oid)
        await t.post("eshop", changed, signed(platform, "updated", changed))
        await t.intake.drain()
        assert await t.sql(query) == before
        events = await t.sql(
            "SELECT kind, to_state, needs_action FROM order_events WHERE kind LIKE 'shop_change%'"
        )
        assert events == [("shop_change_after_invoice", "cancelled", True)]
        # The same change delivered again records nothing more.
        await t.post("eshop", changed, signed(platform, "updated", changed))
        await t.intake.drain()
        assert len(await t.sql("SELECT 1 FROM order_events WHERE kind LIKE 'shop_change%'")) == 1


async def test_the_woocommerce_ping_is_answered_200_and_nothing_is_kept(
    tmp_path: Path, shop_factory: ShopFactory
) -> None:
    _shop, url = await shop_factory(orders=1)
    config = config_for(tmp_path, url, webhook_secret_env=WEBHOOK_ENV)
    async with till(config) as t:
        ping = {"Content-Type": "application/x-www-form-urlencoded", "User-Agent": "WooCommerce/9.8 Hookshot"}
        assert (await t.post("eshop", b"webhook_id=12", ping))[0] == 200
        # The same body claiming a topic is no ping: it must be signed.
        assert (await t.post("eshop", b"webhook_id=12", {**ping, "X-WC-Webhook-Topic": "order.created"}))[
            0
        ] == 401
        assert await t.sql("SELECT count(*) FROM webhook_deliveries") == [(0,)]


async def test_prestashop_stores_take_no_webhooks(tmp_path: Path, shop_factory: ShopFactory) -> None:
    _shop, url = await shop_factory(orders=1, platform="prestashop")
    config = config_for(tmp_path, url)
    async with till(config) as t:
        status, text = await t.post("eshop", b"{}", {})
        assert status == 404 and "PrestaShop sends no webhooks" in text


@pytest.mark.parametrize("platform", ["woocommerce", "shopify"])
async def test_deliveries_kept_but_not_processed_are_processed_at_the_next_start(
    tmp_path: Path, shop_factory: ShopFactory, platform: str
) -> None:
    shop, url = await shop_factory(orders=1)
    config = config_for(tmp_path, url, webhook_secret_env=WEBHOOK_ENV)
    first, second = shop.create_order(status="processing"), shop.create_order(status="processing")
    # As if the till stopped right after answering: the deliveries are kept, not processed.
    with connect(config.target) as con:
        kept = fastimport.record_webhooks(
            config,
            con,
            [("eshop", Delivery("order", "x", None), _body(shop, oid)) for oid in (first, second)],
        )
        assert kept == [True, True]
        assert con.execute("SELECT count(*) FROM orders").fetchall() == [(0,)]
    async with till(config) as t:
        await _until(t, "SELECT count(*) FROM webhook_deliveries WHERE processed_at IS NULL", [(0,)])
        assert sorted(await t.sql("SELECT order_id FROM orders")) == [(first,), (second,)]


@pytest.mark.parametrize("platform", ["woocommerce", "shopify"])
async def test_the_simulated_shop_delivers_and_retries_after_the_till_answered_500(
    tmp_path: Path, shop_factory: ShopFactory, platform: str
) -> None:
    failures = {"left": 1}

    @web.middleware
    async def fail_once(request: web.Request, handler: Any) -> web.StreamResponse:
        is_order = request.headers.get("Content-Type") == "application/json"
        if request.path.startswith("/webhooks/") and is_order and failures["left"]:
            failures["left"] -= 1
            return web.Response(status=500, text="boom")
        return await handler(request)

    # The till starts first (the shop needs its URL); webhooks never call the shop's own URL.
    config = config_for(tmp_path, "http://127.0.0.1:9", platform=platform, webhook_secret_env=WEBHOOK_ENV)
    async with till(config, middlewares=(fail_once,)) as t:
        shop, shop_url = await shop_factory(
            orders=1,
            webhook_url=f"{t.url}/webhooks/eshop",
            webhook_secret=WEBHOOK_SECRET,
            webhook_backoff=0.05,
        )
        assert shop.webhooks is not None
        oid = shop.create_order(status="processing")
        await shop.webhooks.idle()
        attempts = [(a.topic, a.attempt, a.status) for a in shop.webhooks.log if a.topic]
        created = "order.created" if platform == "woocommerce" else "orders/create"
        assert attempts == [(created, 0, 500), (created, 1, 200)]
        if platform == "woocommerce":
            assert [a.status for a in shop.webhooks.log if not a.topic] == [200]  # the creation ping
        await t.intake.drain()
        assert await t.sql("SELECT order_id, state FROM orders") == [(oid, "pending")]
        # A change on the shop arrives the same way.
        shop.modify_order(oid, "cancelled")
        await shop.webhooks.idle()
        await t.intake.drain()
        assert await t.sql("SELECT shop_status FROM orders") == [("cancelled",)]
        # The shop's /_sim/ control creates an order over HTTP: it is pushed too.
        async with t.http.post(f"{shop_url}/_sim/orders", json={"status": "processing"}) as response:
            made = (await response.json())["id"]
        await shop.webhooks.idle()
        await t.intake.drain()
        assert await t.sql(f"SELECT state FROM orders WHERE order_id = {made}") == [("pending",)]
        async with t.http.get(f"{shop_url}/_sim/webhooks") as response:
            log = await response.json()
        assert [a["status"] for a in log if a["order_id"] == made] == [200]


def test_sim_command_line_takes_the_webhook_options() -> None:
    from fastimport.sim.cli import build_parser

    args = build_parser().parse_args(
        [
            "--platform",
            "shopify",
            "--webhook-url",
            "http://127.0.0.1:8765/webhooks/eshop",
            "--webhook-secret",
            "S",
        ]
    )
    assert (args.platform, args.webhook_url, args.webhook_secret, args.webhook_retries) == (
        "shopify",
        "http://127.0.0.1:8765/webhooks/eshop",
        "S",
        5,
    )
    with pytest.raises(ValueError, match="sends no webhooks"):
        SimShop(SimOptions(orders=1, platform="prestashop", webhook_url="http://127.0.0.1:9/x"))


async def test_webhook_status_warns_when_an_import_finds_orders_no_webhook_announced(
    tmp_path: Path, shop_factory: ShopFactory
) -> None:
    shop, url = await shop_factory(orders=3)
    config = config_for(tmp_path, url, webhook_secret_env=WEBHOOK_ENV)
    announced = shop.create_order(status="processing")
    async with till(config) as t:
        body = _body(shop, announced)
        await t.post("eshop", body, signed("woocommerce", "created", body))
        await t.intake.drain()
        status = await t.db.run(fastimport.webhook_status)
        assert [s.to_json() | {"last_received_at": None} for s in status] == [
            {
                "store": "eshop",
                "enabled": True,
                "received": 1,
                "last_received_at": None,
                "pending": 0,
                "failed": 0,
                "last_error": None,
                "unannounced_orders": 0,
                "last_unannounced_at": None,
                "warning": None,
            }
        ]
        assert status[0].last_received_at is not None
        # The webhook is disabled on the shop: an order made after the last webhook arrives only by import.
        shop.create_order(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=5), status="processing")
        reports = await t.db.run(
            lambda c, con: fastimport.import_stores(c, con, fastimport.RangeRequest.today())
        )
        assert reports[0].ok and reports[0].new >= 1
        status = await t.db.run(fastimport.webhook_status)
        assert status[0].unannounced_orders == 1
        assert status[0].warning is not None and "not by webhook" in status[0].warning


def test_a_store_without_webhooks_is_not_listed(tmp_path: Path) -> None:
    config = parse_config(
        {"database": {"path": str(tmp_path / "t.duckdb")}, "stores": [store_table("http://127.0.0.1:1")]}
    )
    with connect(config.target) as con:
        assert fastimport.webhook_status(config, con) == []


async def test_deliveries_wait_while_the_store_cannot_be_read_then_are_processed(
    tmp_path: Path, shop_factory: ShopFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    shop, url = await shop_factory(orders=1)
    config = config_for(tmp_path, url, webhook_secret_env=WEBHOOK_ENV, key_env="FASTIMPORT_TEST_UNSET_KEY")
    oid = shop.create_order(status="processing")
    body = _body(shop, oid)
    async with till(config) as t:
        assert await t.post("eshop", body, signed("woocommerce", "created", body)) == (200, "received\n")
        assert await t.intake.drain() == 0  # kept, waiting: not failed for good
        status = await t.db.run(fastimport.webhook_status)
        assert (status[0].pending, status[0].failed) == (1, 0)
        assert status[0].warning == "1 webhook(s) received but not processed yet"
        monkeypatch.setenv("FASTIMPORT_TEST_UNSET_KEY", "ck_test")
        assert await t.intake.drain() == 1
        assert await t.sql("SELECT order_id FROM orders") == [(oid,)]


async def test_a_signed_delivery_that_cannot_be_read_is_kept_marked_failed_and_shown(
    tmp_path: Path, shop_factory: ShopFactory
) -> None:
    shop, url = await shop_factory(orders=1)
    config = config_for(tmp_path, url, webhook_secret_env=WEBHOOK_ENV)
    good = _body(shop, shop.create_order(status="processing"))
    bad = b'{"id": 77, "status": "processing"}'  # signed, but not an order the till can read
    async with till(config) as t:
        for body in (bad, good):
            assert await t.post("eshop", body, signed("woocommerce", "created", body)) == (200, "received\n")
        await t.intake.drain()
        assert len(await t.sql("SELECT 1 FROM orders")) == 1  # the good one is not held back by the bad one
        failed = await t.sql("SELECT body, error IS NOT NULL FROM webhook_deliveries WHERE error IS NOT NULL")
        assert failed == [(bad, True)]
        status = (await t.db.run(fastimport.webhook_status))[0]
        assert (status.received, status.failed) == (2, 1)
        assert status.warning is not None and status.warning.startswith("1 webhook(s) could not be processed")
        endpoint = await t.db.run(lambda c, con: fastimport.webhook_endpoint(c, "eshop"))
        assert WEBHOOK_SECRET not in repr(endpoint)


async def test_the_command_line_shows_and_processes_kept_deliveries(
    tmp_path: Path, shop_factory: ShopFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    from fastimport.cli import main as cli
    from tests.conftest import write_config_file

    shop, url = await shop_factory(orders=1)
    path = write_config_file(tmp_path, url, webhook_secret_env=WEBHOOK_ENV)
    config = fastimport.load_config(path)
    oid = shop.create_order(status="processing")
    with connect(config.target) as con:
        fastimport.record_webhooks(
            config, con, [("eshop", Delivery("order", "order.created", None), _body(shop, oid))]
        )
    assert cli(["--config", str(path), "webhooks", "--json"]) == 0
    status = orjson.loads(capsys.readouterr().out)
    assert [(s["store"], s["received"], s["pending"]) for s in status] == [("eshop", 1, 1)]
    assert cli(["--config", str(path), "webhooks", "process", "--json"]) == 0
    assert orjson.loads(capsys.readouterr().out) == {
        "processed": 1, "new": 1, "updated": 0, "unchanged": 0, "stale": 0, "locked_changes": 0, "failed": 0,
    }  # fmt: skip
    assert cli(["--config", str(path), "webhooks"]) == 0
    assert "eshop: 1 received" in capsys.readouterr().out


async def test_a_busy_database_answers_503_and_the_retry_stores_the_order_once(
    tmp_path: Path, shop_factory: ShopFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    from fastimport.web import webhooks as route

    monkeypatch.setattr(route, "ANSWER_WITHIN_SECONDS", 0.2)
    shop, url = await shop_factory(orders=1, platform="shopify")
    config = config_for(tmp_path, url, webhook_secret_env=WEBHOOK_ENV)
    oid = shop.create_order(status="processing")
    body = _body(shop, oid)
    headers = signed("shopify", "created", body)
    async with till(config) as t:
        release = threading.Event()
        blocked = asyncio.ensure_future(t.db.run(lambda _c, _con: release.wait(10)))  # a long import, say
        status, text = await t.post("eshop", body, headers)
        assert (status, text) == (503, "the till is busy: please send it again\n")
        release.set()
        await blocked
        assert await t.post("eshop", body, headers) == (200, "already received\n")  # kept meanwhile
        await t.intake.drain()
        assert await t.sql("SELECT order_id FROM orders") == [(oid,)]


async def test_old_processed_deliveries_are_pruned_at_start_failed_ones_kept(
    tmp_path: Path, shop_factory: ShopFactory
) -> None:
    shop, url = await shop_factory(orders=1)
    config = config_for(tmp_path, url, webhook_secret_env=WEBHOOK_ENV)
    oid = shop.create_order(status="processing")
    with connect(config.target) as con:
        for body in (_body(shop, oid), b'{"id": 1}'):
            fastimport.record_webhooks(
                config, con, [("eshop", Delivery("order", "order.created", None), body)]
            )
        fastimport.process_webhooks(config, con)
        con.execute("UPDATE webhook_deliveries SET received_at = received_at - INTERVAL '100 days'")
    async with till(config) as t:
        await _until(t, "SELECT count(*), count(error) FROM webhook_deliveries", [(1, 1)])
        assert await t.sql("SELECT order_id FROM orders") == [(oid,)]


def test_webhook_status_says_when_the_secret_variable_is_unset(tmp_path: Path) -> None:
    table = store_table("http://127.0.0.1:9", webhook_secret_env="FASTIMPORT_TEST_NO_SUCH_SECRET")
    config = parse_config({"database": {"path": str(tmp_path / "t.duckdb")}, "stores": [table]})
    with connect(config.target) as con:
        (status,) = fastimport.webhook_status(config, con)
    assert status.enabled and status.received == 0
    assert status.warning is not None and "FASTIMPORT_TEST_NO_SUCH_SECRET" in status.warning
    assert status.warning.endswith("refused (503)")
