"""WooCommerce 9.0's ``GET /refunds?include=<refund ids>`` reads the refund objects of several pages' orders in
one request (fastimport/io/woocommerce/connector.py ``fetch_refunds``, fastimport/io/woocommerce/refunds.py,
fastimport/io/refund_lines.py ``with_batched``); an order the listing does not answer whole, or a shop without
the route (404 ``rest_no_route``) or ignoring ``include``, is asked order by order.  Both paths must store
the same bytes: the simulated shop over loopback, two stores of the test's backend compared row by row."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pytest

from fastimport.io.connector import Page
from fastimport.io.refund_lines import with_batched
from fastimport.io.woocommerce import connector
from tests.conftest import ShopFactory, config_for
from tests.test_import import WEEK_END, WEEK_START
from tests.test_import_refunds import _import, _query, woo_refund_requests

ORDERS = 2000
PER_PAGE = 100


@pytest.fixture
def platform() -> str:
    return "woocommerce"


def _make_refunds(shop: Any) -> list[int]:
    """Refunds of lines on a few orders, two on the first of them (newest first on the order)."""
    made: list[int] = []
    for i, oid in enumerate(shop.store.ids):
        order = shop.store.order(i)
        if order["status"] in ("refunded", "trash") or order.get("refunds"):
            continue
        line = next((li for li in order["line_items"] if int(li["quantity"]) >= 2), None)
        if line is None:
            continue
        shop.refunds.refund(int(oid), [(int(line["id"]), 1)], reason="cassé / abîmé")
        if not made:
            shop.refunds.refund(int(oid), [(int(line["id"]), 1)], extra=150, reason="deuxième")
        made.append(int(oid))
        if len(made) == 5:
            return made
    raise AssertionError("the simulated shop made too few lines of two units")


def _wanted(shop: Any) -> list[int]:
    """The orders whose refund objects an import reads: refunds listed, not refunded in full."""
    store = shop.store
    return sorted(
        int(store.ids[i])
        for i in range(len(store.ids))
        if store.order(i).get("refunds") and store.order(i)["status"] != "refunded"
    )


def _stored(config: Any) -> tuple[list[tuple[Any, ...]], ...]:
    """The store's orders, lines and remembered refunds (of its one shop: both stores may share a database)."""
    of_store = "store_id = (SELECT store_id FROM stores WHERE name = ?)"
    name = [config.stores[0].name]
    return (
        _query(
            config,
            f"SELECT order_id, content_hash, total, total_tax, shop_status FROM orders WHERE {of_store} ORDER BY 1",
            name,
        ),
        _query(
            config,
            "SELECT order_id, line_no, line_id, quantity, subtotal, total, total_tax FROM order_lines "
            f"WHERE {of_store} ORDER BY 1, 2",
            name,
        ),
        _query(
            config,
            f"SELECT order_id, listing_hash, refunds FROM fetched_refunds WHERE {of_store} ORDER BY 1",
            name,
        ),
    )


async def test_the_refunds_listing_stores_what_one_request_per_order_stores(
    tmp_path: Path, shop_factory: ShopFactory
) -> None:
    shop, url = await shop_factory(orders=ORDERS, start=WEEK_START, end=WEEK_END)
    made = _make_refunds(shop)
    wanted = _wanted(shop)
    listed_config = config_for(tmp_path / "listed", url, per_page=PER_PAGE, name="listed")
    report = await _import(listed_config)
    assert report.ok and report.new == ORDERS, report.error
    listed, one_by_one, missing = woo_refund_requests(shop)
    assert one_by_one == [] and missing == 0
    assert sorted(oid for ids in listed for oid in ids) == wanted and set(made) <= set(wanted)
    # 20 pages and fewer than 100 refunds: one request instead of one per order
    assert len(listed) == 1 and len(wanted) > 20, (len(listed), len(wanted))

    shop.requests_log.clear()
    shop.options = dataclasses.replace(shop.options, woo_refunds_listing=False)  # the shop before 9.0
    per_order_config = config_for(tmp_path / "per_order", url, per_page=PER_PAGE, name="per_order")
    report = await _import(per_order_config)
    assert report.ok and report.new == ORDERS, report.error
    listed, one_by_one, missing = woo_refund_requests(shop)
    assert listed == [] and missing == 1 and sorted(one_by_one) == wanted

    by_listing, by_order = _stored(listed_config), _stored(per_order_config)
    assert [o for o, _, _ in by_listing[2]] == wanted  # every order's refunds remembered
    assert by_listing == by_order  # orders, content hashes, lines and the refunds' bytes alike
    two = {o: bytes(b) for o, _, b in by_listing[2]}[made[0]]
    assert two.index(b'"deuxi') < two.index(b'"cass')  # newest first, as /orders/<id>/refunds
    remembered = b"".join(bytes(b) for _, _, b in by_listing[2])
    assert b"parent_id" not in remembered and b"users/1" not in remembered and b'"up"' in remembered

    # re-imports ask for nothing, whichever path filled the store and whichever the shop offers now
    shop.options = dataclasses.replace(shop.options, woo_refunds_listing=True)
    for config in (listed_config, per_order_config):
        shop.requests_log.clear()
        report = await _import(config)
        assert report.ok and (report.new, report.updated, report.unchanged) == (0, 0, ORDERS)
        assert woo_refund_requests(shop) == ([], [], 0)


