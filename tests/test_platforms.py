"""Shopify and PrestaShop beyond the shared import tests: payload shapes, pacing, bulk, push-backs."""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest

from fastimport.config import StoreConfig
from fastimport.errors import FetchError
from fastimport.io.fetcher import Fetcher
from fastimport.io.pushback import PushBack
from fastimport.io.registry import connector_for
from fastimport.io.shopify import bulk as shopify_bulk
from fastimport.store import connect
from tests.conftest import ShopFactory, config_for
from tests.test_import import WEEK_END, WEEK_START, run_import, whole_window

ORDER_COLUMNS = (
    "order_id, number, shop_status, currency, created_at, modified_at, paid_at, total, total_tax, "
    "shipping_total, discount_total, prices_include_tax, customer_id, email, first_name, last_name, company, "
    "phone, ship_name, ship_address, ship_postcode, ship_city, ship_country, shipping_method, "
    "shipping_method_title, payment_method, payment_method_title, transaction_id, customer_note, line_count"
)
LINE_COLUMNS = (
    "order_id, line_no, line_id, product_id, variation_id, sku, name, quantity, unit_price, total, total_tax"
)


def rows(db: Path) -> tuple[list[Any], list[Any]]:
    con = connect(db)
    try:
        orders = con.execute(f"SELECT {ORDER_COLUMNS} FROM orders ORDER BY order_id").fetchall()
        lines = con.execute(f"SELECT {LINE_COLUMNS} FROM order_lines ORDER BY order_id, line_no").fetchall()
    finally:
        con.close()
    return orders, lines


async def get_json(url: str, headers: dict[str, str]) -> tuple[int, Any, Any]:
    async with aiohttp.ClientSession() as session, session.get(url, headers=headers) as resp:
        return resp.status, resp.headers, orjson.loads(await resp.read())


# -- payload shapes ---------------------------------------------------------------------------------


async def test_shopify_orders_are_shaped_like_the_documented_example(shop_factory: ShopFactory) -> None:
    shop, url = await shop_factory(platform="shopify", orders=200, start=WEEK_START, end=WEEK_END)
    token = {"X-Shopify-Access-Token": shop.options.shopify_token}
    status, headers, body = await get_json(f"{url}/admin/api/2025-07/orders.json?status=any&limit=250", token)
    assert status == 200 and headers["X-Shopify-Shop-Api-Call-Limit"].endswith("/400")
    orders = body["orders"]
    assert len(orders) == 200
    o = orders[0]
    assert isinstance(o["id"], int) and o["admin_graphql_api_id"] == f"gid://shopify/Order/{o['id']}"
    assert isinstance(o["total_price"], str) and isinstance(o["current_total_price"], str)
    assert o["total_price_set"]["shop_money"]["currency_code"] == "EUR"
    assert o["created_at"][-6:] in ("+01:00", "+02:00")
    li = o["line_items"][0]
    assert isinstance(li["variant_id"], int) and isinstance(li["price"], str) and "current_quantity" in li
    assert any("customer" not in x for x in orders) and any("customer" in x for x in orders)
    refunded = next(x for x in orders if x["financial_status"] == "refunded")
    assert all(li["current_quantity"] == 0 for li in refunded["line_items"])
    rli = refunded["refunds"][0]["refund_line_items"][0]
    assert isinstance(rli["subtotal"], float) and isinstance(
        rli["total_tax"], float
    )  # numbers, as documented
    assert any(x["cancelled_at"] for x in orders)
    # status defaults to open: closed and cancelled orders are hidden without status=any.
    _, _, default = await get_json(f"{url}/admin/api/2025-07/orders.json?limit=250", token)
    assert 0 < len(default["orders"]) < 200
    # Only limit may accompany a cursor.
    _, first_headers, _ = await get_json(f"{url}/admin/api/2025-07/orders.json?status=any&limit=50", token)
    cursor_url = first_headers["Link"].split(">")[0][1:]
    status, _, err = await get_json(cursor_url + "&status=any", token)
    assert status == 400 and "page_info" in str(err["errors"])


async def test_prestashop_orders_are_strings_but_id_and_empty_is_a_bare_array(
    shop_factory: ShopFactory,
) -> None:
    shop, url = await shop_factory(platform="prestashop", orders=30, start=WEEK_START, end=WEEK_END)
    import base64

    auth = {"Authorization": "Basic " + base64.b64encode(f"{shop.options.prestashop_key}:".encode()).decode()}
    _, _, body = await get_json(f"{url}/api/orders?output_format=JSON&display=full&limit=0,5", auth)
    o = body["orders"][0]
    assert isinstance(o["id"], int)
    assert all(isinstance(v, str) for k, v in o.items() if k not in ("id", "associations"))
    assert o["total_paid"].count(".") == 1 and len(o["total_paid"].split(".")[1]) == 6
    assert all(isinstance(v, str) for v in o["associations"]["order_rows"][0].values())
    _, _, empty = await get_json(f"{url}/api/orders?output_format=JSON&display=full&limit=900,5", auth)
    assert empty == []
    status, _, err = await get_json(
        f"{url}/api/orders?output_format=JSON&filter[date_upd]=[2026-03-24 00:00:00,2026-03-25 00:00:00]",
        auth,
    )
    assert status == 400 and err["errors"][0]["code"] == 32  # date=1 is mandatory


