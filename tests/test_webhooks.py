"""Webhooks over loopback: the till's route with both platforms' real signature schemes.

Order bodies are the simulated shop's own orders (the REST shapes of WooCommerce and Shopify);
the route runs in a real aiohttp server with its database thread, as the till mounts it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

import fastimport
from fastimport.config import Config
from fastimport.sim import SimShop
from tests.conftest import ShopFactory, config_for
from tests.webhook_support import WEBHOOK_ENV, WEBHOOK_SECRET, signed, till

WEBHOOK_PLATFORMS = ("woocommerce", "shopify")


@pytest.fixture(params=WEBHOOK_PLATFORMS)
def platform(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(autouse=True)
def _webhook_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(WEBHOOK_ENV, WEBHOOK_SECRET)


async def _shop(shop_factory: ShopFactory, tmp_path: Path, **store: Any) -> tuple[SimShop, Config]:
    shop, url = await shop_factory(orders=5)
    store.setdefault("webhook_secret_env", WEBHOOK_ENV)
    return shop, config_for(tmp_path, url, **store)


def _body(shop: SimShop, order_id: int) -> bytes:
    return shop.store.blob(shop.store.find(order_id))


async def _pending(t: Any) -> dict[int, dict[str, Any]]:
    rows = await t.db.run(lambda config, con: fastimport.pending_orders(config, con))
    return {int(r["id"]): r for r in rows}


async def test_a_signed_order_appears_in_pending_without_any_import(
    tmp_path: Path, shop_factory: ShopFactory, platform: str
) -> None:
    shop, config = await _shop(shop_factory, tmp_path)
    oid = shop.create_order(status="processing")
    body = _body(shop, oid)
    async with till(config) as t:
        assert await t.post("eshop", body, signed(platform, "created", body)) == (200, "received\n")
        await t.intake.drain()
        assert oid in await _pending(t)
        runs = await t.sql("SELECT mode, status, new_orders FROM import_runs")
        assert runs == [("webhook", "ok", 1)]  # stored by the webhook's run alone, no import
        raw = await t.sql("SELECT o.order_id FROM orders o")
        assert raw == [(oid,)]
        # The raw payload is kept byte for byte, as for an imported order.
        stored = await t.db.run(lambda c, con: fastimport.order_details(con, oid, "eshop"))
        assert stored is not None


@pytest.mark.parametrize("fault", ["missing", "wrong secret", "tampered body"])
async def test_a_wrong_or_missing_signature_gets_401_and_nothing_is_stored(
    tmp_path: Path, shop_factory: ShopFactory, platform: str, fault: str
) -> None:
    shop, config = await _shop(shop_factory, tmp_path)
    oid = shop.create_order(status="processing")
    body = _body(shop, oid)
    headers = signed(
        platform, "created", body, secret="not-the-secret" if fault == "wrong secret" else WEBHOOK_SECRET
    )
    if fault == "missing":
        headers = {k: v for k, v in headers.items() if "Signature" not in k and "Hmac" not in k}
    sent = body.replace(b'"id":', b'"id": ', 1) if fault == "tampered body" else body
    async with till(config) as t:
        status, text = await t.post("eshop", sent, headers)
        assert status == 401 and "signature" in text
        await t.intake.drain()
        assert await t.sql("SELECT count(*) FROM webhook_deliveries") == [(0,)]
        assert await t.sql("SELECT count(*) FROM orders") == [(0,)]


async def test_the_same_webhook_delivered_twice_stores_one_order(
    tmp_path: Path, shop_factory: ShopFactory, platform: str
) -> None:
    shop, config = await _shop(shop_factory, tmp_path)
    oid = shop.create_order(status="processing")
    body = _body(shop, oid)
    headers = signed(platform, "created", body)
    async with till(config) as t:
        first = await t.post("eshop", body, headers)
        await t.intake.drain()
        # A retry: Shopify repeats its webhook id (kept once), WooCommerce sends a new delivery id.
        retry = signed(
            platform,
            "created",
            body,
            delivery=None if platform == "woocommerce" else headers["X-Shopify-Webhook-Id"],
        )
        second = await t.post("eshop", body, retry)
        await t.intake.drain()
        assert first == (200, "received\n")
        assert second == (200, "received\n" if platform == "woocommerce" else "already received\n")
        assert await t.sql("SELECT count(*) FROM orders") == [(1,)]
        kept = await t.sql("SELECT count(*) FROM webhook_deliveries")
        assert kept == [(2 if platform == "woocommerce" else 1,)]
        totals = await t.sql("SELECT sum(new_orders), sum(updated_orders) FROM import_runs")
        assert totals == [(1, 0)]


async def test_a_newer_update_updates_a_pending_order_and_an_older_one_does_not(
    tmp_path: Path, shop_factory: ShopFactory, platform: str
) -> None:
    shop, config = await _shop(shop_factory, tmp_path)
    oid = shop.create_order(status="processing")
    created = _body(shop, oid)
    shop.modify_order(oid, "cancelled")
    updated = _body(shop, oid)
    assert updated != created
    async with till(config) as t:
        await t.post("eshop", created, signed(platform, "created", created))
        await t.intake.drain()
        assert oid in await _pending(t)
        await t.post("eshop", updated, signed(platform, "updated", updated))
        await t.intake.drain()
        assert oid not in await _pending(t)
        assert await t.sql("SELECT shop_status, state FROM orders") == [("cancelled", "pending")]
        # The first version arriving late (webhooks are not ordered) changes nothing.
        await t.post("eshop", created, signed(platform, "created", created))
        await t.intake.drain()
        assert await t.sql("SELECT shop_status FROM orders") == [("cancelled",)]


async def test_a_deleted_order_leaves_pending_as_cancelled(
    tmp_path: Path, shop_factory: ShopFactory, platform: str
) -> None:
    shop, config = await _shop(shop_factory, tmp_path)
    oid = shop.create_order(status="processing")
    body = _body(shop, oid)
    gone = orjson.dumps({"id": oid})
    async with till(config) as t:
        await t.post("eshop", body, signed(platform, "created", body))
        await t.intake.drain()
        assert await t.post("eshop", gone, signed(platform, "deleted", gone)) == (200, "received\n")
        await t.intake.drain()
        assert oid not in await _pending(t)
        assert await t.sql("SELECT shop_status FROM orders") == [("cancelled",)]
        # A deletion of an order the till never had changes nothing and fails nothing.
        other = orjson.dumps({"id": 999_999})
        await t.post("eshop", other, signed(platform, "deleted", other))
        await t.intake.drain()
        assert await t.sql("SELECT count(*) FROM orders") == [(1,)]
        assert await t.sql("SELECT count(*) FROM webhook_deliveries WHERE error IS NOT NULL") == [(0,)]


async def test_an_unknown_topic_is_answered_and_dropped(
    tmp_path: Path, shop_factory: ShopFactory, platform: str
) -> None:
    _, config = await _shop(shop_factory, tmp_path)
    body = b'{"id": 12, "title": "T-shirt"}'
    headers = signed(platform, "created", body)
    for name in ("X-WC-Webhook-Topic", "X-Shopify-Topic"):
        if name in headers:
            headers[name] = "product.created" if platform == "woocommerce" else "products/create"
    async with till(config) as t:
        status, text = await t.post("eshop", body, headers)
        assert status == 200 and "ignored" in text
        assert await t.sql("SELECT count(*) FROM webhook_deliveries") == [(0,)]


async def test_stores_that_take_no_webhooks_say_so(
    tmp_path: Path, shop_factory: ShopFactory, platform: str
) -> None:
    shop, config = await _shop(shop_factory, tmp_path, webhook_secret_env=None)
    oid = shop.create_order(status="processing")
    body = _body(shop, oid)
    async with till(config) as t:
        status, text = await t.post("eshop", body, signed(platform, "created", body))
        assert status == 404 and "webhook_secret_env" in text
        status, text = await t.post("other", body, signed(platform, "created", body))
        assert status == 404 and "no store named 'other'" in text
        assert await t.sql("SELECT count(*) FROM webhook_deliveries") == [(0,)]


def test_every_platform_with_webhooks_declares_its_secret_key_and_pages_its_bodies() -> None:
    from fastimport.core import CORE, load_core
    from fastimport.io.registry import platform as described
    from fastimport.io.registry import platform_names

    core = load_core(CORE)
    with_webhooks = [name for name in platform_names() if described(name).webhook is not None]
    assert with_webhooks == ["woocommerce", "shopify"]
    for name in platform_names():
        p = described(name)
        assert ("webhook_secret_env" in p.store.__struct_fields__) == (p.webhook is not None), name
    for name in with_webhooks:
        scheme = described(name).webhook
        assert scheme is not None
        spec = described(name).connector.page_spec  # type: ignore[attr-defined]
        order = b'{"id": 5, "status": "processing", "financial_status": "paid", "total": "1.00", "current_total_price": "1.00", "date_created_gmt": "2026-01-01T10:00:00", "date_modified_gmt": "2026-01-01T10:00:00", "created_at": "2026-01-01T10:00:00Z", "updated_at": "2026-01-01T10:00:00Z", "line_items": []}'
        parsed = core.parse_page(scheme.page([order, order.replace(b'"id": 5', b'"id": 6')]), spec)
        assert parsed.orders.column("order_id").to_pylist() == [5, 6], name


@pytest.mark.parametrize("platform", ["shopify"])
async def test_shopify_headers_without_the_x_prefix_are_read_too(
    tmp_path: Path, shop_factory: ShopFactory, platform: str
) -> None:
    shop, url = await shop_factory(orders=1)
    config = config_for(tmp_path, url, webhook_secret_env=WEBHOOK_ENV)
    oid = shop.create_order(status="processing")
    body = _body(shop, oid)
    headers = {k.removeprefix("X-"): v for k, v in signed("shopify", "created", body).items()}
    async with till(config) as t:
        assert await t.post("eshop", body, headers) == (200, "received\n")
        await t.intake.drain()
        assert oid in await _pending(t)
