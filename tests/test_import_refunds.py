"""Refunds fetched apart from their orders (WooCommerce ``/orders/<id>/refunds``, PrestaShop ``order_slip``)
are remembered with the orders written, and a re-import of orders listed as they were asks the shop for none
(fastimport/io/refund_lines.py ``FetchedRefunds``); on the real path: the simulated shop over loopback, the
test's store (DuckDB file or PostgreSQL)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import aiohttp
import pyarrow as pa
import pytest

from fastimport._core_shared import content_hash
from fastimport.config import Config
from fastimport.importer import run_imports
from fastimport.io.connector import fetcher_for
from fastimport.io.refund_lines import FETCHED_REFUNDS_KEY, FetchedRefunds
from fastimport.io.registry import connector_for
from fastimport.store import connect, raw
from fastimport.store.db import Connection
from tests.conftest import ShopFactory, config_for
from tests.test_import import WEEK_END, WEEK_START, whole_window

ORDERS = 300


@pytest.fixture(params=["woocommerce", "prestashop"])
def platform(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _refundable(shop: Any, count: int) -> list[tuple[int, int]]:
    """(order id, line id) of ``count`` orders not refunded in full, each with a line of two units or more."""
    found: list[tuple[int, int]] = []
    for i, oid in enumerate(shop.store.ids):
        order = shop.store.order(i)
        if order["status"] in ("refunded", "trash") or order.get("refunds"):
            continue
        line = next((li for li in order["line_items"] if int(li["quantity"]) >= 2), None)
        if line is not None:
            found.append((int(oid), int(line["id"])))
        if len(found) == count:
            return found
    raise AssertionError("the simulated shop made too few lines of two units")


def _refunds_asked(shop: Any, platform: str) -> set[int]:
    """The orders whose refunds the import asked the shop for (the slip index is not a request for refunds)."""
    if platform == "woocommerce":
        listed, one_by_one, _ = woo_refund_requests(shop)
        return {oid for ids in listed for oid in ids} | set(one_by_one)
    asked: set[int] = set()
    for method, path, _status in shop.requests_log:
        where = path.split("?")[0]
        if method != "GET":
            continue
        if platform == "prestashop" and where == "/api/order_slip" and "filter" in path:
            wanted = unquote(path).split("filter[id_order]=[")[1].split("]")[0]
            asked.update(int(v) for v in wanted.split("|"))
    return asked


def woo_refund_requests(shop: Any) -> tuple[list[list[int]], list[int], int]:
    """WooCommerce refunds asked of the simulated shop: the orders of each /refunds listing answered (named by
    their refunds' ids in ``include``), the orders asked one by one (/orders/<id>/refunds), and how many
    /refunds requests were answered 404."""
    listed: list[list[int]] = []
    one_by_one: list[int] = []
    missing = 0
    for method, path, status in shop.requests_log:
        where = path.split("?")[0]
        if method != "GET" or not where.endswith("/refunds"):
            continue
        if where.endswith("/wc/v3/refunds"):
            if status == 404:
                missing += 1
                continue
            ids = parse_qs(urlsplit(path).query)["include"][0].split(",")
            owners = [shop.refunds.order_of(int(rid)) for rid in ids]
            assert None not in owners, ids  # only refunds the shop has are asked for
            listed.append(list(dict.fromkeys(o for o in owners if o is not None)))
        else:
            one_by_one.append(int(where.split("/")[-2]))
    return listed, one_by_one, missing


async def _import(config: Config, **kwargs: Any) -> Any:
    con = connect(config.target)
    try:
        report = (await run_imports(con, [(config.stores[0], whole_window())], **kwargs))[0]
    finally:
        con.close()
    return report


def _query(config: Config, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    con = connect(config.target)
    try:
        return [tuple(r) for r in con.execute(sql, params or []).fetchall()]
    finally:
        con.close()


def _counts(config: Config) -> tuple[Any, ...]:
    return _query(
        config,
        "SELECT (SELECT count(*) FROM orders), (SELECT count(*) FROM raw_chunks), "
        "(SELECT count(*) FROM order_lines), (SELECT count(*) FROM fetched_refunds)",
    )[0]


def _remembered(config: Config) -> dict[int, bytes]:
    return {int(o): bytes(b) for o, b in _query(config, "SELECT order_id, refunds FROM fetched_refunds")}


async def _shop_with_refunds(shop_factory: ShopFactory, tmp_path: Any) -> tuple[Any, Config, list[int]]:
    shop, url = await shop_factory(orders=ORDERS, start=WEEK_START, end=WEEK_END)
    made = _refundable(shop, 3)
    for oid, line in made:
        shop.refunds.refund(oid, [(line, 1)], reason="cassé")
    return shop, config_for(tmp_path, url, per_page=50), [oid for oid, _ in made]


async def test_a_reimport_of_an_unchanged_range_asks_for_no_refund_and_writes_nothing(
    tmp_path: Any, shop_factory: ShopFactory, platform: str
) -> None:
    shop, config, refunded = await _shop_with_refunds(shop_factory, tmp_path)
    first = await _import(config)
    assert first.ok and first.new == ORDERS, first.error
    asked = _refunds_asked(shop, platform)
    assert set(refunded) <= asked
    assert set(_remembered(config)) == asked  # each order whose refunds were fetched, remembered
    before = _counts(config)

    shop.requests_log.clear()
    again = await _import(config)
    assert again.ok, again.error
    assert (again.new, again.updated, again.unchanged) == (0, 0, ORDERS)
    assert _refunds_asked(shop, platform) == set()  # not one refund asked again
    assert _counts(config) == before  # not one row written


async def test_a_refund_made_on_the_shop_is_fetched_and_stored_at_the_next_import(
    tmp_path: Any, shop_factory: ShopFactory, platform: str
) -> None:
    shop, config, refunded = await _shop_with_refunds(shop_factory, tmp_path)
    assert (await _import(config)).ok
    again_on, other_line = next(
        (oid, int(li["id"]))
        for oid in refunded
        for li in shop.store.order(shop.store.find(oid))["line_items"]
        if int(li["quantity"]) >= 2
    )
    fresh_on, fresh_line = _refundable(shop, 1)[0]
    second = shop.refunds.refund(again_on, [(other_line, 1)], reason="deuxième")
    first_refund = shop.refunds.refund(fresh_on, [(fresh_line, 1)], reason="première")

    shop.requests_log.clear()
    report = await _import(config)
    assert report.ok, report.error
    assert (report.new, report.updated, report.unchanged) == (0, 2, ORDERS - 2)
    assert _refunds_asked(shop, platform) == {again_on, fresh_on}  # those two only
    remembered = _remembered(config)
    con = connect(config.target)
    try:
        for oid, made in ((again_on, second), (fresh_on, first_refund)):
            assert str(made.refund_id).encode() in remembered[oid]
            stored = raw.latest_version(con, 1, oid)
            assert stored is not None and FETCHED_REFUNDS_KEY.encode() in stored
            assert stored.rstrip().endswith(remembered[oid] + b"}")  # the version stored carries them
    finally:
        con.close()

    shop.requests_log.clear()
    quiet = await _import(config)
    assert (quiet.updated, quiet.unchanged) == (0, ORDERS) and _refunds_asked(shop, platform) == set()


async def test_the_remembered_refunds_are_what_a_fresh_fetch_gives(
    tmp_path: Any, shop_factory: ShopFactory, platform: str
) -> None:
    _shop, config, _refunded = await _shop_with_refunds(shop_factory, tmp_path)
    assert (await _import(config)).ok
    remembered = _remembered(config)
    connector: Any = connector_for(config.stores[0])  # a new run's connector: nothing recalled
    async with aiohttp.ClientSession() as http:
        pages = connector.pages(fetcher_for(config.stores[0], http), whole_window())
        async for _page in pages:
            pass
    fresh = connector.refunds.by_order
    assert remembered and set(fresh) == set(remembered)
    assert {o: content_hash(b) for o, b in fresh.items()} == {
        o: content_hash(b) for o, b in remembered.items()
    }
    assert connector.refunds.reused == 0 and connector.refunds.requested == len(fresh)


async def test_an_order_and_its_remembered_refunds_are_written_in_one_transaction(
    tmp_path: Any, shop_factory: ShopFactory, platform: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _shop, config, refunded = await _shop_with_refunds(shop_factory, tmp_path)
    keep = FetchedRefunds.remembered

    def unwritable(self: FetchedRefunds, orders: pa.Table) -> pa.Table | None:
        rows = keep(self, orders)  # the refunds' insert fails (NOT NULL), after the batch's orders went in
        return None if rows is None else rows.set_column(3, "refunds", pa.nulls(rows.num_rows, pa.binary()))

    with monkeypatch.context() as patch:
        patch.setattr(FetchedRefunds, "remembered", unwritable)
        failed = await _import(config)
    assert not failed.ok and failed.failed_stage == "store", failed
    assert _counts(config) == (0, 0, 0, 0)  # the batch's orders went with its refunds

    done = await _import(config, batch_orders=60)  # several batches, each with its own refunds
    assert done.ok and done.new == ORDERS, done.error
    con: Connection = connect(config.target)
    try:
        rows = con.execute(
            "SELECT f.order_id, f.modified_at = o.modified_at, o.last_run FROM fetched_refunds f "
            "JOIN orders o USING (store_id, order_id)"
        ).fetchall()
        with_refunds = [
            oid
            for (oid,) in con.execute("SELECT order_id FROM orders").fetchall()
            if FETCHED_REFUNDS_KEY.encode() in (raw.latest_version(con, 1, int(oid)) or b"")
        ]
    finally:
        con.close()
    assert sorted(r[0] for r in rows) == sorted(with_refunds) and set(refunded) <= set(with_refunds)
    assert all(same and run == done.run_id for _, same, run in rows)
