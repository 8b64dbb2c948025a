"""A first WooCommerce import walks each page once: ``refunds.parse_whole`` parses it with the import's core and
names the orders whose refunds are to be read, where a re-import scans the page (``refunds.scan``) and the parse
thread parses it.  Both must give the same columns and the same orders, with either core, on any page."""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import orjson
import pytest

from fastimport import _core_py, core
from fastimport.io.woocommerce import connector as woocommerce_connector
from fastimport.io.woocommerce.refunds import Wanted, parse_whole, scan
from fastimport.io.woocommerce.spec import WOOCOMMERCE_PAGE
from fastimport.sim import SimOptions, SimShop
from tests.conftest import ShopFactory, config_for
from tests.test_import import WEEK_END, WEEK_START
from tests.test_import_refunds import _import, woo_refund_requests
from tests.test_refunds_listing import _make_refunds

CORES = [pytest.param(core, id="native"), pytest.param(_core_py, id="python")]


def _orders(n: int = 30) -> list[dict[str, Any]]:
    shop = SimShop(SimOptions(orders=n))
    return [copy.deepcopy(shop.store.order(i)) for i in range(n)]


def _refunds(*ids: Any) -> list[dict[str, Any]]:
    return [{"id": rid, "reason": "", "total": "-1.00"} for rid in ids]


def _page(orders: list[dict[str, Any]]) -> bytes:
    return orjson.dumps(orders)


def _varied() -> list[dict[str, Any]]:
    """Orders listing no refund, one, several (newest first), more than parse_whole reads, one refunded in
    full, and a refund without an id."""
    orders = _orders()
    orders[1]["refunds"] = _refunds(71)
    orders[2]["refunds"] = _refunds(83, 82, 81)
    orders[3]["refunds"] = _refunds(94, 93, 92, 91)
    orders[4]["status"], orders[4]["refunds"] = "refunded", _refunds(100)
    orders[5]["refunds"] = [{"reason": "no id"}, *_refunds(111)]
    return orders


def _same(core_module: ModuleType, page: bytes) -> None:
    whole = parse_whole(page, core_module)
    assert whole.wanted == scan(page).wanted
    plain = core_module.parse_page(page, WOOCOMMERCE_PAGE)
    assert whole.parsed is not None
    assert whole.parsed.orders.equals(plain.orders)
    assert whole.parsed.lines.equals(plain.lines)


@pytest.mark.parametrize("core_module", CORES)
def test_a_page_parsed_whole_is_the_parse_and_the_scan(core_module: ModuleType) -> None:
    page = _page(_varied())
    _same(core_module, page)
    assert [w.order_id for w, _ in parse_whole(page, core_module).wanted] == [
        int(o["id"]) for o in _varied()[1:4]
    ] + [int(_varied()[5]["id"])]
    assert [w.refund_ids for w, _ in parse_whole(page, core_module).wanted] == [
        (71,),
        (83, 82, 81),
        (94, 93, 92, 91),
        (111,),
    ]


@pytest.mark.parametrize("core_module", CORES)
def test_an_order_listing_more_refunds_than_read_has_its_page_scanned(core_module: ModuleType) -> None:
    orders = _orders()
    orders[7]["refunds"] = _refunds(*range(209, 200, -1))  # nine, newest first
    page = _page(orders)
    _same(core_module, page)
    assert [w.refund_ids for w, _ in parse_whole(page, core_module).wanted] == [tuple(range(209, 200, -1))]


@pytest.mark.parametrize("core_module", CORES)
def test_a_page_the_core_cannot_read_is_left_to_the_import(core_module: ModuleType) -> None:
    """A refund id that is no number: not parsed here (the import reads the page and sets aside what it
    must), and the orders to read are found as a re-import finds them."""
    orders = _varied()
    orders[6]["refunds"] = _refunds("not a number")
    page = _page(orders)
    whole = parse_whole(page, core_module)
    assert whole.parsed is None
    assert whole.wanted == scan(page).wanted
    assert int(orders[1]["id"]) in [w.order_id for w, _ in whole.wanted]
    assert (Wanted(int(orders[6]["id"]), ()), None) in whole.wanted  # asked alone: /orders/<id>/refunds


def test_a_page_that_is_no_json_names_no_order() -> None:
    assert scan(b'[{"id": 1, "refunds": [{"id": 2}],}]').wanted == []


@pytest.fixture
def platform() -> str:
    return "woocommerce"


async def test_a_first_import_parses_each_page_once_and_a_reimport_scans_them(
    tmp_path: Path, shop_factory: ShopFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Over loopback: the first import parses every page whole in the connector (no scan), the re-import
    scans them (and settles the unchanged ones on the scan)."""
    shop, url = await shop_factory(orders=500, start=WEEK_START, end=WEEK_END)
    _make_refunds(shop)
    calls: Counter[str] = Counter()

    def counted(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any) -> Any:
            calls[name] += 1
            return function(*args)

        return call

    monkeypatch.setattr(woocommerce_connector, "parse_whole", counted("whole", parse_whole))
    monkeypatch.setattr(woocommerce_connector, "scan", counted("scan", scan))
    config = config_for(tmp_path, url, per_page=50)
    report = await _import(config)
    assert report.ok and report.new == 500, report.error
    assert calls == Counter(whole=report.pages) and report.pages == 10
    assert woo_refund_requests(shop)[0]  # the refunds were read (by id)

    calls.clear()
    report = await _import(config)
    assert report.ok and (report.new, report.unchanged) == (0, 500), report.error
    assert calls == Counter(scan=report.pages)
