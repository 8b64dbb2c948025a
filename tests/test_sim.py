"""The simulated WooCommerce shop, exercised over real HTTP on loopback (no mocks)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import re
import signal
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import aiohttp
import orjson
import pytest

from fastimport.sim import SimOptions, SimShop, SimShopThread
from tests.conftest import shop_command

API = "/wp-json/wc/v3"
AUTH = {"Authorization": "Basic " + base64.b64encode(b"ck_test:cs_test").decode()}
END = datetime(2026, 4, 1, tzinfo=UTC)
OPTS = SimOptions(orders=300, seed=7, start=END - timedelta(days=7), end=END)
MONEY = re.compile(r"^-?\d+\.\d{2}$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$")

# Key set of WooCommerce's documented order 727 ("Retrieve an order", wp-api-v3/_orders.md).
ORDER_KEYS = [
    "id", "parent_id", "number", "order_key", "created_via", "version", "status", "currency", "date_created",
    "date_created_gmt", "date_modified", "date_modified_gmt", "discount_total", "discount_tax", "shipping_total",
    "shipping_tax", "cart_tax", "total", "total_tax", "prices_include_tax", "customer_id", "customer_ip_address",
    "customer_user_agent", "customer_note", "billing", "shipping", "payment_method", "payment_method_title",
    "transaction_id", "date_paid", "date_paid_gmt", "date_completed", "date_completed_gmt", "cart_hash",
    "meta_data", "line_items", "tax_lines", "shipping_lines", "fee_lines", "coupon_lines", "refunds", "_links",
]  # fmt: skip
BILLING_KEYS = {"first_name", "last_name", "company", "address_1", "address_2", "city", "state", "postcode",
                "country", "email", "phone"}  # fmt: skip
LINE_KEYS = {"id", "name", "product_id", "variation_id", "quantity", "tax_class", "subtotal", "subtotal_tax",
             "total", "total_tax", "taxes", "meta_data", "sku", "price"}  # fmt: skip


@pytest.fixture
async def shop() -> AsyncIterator[SimShop]:
    s = SimShop(OPTS)
    await s.start()
    yield s
    await s.stop()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def get(
    http: aiohttp.ClientSession, url: str, headers: dict[str, str] | None = AUTH, **params: Any
) -> tuple[int, Any, aiohttp.ClientResponse]:
    async with http.get(url, params={k: str(v) for k, v in params.items()}, headers=headers) as r:
        raw = await r.read()
        body = orjson.loads(raw) if r.content_type == "application/json" else raw
        return r.status, body, r


def cents(text: str) -> Decimal:
    return Decimal(text)


async def all_orders(http: aiohttp.ClientSession, shop: SimShop, **params: Any) -> list[dict[str, Any]]:
    status, body, _ = await get(http, shop.url + API + "/orders", per_page=100, **params)
    assert status == 200
    out: list[dict[str, Any]] = body
    page = 2
    while len(body) == 100:
        status, body, _ = await get(http, shop.url + API + "/orders", per_page=100, page=page, **params)
        out += body
        page += 1
    return out


# -- payload ---------------------------------------------------------------------------------


async def test_payload_matches_documented_example(shop: SimShop, http: aiohttp.ClientSession) -> None:
    orders = await all_orders(http, shop)
    assert len(orders) == 300
    for o in orders:
        assert list(o) == ORDER_KEYS
        assert isinstance(o["id"], int) and o["number"] == str(o["id"])
        assert set(o["billing"]) == BILLING_KEYS and set(o["shipping"]) == BILLING_KEYS - {"email", "phone"}
        for key in ("total", "total_tax", "shipping_total", "discount_total", "cart_tax"):
            assert MONEY.match(o[key]), key
        for key in ("date_created", "date_created_gmt", "date_modified", "date_modified_gmt"):
            assert DATE.match(o[key]), key
        assert (o["date_paid"] is None) == (o["status"] not in ("processing", "completed", "refunded"))
        assert (o["date_completed"] is None) == (o["status"] != "completed")
        assert o["prices_include_tax"] is True and o["currency"] == "EUR"
        assert o["customer_id"] == 0 or isinstance(o["customer_id"], int)
        assert o["billing"]["email"]
        for line in o["line_items"]:
            assert set(line) == LINE_KEYS
            assert isinstance(line["quantity"], int) and isinstance(line["price"], int | float)
            assert MONEY.match(line["total"]) and MONEY.match(line["subtotal_tax"])
        for tax in o["tax_lines"]:
            assert isinstance(tax["rate_id"], int) and tax["compound"] is False
    assert any(o["customer_id"] == 0 for o in orders) and any(o["customer_id"] for o in orders)
    assert any(li["variation_id"] for o in orders for li in o["line_items"])
    assert len({o["status"] for o in orders}) >= 5
    size = sum(len(orjson.dumps(o)) for o in orders) / len(orders)
    print(f"average order JSON: {size:.0f} bytes")


async def test_php_style_escaping(shop: SimShop, http: aiohttp.ClientSession) -> None:
    async with http.get(shop.url + API + "/orders?per_page=20", headers=AUTH) as r:
        raw = await r.read()
        assert r.headers["Content-Type"] == "application/json; charset=UTF-8"
    assert raw.isascii() and b"\\/wp-json\\/wc\\/v3\\/orders\\/" in raw and b"\\u00" in raw


def test_deterministic_from_seed() -> None:
    assert SimShop(OPTS).truth() == SimShop(OPTS).truth()
    other = SimOptions(orders=300, seed=8, start=OPTS.start, end=OPTS.end)
    assert SimShop(other).truth() != SimShop(OPTS).truth()


async def test_totals_add_up(shop: SimShop, http: aiohttp.ClientSession) -> None:
    for o in await all_orders(http, shop):
        lines = o["line_items"]
        line_sum = sum(cents(li["total"]) + cents(li["total_tax"]) for li in lines)
        shipping = cents(o["shipping_total"]) + cents(o["shipping_tax"])
        assert cents(o["total"]) == line_sum + shipping
        assert cents(o["cart_tax"]) == sum(cents(li["total_tax"]) for li in lines)
        assert cents(o["total_tax"]) == cents(o["cart_tax"]) + cents(o["shipping_tax"])
        assert cents(o["total_tax"]) == sum(
            cents(t["tax_total"]) + cents(t["shipping_tax_total"]) for t in o["tax_lines"]
        )
        subtotals = sum(cents(li["subtotal"]) for li in lines)
        assert cents(o["discount_total"]) == subtotals - sum(cents(li["total"]) for li in lines)
        for li in lines:  # tax included in the price, rounded to the cent
            rate: dict[str, Decimal] = {
                "": Decimal(20),
                "taux-reduit": Decimal(10),
                "taux-reduit-5-5": Decimal("5.5"),
                "taux-particulier": Decimal("2.1"),
            }
            gross = cents(li["total"]) + cents(li["total_tax"])
            expected = (gross * rate[li["tax_class"]] / (100 + rate[li["tax_class"]])).quantize(
                Decimal("0.01")
            )
            assert abs(expected - cents(li["total_tax"])) <= Decimal("0.01")


async def test_unknown_skus_are_not_in_catalogue(shop: SimShop, http: aiohttp.ClientSession) -> None:
    catalogue: set[str] = set()
    page = 1
    while True:
        _, body, _ = await get(http, shop.url + API + "/products", per_page=100, page=page)
        if not body:
            break
        catalogue |= {p["sku"] for p in body}
        for p in body:
            if p["type"] == "variable":
                _, variations, _ = await get(
                    http, shop.url + API + f"/products/{p['id']}/variations", per_page=100
                )
                catalogue |= {v["sku"] for v in variations}
        page += 1
    assert len(catalogue) > 150
    skus = [li["sku"] for t in shop.truth() for li in t["lines"]]
    unknown = [s for s in skus if s not in catalogue]
    assert 0 < len(unknown) < 0.15 * len(skus)


# -- listing ---------------------------------------------------------------------------------


@pytest.mark.parametrize("per_page", [0, 101])
async def test_per_page_bounds(shop: SimShop, http: aiohttp.ClientSession, per_page: int) -> None:
    status, body, _ = await get(http, shop.url + API + "/orders", per_page=per_page)
    assert status == 400
    assert body == {
        "code": "rest_invalid_param",
        "message": "Invalid parameter(s): per_page",
        "data": {
            "status": 400,
            "params": {"per_page": "per_page must be between 1 (inclusive) and 100 (inclusive)"},
        },
    }


async def test_pagination_headers_and_links(shop: SimShop, http: aiohttp.ClientSession) -> None:
    url: str | None = shop.url + API + "/orders?per_page=40&orderby=id&order=asc"
    seen: list[int] = []
    while url:
        async with http.get(url, headers=AUTH) as r:
            assert r.headers["X-WP-Total"] == "300" and r.headers["X-WP-TotalPages"] == "8"
            seen += [o["id"] for o in await r.json()]
            nxt = r.links.get("next")
            url = str(nxt["url"]) if nxt else None
    assert seen == sorted(t["id"] for t in shop.truth())
    status, body, r = await get(http, shop.url + API + "/orders", per_page=40, page=9)
    assert (
        status == 200 and body == [] and 'rel="prev"' in r.headers["Link"] and "page=8" in r.headers["Link"]
    )
    _, first, r = await get(http, shop.url + API + "/orders", per_page=10)
    assert "prev" not in r.headers["Link"]
    dates = [(o["date_created"], o["id"]) for o in first]
    assert dates == sorted(dates, reverse=True)  # default: date desc, ties by id desc


async def test_status_filter_and_trash(shop: SimShop, http: aiohttp.ClientSession) -> None:
    truth = shop.truth()
    victim = truth[0]["id"]
    shop.delete_order(victim)
    _, _, r = await get(http, shop.url + API + "/orders")
    assert r.headers["X-WP-Total"] == "299"
    _, body, _ = await get(http, shop.url + API + "/orders", status="trash")
    assert [o["id"] for o in body] == [victim]
    _, body, _ = await get(http, shop.url + API + "/orders", per_page=100, status="on-hold,pending")
    assert body and {o["status"] for o in body} <= {"on-hold", "pending"}
    shop.delete_order(victim, force=True)
    status, body, _ = await get(http, shop.url + API + f"/orders/{victim}")
    assert status == 404 and body["code"] == "woocommerce_rest_shop_order_invalid_id"


async def test_date_filters_on_dst_day(http: aiohttp.ClientSession) -> None:
    # Europe/Paris springs forward on 2026-03-29 at 01:00 UTC (02:00 CET -> 03:00 CEST).
    day = SimOptions(orders=0, start=datetime(2026, 3, 28, tzinfo=UTC), end=datetime(2026, 3, 30, tzinfo=UTC))
    shop = SimShop(day)
    ids = [shop.create_order(datetime(2026, 3, 29, h, 30, tzinfo=UTC)) for h in (0, 1, 2)]
    url = await shop.start()
    try:
        truth = {t["id"]: t for t in shop.truth()}
        assert [truth[i]["date_created"] for i in ids] == [
            "2026-03-29T01:30:00", "2026-03-29T03:30:00", "2026-03-29T04:30:00"
        ]  # fmt: skip

        async def found(**params: Any) -> list[int]:
            _, body, _ = await get(http, url + API + "/orders", order="asc", **params)
            return [o["id"] for o in body]

        assert await found(after="2026-03-29T03:00:00") == ids[1:]  # site-local
        assert await found(after="2026-03-29T03:00:00", dates_are_gmt="true") == []
        assert await found(after="2026-03-29T01:00:00", dates_are_gmt="true") == ids[1:]
        assert await found(after="2026-03-29T01:00:00+00:00") == ids[1:]  # offset honoured
        # Bounds are exclusive, as WP_Date_Query without "inclusive".
        assert await found(after="2026-03-29T03:30:00", before="2026-03-29T04:30:00") == []
        assert await found(after="2026-03-29T03:29:59", before="2026-03-29T04:30:01") == ids[1:]
        status, body, _ = await get(http, url + API + "/orders", after="yesterday")
        assert status == 400 and body["code"] == "rest_invalid_param"
        shop.modify_order(ids[0], "completed")
        assert await found(modified_after=(datetime.now(UTC) - timedelta(minutes=1)).isoformat()) == [ids[0]]
    finally:
        await shop.stop()


# -- auth ------------------------------------------------------------------------------------


def oauth_query(method: str, url: str, params: dict[str, str], secret: str, algo: str) -> dict[str, str]:
    """Independent RFC 5849 signer (test side)."""
    oauth = {"oauth_consumer_key": "ck_test", "oauth_timestamp": str(int(time.time())),
             "oauth_nonce": hashlib.md5(str(time.time_ns()).encode()).hexdigest(),
             "oauth_signature_method": algo}  # fmt: skip
    allp = {**params, **oauth}

    def enc(s: str) -> str:
        return quote(s, safe="~")

    norm = "&".join(f"{enc(k)}={enc(v)}" for k, v in sorted((enc(k), enc(v)) for k, v in allp.items()))
    base = f"{method}&{enc(url)}&{enc(norm)}"
    digest = hashlib.sha256 if algo == "HMAC-SHA256" else hashlib.sha1
    sig = base64.b64encode(hmac.new(f"{secret}&".encode(), base.encode(), digest).digest()).decode()
    return {**oauth, "oauth_signature": sig}


async def test_auth_methods(shop: SimShop, http: aiohttp.ClientSession) -> None:
    url = shop.url + API + "/orders"
    assert (await get(http, url))[0] == 200
    status, body, _ = await get(http, url, headers=None)
    assert status == 401 and body["code"] == "woocommerce_rest_cannot_view"
    bad = {"Authorization": "Basic " + base64.b64encode(b"ck_test:nope").decode()}
    status, body, _ = await get(http, url, headers=bad)
    assert status == 401 and body == {"code": "woocommerce_rest_authentication_error",
                                      "message": "Consumer secret is invalid.", "data": {"status": 401}}  # fmt: skip
    assert (await get(http, url, headers=None, consumer_key="ck_test", consumer_secret="cs_test"))[0] == 200
    assert (await get(http, url, headers=None, consumer_key="ck_x", consumer_secret="cs_test"))[0] == 401
    for algo in ("HMAC-SHA1", "HMAC-SHA256"):
        params = {"per_page": "5", "status": "any"}
        signed = oauth_query("GET", url, params, "cs_test", algo)
        assert (await get(http, url, headers=None, **params, **signed))[0] == 200, algo
        header = "OAuth " + ", ".join(f'{k}="{quote(v, safe="")}"' for k, v in signed.items())
        assert (await get(http, url, headers={"Authorization": header}, **params))[0] == 401  # nonce reused
        signed = oauth_query("GET", url, params, "cs_test", algo)
        header = "OAuth " + ", ".join(f'{k}="{quote(v, safe="")}"' for k, v in signed.items())
        assert (await get(http, url, headers={"Authorization": header}, **params))[0] == 200, algo
        forged = oauth_query("GET", url, params, "cs_wrong", algo)
        status, body, _ = await get(http, url, headers=None, **params, **forged)
        assert status == 401 and "signature" in body["message"]


# -- faults and load -------------------------------------------------------------------------


async def test_each_fault_kind(shop: SimShop, http: aiohttp.ClientSession) -> None:
    url = shop.url + API + "/orders"
    shop.set_faults("500:2,429@0.2,503html,truncated,captcha,502")
    for _ in range(2):
        status, body, _ = await get(http, url)
        assert status == 500 and body["code"] == "internal_server_error"
    status, _, r = await get(http, url)
    assert status == 429 and r.headers["Retry-After"] == "0.2"
    status, body, r = await get(http, url)
    assert status == 503 and r.content_type == "text/html" and b"<html>" in body
    async with http.get(url, headers=AUTH) as r:
        assert r.status == 200 and r.content_type == "application/json"
        with pytest.raises(orjson.JSONDecodeError):
            orjson.loads(await r.read())
    status, body, r = await get(http, url)
    assert status == 202 and r.content_type == "text/html" and b"sgcaptcha" in body
    assert (await get(http, url))[0] == 502
    assert (await get(http, url))[0] == 200
    shop.set_faults("always:500")
    assert [(await get(http, url))[0] for _ in range(3)] == [500, 500, 500]
    shop.set_faults("rate:0.5:503html")
    codes = [(await get(http, url))[0] for _ in range(20)]
    assert 0 < codes.count(503) < 20 and set(codes) == {200, 503}
    with pytest.raises(ValueError):
        shop.set_faults("teapot")
    assert shop.requests_log[-1][0] == "GET" and shop.requests_log[-1][1].startswith(API + "/orders")


async def test_stall_ends_on_stop(http: aiohttp.ClientSession) -> None:
    shop = SimShop(SimOptions(orders=10, faults="stall"))
    url = await shop.start()
    with pytest.raises(asyncio.TimeoutError):
        await http.get(url + API + "/orders", headers=AUTH, timeout=aiohttp.ClientTimeout(total=0.3))
    began = time.perf_counter()
    await shop.stop()
    assert time.perf_counter() - began < 5


async def test_max_concurrency_answers_503(http: aiohttp.ClientSession) -> None:
    shop = SimShop(SimOptions(orders=20, latency=0.2, max_concurrency=2))
    url = await shop.start()
    try:
        results = await asyncio.gather(*(get(http, url + API + "/orders") for _ in range(6)))
        codes = sorted(status for status, _, _ in results)
        assert codes.count(200) == 2 and codes.count(503) == 4
        assert all(r.content_type == "text/html" for status, _, r in results if status == 503)
    finally:
        await shop.stop()


async def test_page_drift_during_pagination(http: aiohttp.ClientSession) -> None:
    opts = SimOptions(orders=50, seed=3, start=OPTS.start, end=OPTS.end, create_during_pagination=4,
                      modify_during_pagination=2)  # fmt: skip
    shop = SimShop(opts)
    url = await shop.start()
    try:
        _, first, r = await get(http, url + API + "/orders", per_page=10)
        assert r.headers["X-WP-Total"] == "50"
        _, second, r = await get(http, url + API + "/orders", per_page=10, page=2)
        assert r.headers["X-WP-Total"] == "54"
        assert set(o["id"] for o in first) & set(o["id"] for o in second)  # new orders pushed old ones down
        truth = {t["id"]: t for t in shop.truth()}
        changed = [o for o in first if truth[o["id"]]["date_modified_gmt"] != o["date_modified_gmt"]]
        assert len(changed) == 2
        _, _, r = await get(http, url + API + "/orders", per_page=10)
        assert r.headers["X-WP-Total"] == "54"  # once per lifetime
    finally:
        await shop.stop()


# -- writes ----------------------------------------------------------------------------------


async def test_order_update_and_notes(shop: SimShop, http: aiohttp.ClientSession) -> None:
    oid = shop.truth()[5]["id"]
    url = shop.url + API + f"/orders/{oid}"
    async with http.put(url, json={"status": "completed"}, headers=AUTH) as r:
        assert r.status == 200 and (await r.json())["status"] == "completed"
    async with http.put(url, json={"status": "shipped"}, headers=AUTH) as r:
        assert r.status == 400 and (await r.json())["code"] == "rest_invalid_param"
    async with http.post(url + "/notes", json={"note": "Colis remis à La Poste", "customer_note": True},
                         headers=AUTH) as r:  # fmt: skip
        assert r.status == 201 and (await r.json())["customer_note"] is True
    async with http.post(url + "/notes", json={}, headers=AUTH) as r:
        assert r.status == 400 and (await r.json())["code"] == "rest_missing_callback_param"
    _, notes, _ = await get(http, url + "/notes")
    assert [n["note"] for n in notes] == ["Colis remis à La Poste"]
    assert ("PUT", API + f"/orders/{oid}", {"status": "completed"}) in shop.received


async def test_stock_writes(shop: SimShop, http: aiohttp.ClientSession) -> None:
    _, products, _ = await get(http, shop.url + API + "/products", per_page=100)
    simple = [p for p in products if p["type"] == "simple" and p["manage_stock"]][:3]
    updates = [{"id": p["id"], "stock_quantity": 7 + k} for k, p in enumerate(simple)]
    async with http.post(shop.url + API + "/products/batch", json={"update": updates}, headers=AUTH) as r:
        assert r.status == 200
        assert [p["stock_quantity"] for p in (await r.json())["update"]] == [7, 8, 9]
    assert ("POST", API + "/products/batch", {"update": updates}) in shop.received
    _, again, _ = await get(http, shop.url + API + "/products", sku=simple[0]["sku"])
    assert [p["stock_quantity"] for p in again] == [7]
    too_many = {"update": [{"id": simple[0]["id"], "stock_quantity": 1}] * 101}
    async with http.post(shop.url + API + "/products/batch", json=too_many, headers=AUTH) as r:
        assert r.status == 413
        assert (await r.json())["message"] == "Unable to accept more than 100 items for this request."
    async with http.put(shop.url + API + f"/products/{simple[0]['id']}", json={"stock_quantity": 1.5},
                        headers=AUTH) as r:  # fmt: skip
        assert r.status == 400 and (await r.json())["code"] == "rest_invalid_param"
    variable = next(p for p in products if p["type"] == "variable")
    vid = variable["variations"][0]
    async with http.put(shop.url + API + f"/products/{variable['id']}/variations/{vid}",
                        json={"stock_quantity": 3}, headers=AUTH) as r:  # fmt: skip
        assert r.status == 200 and (await r.json())["stock_quantity"] == 3
    batch = {"update": [{"id": vid, "stock_quantity": 4}, {"id": vid, "stock_quantity": "x"}]}
    async with http.post(shop.url + API + f"/products/{variable['id']}/variations/batch", json=batch,
                         headers=AUTH) as r:  # fmt: skip
        result = (await r.json())["update"]
        assert result[0]["stock_quantity"] == 4 and result[1]["error"]["code"] == "rest_invalid_param"


async def test_customers_and_control_endpoints(shop: SimShop, http: aiohttp.ClientSession) -> None:
    _, customers, r = await get(http, shop.url + API + "/customers", per_page=5)
    assert len(customers) == 5 and int(r.headers["X-WP-Total"]) >= 20
    _, found, _ = await get(http, shop.url + API + "/customers", email=customers[0]["email"])
    assert [c["id"] for c in found] == [customers[0]["id"]]
    async with http.post(shop.url + "/_sim/orders", json={"date_created_gmt": "2026-03-30T08:00:00"}) as r:
        oid = (await r.json())["id"]
    async with http.post(shop.url + f"/_sim/orders/{oid}", json={"status": "cancelled"}) as r:
        assert r.status == 200
    async with http.post(shop.url + "/_sim/faults", json={"spec": "500"}) as r:
        assert r.status == 200
    assert (await get(http, shop.url + API + "/orders"))[0] == 500
    _, truth, _ = await get(http, shop.url + "/_sim/truth", headers=None)
    assert truth[-1]["id"] == oid and truth[-1]["status"] == "cancelled"
    assert truth[-1]["date_created_gmt"] == "2026-03-30T08:00:00"
    async with http.delete(shop.url + f"/_sim/orders/{oid}") as r:
        assert r.status == 200
    status, body, _ = await get(http, shop.url + API + f"/orders/{oid}")
    assert status == 200 and body["status"] == "trash"


def test_thread_runner_for_sync_code() -> None:
    with SimShopThread(SimOptions(orders=5)) as url:
        req = urllib.request.Request(url + API + "/orders", headers=AUTH)
        with urllib.request.urlopen(req) as resp:
            assert len(orjson.loads(resp.read())) == 5


def test_cli_serves_until_sigterm(tmp_path: Any) -> None:
    dump = tmp_path / "truth.json"
    with shop_command(["sim", "--orders", "12", "--dump-truth", str(dump)], stop=signal.SIGTERM) as (
        proc,
        url,
    ):
        req = urllib.request.Request(url + API + "/orders?per_page=1", headers=AUTH)
        with urllib.request.urlopen(req) as resp:
            assert resp.headers["X-WP-Total"] == "12"
        assert len(orjson.loads(dump.read_bytes())) == 12
    assert proc.returncode == 0


@pytest.mark.parametrize(
    ("mode", "status", "answer"),
    [("listing", 200, "none"), ("per-order", 404, "rest_no_route"), ("ignores-include", 200, "every refund")],
)
def test_the_shop_command_plays_each_refunds_endpoint(mode: str, status: int, answer: str) -> None:
    """``fastimport sim --woo-refunds MODE``: a 9.0+ shop, one without the route, one ignoring ``include``
    (asked for a refund id that does not exist)."""
    with shop_command(["sim", "--orders", "300", "--woo-refunds", mode]) as (_, url):
        request = urllib.request.Request(url + API + "/refunds?include=999999999&per_page=100", headers=AUTH)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                got, body = response.status, orjson.loads(response.read())
        except urllib.error.HTTPError as exc:
            got, body = exc.code, orjson.loads(exc.read())
    assert got == status
    if answer == "none":
        assert body == []
    elif answer == "rest_no_route":
        assert body["code"] == "rest_no_route"
    else:
        assert body and all(r["id"] != 999999999 for r in body)


async def test_big_shop_startup_and_page_speed(http: aiohttp.ClientSession) -> None:
    began = time.perf_counter()
    shop = SimShop(SimOptions(orders=100_000, prerender=False))
    url = await shop.start()
    started = time.perf_counter() - began
    try:
        began = time.perf_counter()
        for idx in range(20_000):  # a sample: the full prerender of 100k takes ~10 s on a small machine
            shop.store.blob(idx)
        per_order = (time.perf_counter() - began) / 20_000
        began = time.perf_counter()
        pages = 0
        while time.perf_counter() - began < 1.0:
            params = {"per_page": "100", "page": str(pages % 200 + 1), "order": "asc"}
            async with http.get(url + API + "/orders", params=params, headers=AUTH) as r:
                assert r.status == 200 and len(await r.read()) > 100_000  # served, not parsed
            pages += 1
        rate = pages / (time.perf_counter() - began)
        print(
            f"\n100k-order shop: start {started:.2f} s (without prerender), render {per_order * 1e6:.0f} us/order, "
            f"{rate:.0f} pages/s of 100 (client included)"
        )
    finally:
        await shop.stop()