# -- Shopify pacing and bulk -------------------------------------------------------------------------


async def test_shopify_paces_itself_under_the_standard_bucket(
    tmp_path: Path, shop_factory: ShopFactory
) -> None:
    shop, url = await shop_factory(
        platform="shopify", orders=1000, start=WEEK_START, end=WEEK_END, shopify_bucket=40, shopify_leak=2.0
    )
    config = config_for(tmp_path, url, per_page=25, concurrency=8)  # 40 pages + count: beyond one bucket
    report = await run_import(config, whole_window())
    assert report.ok, report.error
    assert report.new == 1000
    platform = shop.platform
    assert platform is not None
    bucket = platform.bucket
    assert bucket.throttled == 0 and report.retries == 0
    assert bucket.calls > 40


@pytest.mark.duckdb_only("compares two stores side by side, one DuckDB file each")
@pytest.mark.parametrize("mode", ["bulk"])
async def test_a_bulk_import_stores_exactly_the_rows_of_a_rest_import(
    tmp_path: Path, shop_factory: ShopFactory, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    monkeypatch.setattr(shopify_bulk, "POLL_SECONDS", 0.05)
    _shop, url = await shop_factory(platform="shopify", orders=400, start=WEEK_START, end=WEEK_END)
    (tmp_path / "rest").mkdir()
    (tmp_path / "bulk").mkdir()
    rest = config_for(tmp_path / "rest", url, mode="rest")
    bulk = config_for(tmp_path / "bulk", url, mode=mode)
    assert (await run_import(rest, whole_window())).ok
    report = await run_import(bulk, whole_window())
    assert report.ok, report.error
    assert report.new == 400
    rest_rows, bulk_rows = rows(rest.database), rows(bulk.database)
    assert len(rest_rows[0]) == 400 and len(rest_rows[1]) > 400
    assert bulk_rows == rest_rows


@pytest.mark.parametrize("outcome", ["FAILED", "EXPIRED"])
async def test_a_failed_bulk_job_stops_with_a_clear_message(
    tmp_path: Path, shop_factory: ShopFactory, monkeypatch: pytest.MonkeyPatch, outcome: str
) -> None:
    monkeypatch.setattr(shopify_bulk, "POLL_SECONDS", 0.05)
    _, url = await shop_factory(
        platform="shopify", orders=50, start=WEEK_START, end=WEEK_END, shopify_bulk_outcome=outcome
    )
    report = await run_import(config_for(tmp_path, url, mode="bulk"), whole_window())
    assert not report.ok and report.error is not None
    assert "bulk export" in report.error and ("failed" if outcome == "FAILED" else "expired") in report.error
    assert 'mode = "rest"' in report.error


def test_shopify_windows_cover_the_range_without_gaps() -> None:
    from fastimport.io.shopify.config import ShopifyStore
    from fastimport.io.shopify.connector import ShopifyConnector
    from fastimport.ranges import ImportRange

    store = ShopifyStore(
        name="s",
        platform="shopify",
        url="https://x.myshopify.com",
        timezone="Europe/Paris",
        token_env="T",
        concurrency=4,
    )
    connector = ShopifyConnector.__new__(ShopifyConnector)
    connector.store = store
    rng = ImportRange(WEEK_START, WEEK_END, "created", "range")
    windows = connector.windows(rng, 5000)
    assert len(windows) == 8 and windows[0][0] == WEEK_START and windows[-1][1] == WEEK_END
    for (_, hi), (lo, _) in itertools.pairwise(windows):
        assert lo - hi == dt.timedelta(seconds=1)  # inclusive bounds: next window starts a second later


# -- push-backs --------------------------------------------------------------------------------------


async def _push(store: StoreConfig) -> PushBack:
    connector = connector_for(store)
    assert isinstance(connector, PushBack)
    return connector


async def test_shopify_push_backs_reach_the_shop(tmp_path: Path, shop_factory: ShopFactory) -> None:
    shop, url = await shop_factory(platform="shopify", orders=60, start=WEEK_START, end=WEEK_END)
    store = config_for(tmp_path, url).stores[0]
    connector = await _push(store)
    paid = [o["id"] for o in shop.truth() if o["status"] == "paid"]
    target, other = paid[0], paid[1]
    admin = shop.platform.admin
    async with aiohttp.ClientSession() as session:
        fetcher = Fetcher(session, retries=1)
        await connector.set_stock(fetcher, "TSH-BIO-M", 7)
        await connector.set_tracking(fetcher, target, "6A12345678901", "Colissimo", "https://laposte.fr/6A1")
        await connector.set_status(fetcher, other, "cancelled")
        with pytest.raises(FetchError, match="nothing left to fulfil"):
            await connector.set_tracking(fetcher, target, "6A000")
        with pytest.raises(FetchError, match="no Shopify variant"):
            await connector.set_stock(fetcher, "NO-SUCH-SKU", 1)
    kinds = [(path, body) for _, path, body in admin.writes]
    stock = next(body for path, body in kinds if path == "inventory_levels/set.json")
    assert stock["available"] == 7 and stock["location_id"] == 655441491
    assert admin.inventory[stock["inventory_item_id"]] == ["TSH-BIO-M", 7]
    fulfil = next(body for path, body in kinds if path == "fulfillments.json")["fulfillment"]
    assert fulfil["tracking_info"]["number"] == "6A12345678901"
    assert fulfil["line_items_by_fulfillment_order"][0]["fulfillment_order_id"] == target * 10 + 2
    statuses = {o["id"]: o["status"] for o in shop.truth()}
    assert statuses[target] == "fulfilled" and statuses[other] == "cancelled"


async def test_shopify_refuses_a_malformed_stock_write(shop_factory: ShopFactory) -> None:
    shop, url = await shop_factory(platform="shopify", orders=5, start=WEEK_START, end=WEEK_END)
    headers = {"X-Shopify-Access-Token": shop.options.shopify_token, "Content-Type": "application/json"}
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{url}/admin/api/2025-07/inventory_levels/set.json",
            data=orjson.dumps({"location_id": 655441491, "inventory_item_id": 1, "available": "7"}),
            headers=headers,
        ) as resp,
    ):
        assert resp.status == 422 and "available" in (await resp.json())["errors"]