async def test_a_shop_that_ignores_include_is_asked_order_by_order(
    tmp_path: Path, shop_factory: ShopFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A shop that lists every refund whatever ``include`` says would page through all of them: the listing
    is given up at its first answer naming a refund not asked for, for the rest of the run."""
    shop, url = await shop_factory(
        orders=ORDERS, start=WEEK_START, end=WEEK_END, woo_refunds_ignore_include=True
    )
    _make_refunds(shop)
    monkeypatch.setattr(connector, "REFUND_LOOKAHEAD_PAGES", 4)  # a request every 2 pages: about 10 groups
    config = config_for(tmp_path, url, per_page=PER_PAGE)
    report = await _import(config)
    assert report.ok and report.new == ORDERS, report.error
    listed = [p for m, p, _ in shop.requests_log if m == "GET" and p.startswith("/wp-json/wc/v3/refunds?")]
    one_by_one = woo_refund_requests(shop)[1]
    # the first answer shows it; the groups already on their way then (at most 4 pages held) come back too
    assert 1 <= len(listed) <= 3, listed
    assert sorted(one_by_one) == _wanted(shop) == [o for o, _, _ in _stored(config)[2]]


async def test_an_order_the_listing_does_not_answer_whole_is_asked_alone(
    tmp_path: Path, shop_factory: ShopFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A refund missing from the answer (deleted meanwhile, hidden by a plugin): its order is asked by
    /orders/<id>/refunds, the others stay as the listing gave them, and the listing is kept."""
    shop, url = await shop_factory(orders=ORDERS, start=WEEK_START, end=WEEK_END)
    made = _make_refunds(shop)
    book, order_of = shop.refunds, shop.refunds.order_of
    hidden = max(book.made_for)  # the last refund made
    config = config_for(tmp_path, url, per_page=PER_PAGE)
    with monkeypatch.context() as shop_hides:  # the listing finds its refunds through order_of
        shop_hides.setattr(book, "order_of", lambda rid: None if rid == hidden else order_of(rid))
        report = await _import(config)
    assert report.ok and report.new == ORDERS, report.error
    listed, one_by_one, missing = woo_refund_requests(shop)
    assert one_by_one == [made[-1]] and len(listed) == 1 and missing == 0
    remembered = {o: bytes(b) for o, _, b in _stored(config)[2]}
    assert sorted(remembered) == _wanted(shop)
    assert orjson.loads(remembered[made[-1]])[0]["id"] == hidden


async def test_pages_come_in_order_with_what_was_scanned_though_later_scans_end_first() -> None:
    """``with_batched`` works out several pages' wants at once (scans in worker threads): the pages still
    come in the listing's order, each as ``wanted`` handed it back, and each once its wants are fetched."""
    fetched: list[list[int]] = []

    async def listing() -> AsyncIterator[Page]:
        for n in range(1, 9):
            yield Page(b"[]", n, 1)

    async def wanted(page: Page) -> tuple[Page, list[int]]:
        await asyncio.sleep(0.01 * (9 - page.number))  # the later pages' scans end first
        scan = pa.table({"order_id": [page.number]})
        return dataclasses.replace(page, scan=scan), [page.number] if page.number % 3 == 0 else []

    async def fetch(items: list[int]) -> None:
        fetched.append(items)

    got = [p async for p in with_batched(listing(), wanted, fetch, ahead=4, batch=100)]
    assert [p.number for p in got] == list(range(1, 9))
    assert all(p.scan is not None and p.scan.column("order_id").to_pylist() == [p.number] for p in got)
    assert sorted(i for items in fetched for i in items) == [3, 6]
