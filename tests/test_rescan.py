"""The re-import's scan-first path (fastimport/rescan.py): same hashes as the whole parse, same counts."""

from __future__ import annotations

import random
import types
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pytest

from bench.core_micro import make_order
from fastimport.columns import HASH_COLUMN
from fastimport.core import load_core
from fastimport.importer import run_imports
from fastimport.io.refund_lines import lay_refunds, rehash
from fastimport.io.woocommerce import refunds as woocommerce_refunds
from fastimport.io.woocommerce.spec import WOOCOMMERCE_PAGE, line_refunds
from fastimport.rescan import Rescan
from fastimport.sim.platforms import platform_status
from fastimport.store import connect
from tests.conftest import PLATFORMS, ShopFactory, config_for
from tests.test_import import WEEK_END, WEEK_START, whole_window

CORES = [pytest.param("native", id="native"), pytest.param("python", id="python")]


@pytest.fixture(params=PLATFORMS)
def platform(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _page(seed: int) -> bytes:
    rng = random.Random(seed)
    return orjson.dumps([make_order(rng, 1000 + i) for i in range(40)])


@pytest.mark.parametrize("name", CORES)
def test_the_scan_reads_the_same_ids_dates_and_hashes_as_the_whole_parse(name: str) -> None:
    core = load_core(name)
    scan = Rescan(core, WOOCOMMERCE_PAGE, lambda t: t.column(HASH_COLUMN), "created_at", 0, 2**62)
    assert {f.name for f in scan.spec.order_fields} == {"order_id", "created_at", "modified_at"}
    assert scan.spec.line_fields == ()
    for seed in range(3):
        body = _page(seed)
        whole, scanned, refund_scan = (
            core.parse_page(body, WOOCOMMERCE_PAGE).orders,
            core.parse_page(body, scan.spec).orders,
            core.parse_page(body, woocommerce_refunds._ORDERS_SCAN).orders,  # a page settles on it too
        )
        for column in ("order_id", "created_at", "modified_at", HASH_COLUMN, "raw"):
            assert scanned.column(column).equals(whole.column(column)), column
            assert refund_scan.column(column).equals(whole.column(column)), column


def test_the_refund_scan_hands_over_the_columns_a_reimport_settles_on() -> None:
    orders = [make_order(random.Random(3), 1000 + i) for i in range(10)]
    orders[2]["refunds"] = [
        {"id": 71, "reason": "", "total": "-1.00"},
        {"id": 70, "reason": "", "total": "-2.00"},
    ]
    orders[5]["refunds"] = [{"id": 72, "reason": "", "total": "-3.00"}]
    orders[5]["status"] = "refunded"  # refunded in full: nothing to read
    body = orjson.dumps(orders)
    scanned = woocommerce_refunds.scan(body)
    assert [(w.order_id, w.refund_ids) for w, _ in scanned.wanted] == [(1002, (71, 70))]
    whole = load_core("native").parse_page(body, WOOCOMMERCE_PAGE).orders
    assert [listed for _, listed in scanned.wanted] == [whole.column(HASH_COLUMN)[2].as_py()]
    assert scanned.orders is not None
    rescan = Rescan(
        load_core("native"), WOOCOMMERCE_PAGE, lambda t: t.column(HASH_COLUMN), "modified_at", 0, 2**62
    )
    assert rescan.needs.issubset(scanned.orders.column_names)
    for column in rescan.needs:
        assert scanned.orders.column(column).equals(whole.column(column)), column
    # a page without refunds is not scanned (the re-import scans it itself), nor costs the regex
    plain = orjson.dumps(orders[:2])
    assert woocommerce_refunds.scan(plain) == woocommerce_refunds.Scanned(None, [])


def test_rehash_gives_the_hashes_lay_refunds_gives() -> None:
    parsed = load_core("native").parse_page(_page(7), WOOCOMMERCE_PAGE)
    ids = parsed.orders.column("order_id").to_pylist()
    assert rehash(parsed.orders, {}).equals(parsed.orders.column(HASH_COLUMN))
    assert rehash(parsed.orders, {1: b"[]"}).equals(parsed.orders.column(HASH_COLUMN))
    fetched = {ids[3]: b'[{"id": 5, "line_items": []}]', ids[10]: b'[{"id": 6, "amount": "2.00"}]'}
    laid, _ = lay_refunds(parsed.orders, parsed.lines, fetched, line_refunds)
    got = pa.chunked_array([rehash(parsed.orders, fetched)])
    assert got.equals(laid.column(HASH_COLUMN))
    assert got[3] != parsed.orders.column(HASH_COLUMN)[3] and got[4] == parsed.orders.column(HASH_COLUMN)[4]


class _Counting(types.ModuleType):
    """The real core, counting the whole parses (the page spec's) and the scans (any narrower spec)."""

    def __init__(self, core: types.ModuleType, spec: Any) -> None:
        super().__init__(core.__name__)
        self.core, self.spec, self.whole, self.scans = core, spec, 0, 0
        self.Dedup = core.Dedup

    def parse_page(self, body: bytes, spec: Any) -> Any:
        if spec is self.spec:
            self.whole += 1
        else:
            self.scans += 1
        return self.core.parse_page(body, spec)


async def test_a_reimport_scans_unchanged_pages_and_parses_the_changed_one(
    tmp_path: Path, shop_factory: ShopFactory, platform: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    shop, url = await shop_factory(orders=400, start=WEEK_START, end=WEEK_END)
    config = config_for(tmp_path, url, per_page=50)
    con = connect(config.target)
    try:
        from fastimport.io.registry import connector_for

        spec = connector_for(config.stores[0]).page_spec
        first = (await run_imports(con, [(config.stores[0], whole_window())]))[0]
        assert first.ok and first.new == 400
        stored = con.execute("SELECT order_id, content_hash FROM orders ORDER BY order_id").fetchall()
        target = next(o["id"] for o in shop.truth() if o["status"] == platform_status(platform, "processing"))
        shop.modify_order(target, status="cancelled")
        core = _Counting(load_core("native"), spec)
        monkeypatch.setattr(woocommerce_refunds, "core", core)  # its refund scan counts too
        again = (await run_imports(con, [(config.stores[0], whole_window())], core=core))[0]
        assert again.ok, again.error
        assert (again.new, again.updated, again.unchanged) == (0, 1, 399)
        after = dict(con.execute("SELECT order_id, content_hash FROM orders").fetchall())
        assert [oid for oid, h in stored if after[oid] != h] == [target]
    finally:
        con.close()
    if platform == "prestashop":  # its adjust moves dates: only the whole parse can tell
        assert core.scans == 0
    else:  # the changed page and the one after it are parsed whole; the others only scanned
        assert core.whole <= 3 and core.scans >= again.pages - 3, (core.whole, core.scans, again.pages)
        # A page is read once: the scan that looks for its refunds is the one it is settled on.
        assert core.whole + core.scans <= again.pages + 3, (core.whole, core.scans, again.pages)


@pytest.mark.parametrize("platform", ["woocommerce"])
async def test_pages_carry_their_scans_only_when_a_reimport_settles_on_them(
    tmp_path: Path, shop_factory: ShopFactory, platform: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A first import settles no page on a scan: its pages, held ahead while their refunds are gathered,
    # must not hold their scanned columns (the raw JSON a second time) for nothing.
    from fastimport.importer import _StoreImport

    _, url = await shop_factory(orders=400, start=WEEK_START, end=WEEK_END)
    config = config_for(tmp_path, url, per_page=50)
    carried: list[bool] = []
    feed = _StoreImport.feed

    def recording(self: _StoreImport, page: Any) -> bool:
        carried.append(page.scan is not None)
        return feed(self, page)

    monkeypatch.setattr(_StoreImport, "feed", recording)
    con = connect(config.target)
    try:
        first = (await run_imports(con, [(config.stores[0], whole_window())]))[0]
        assert first.ok and first.new == 400
        assert carried and not any(carried)
        carried.clear()
        again = (await run_imports(con, [(config.stores[0], whole_window())]))[0]
        assert again.ok and again.unchanged == 400
        assert any(carried)  # the pages listing refunds were scanned for them: the re-import settles on that
    finally:
        con.close()