async def test_prestashop_push_backs_are_xml_and_checked_by_the_shop(
    tmp_path: Path, shop_factory: ShopFactory
) -> None:
    shop, url = await shop_factory(platform="prestashop", orders=60, start=WEEK_START, end=WEEK_END)
    store = config_for(tmp_path, url).stores[0]
    connector = await _push(store)
    target = next(o["id"] for o in shop.truth() if o["status"] == "2")
    api = shop.platform.api
    async with aiohttp.ClientSession() as session:
        fetcher = Fetcher(session, retries=1)
        await connector.set_stock(fetcher, "SWE-BRO-L", 12)
        await connector.set_status(fetcher, target, "4")
        await connector.set_tracking(fetcher, target, "6A12345678901")
        with pytest.raises(FetchError, match="tracking_number is not valid"):
            await connector.set_tracking(fetcher, target, "bad<number>")
        with pytest.raises(FetchError, match="id_order_state is not valid"):
            await connector.set_status(fetcher, target, "99")
    writes = {path.split("/")[2]: fields for _, path, fields in api.writes}
    assert writes["stock_availables"]["quantity"] == "12"
    row = api.stock[int(writes["stock_availables"]["id"])]
    assert row["quantity"] == "12" and row["id_product_attribute"] != "0"  # the combination, not the parent
    assert writes["order_histories"] == {"id_order": str(target), "id_order_state": "4"}
    assert api.carriers[target]["tracking_number"] == "6A12345678901"
    assert (
        next(o["status"] for o in shop.truth() if o["id"] == target) == "5"
    )  # shipped -> delivered sim state


async def test_prestashop_refuses_json_and_partial_xml(shop_factory: ShopFactory) -> None:
    shop, url = await shop_factory(platform="prestashop", orders=5, start=WEEK_START, end=WEEK_END)
    import base64

    auth = {"Authorization": "Basic " + base64.b64encode(f"{shop.options.prestashop_key}:".encode()).decode()}
    async with aiohttp.ClientSession() as session:
        async with session.put(
            f"{url}/api/stock_availables/1", data=b'{"quantity": 3}', headers=auth
        ) as resp:
            assert resp.status == 400 and "XML error" in await resp.text()
        partial = (
            b"<prestashop><stock_available><id>1</id><quantity>3</quantity></stock_available></prestashop>"
        )
        async with session.put(f"{url}/api/stock_availables/1", data=partial, headers=auth) as resp:
            assert resp.status == 400 and "id_product" in await resp.text()
    assert shop.platform.api.writes == []
