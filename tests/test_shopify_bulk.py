"""Shopify bulk: the JSONL file is streamed into pages, exact, flat in memory, and clear when damaged."""

from __future__ import annotations

import tracemalloc
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest
from aiohttp import web
from hypothesis import given, settings
from hypothesis import strategies as st

from fastimport.columns import HASH_COLUMN
from fastimport.errors import FetchError, ParseError
from fastimport.io.fetcher import Fetcher, Request
from fastimport.io.registry import connector_for
from fastimport.io.shopify import bulk as shopify_bulk
from fastimport.io.shopify.bulk import BulkReader, JsonlLines, bulk_query
from fastimport.sim import SimOptions, SimShop
from fastimport.sim.shopify_bulk import bulk_file
from fastimport.store import connect
from tests.conftest import ShopFactory, config_for
from tests.test_import import WEEK_END, WEEK_START, run_import, whole_window
from tests.test_platforms import LINE_COLUMNS, ORDER_COLUMNS


@pytest.fixture(autouse=True)
def _quick_polls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shopify_bulk, "POLL_SECONDS", 0.05)


def grouped_file(orders: int, seed: int = 42) -> tuple[bytes, int]:
    """The simulated shop's grouped bulk file of ``orders`` orders, and its object count."""
    shop = SimShop(SimOptions(platform="shopify", orders=orders, seed=seed, start=WEEK_START, end=WEEK_END))
    return bulk_file(shop.store, list(range(orders)), None)


def read(data: bytes, sizes: list[int], per_page: int = 7, expected: int | None = None) -> list[bytes]:
    """Feed ``data`` to a reader in chunks of ``sizes`` (cycled) and return every page."""
    reader = BulkReader(per_page, expected)
    pages: list[bytes] = []
    at, k = 0, 0
    while at < len(data):
        size = sizes[k % len(sizes)]
        pages += reader.feed(data[at : at + size])
        at, k = at + size, k + 1
    return pages + reader.close()


def stored(target: Path | str, extra: str = "") -> tuple[list[Any], list[Any]]:
    con = connect(target)
    try:
        orders = con.execute(f"SELECT {ORDER_COLUMNS}{extra} FROM orders ORDER BY order_id").fetchall()
        lines = con.execute(f"SELECT {LINE_COLUMNS} FROM order_lines ORDER BY order_id, line_no").fetchall()
    finally:
        con.close()
    return orders, lines


# -- (a) exact --------------------------------------------------------------------------------------


async def test_a_streamed_bulk_import_equals_a_rest_import(tmp_path: Path, shop_factory: ShopFactory) -> None:
    shop, url = await shop_factory(platform="shopify", orders=700, start=WEEK_START, end=WEEK_END)
    (tmp_path / "rest").mkdir()
    (tmp_path / "bulk").mkdir()
    rest = config_for(tmp_path / "rest", url, mode="rest", per_page=50)
    bulk = config_for(tmp_path / "bulk", url, mode="bulk", per_page=50)
    assert (await run_import(rest, whole_window())).ok
    report = await run_import(bulk, whole_window())
    assert report.ok, report.error
    assert report.new == 700
    rest_rows, bulk_rows = stored(rest.target), stored(bulk.target)
    assert len(rest_rows[0]) == 700 and len(rest_rows[1]) > 700
    assert bulk_rows == rest_rows  # same orders and lines
    # The raw column (and its hash) holds the REST-shaped rebuild, so hashes are compared bulk to
    # bulk: a second streamed import finds every order unchanged, and the hashes did not move.
    hashes = stored(bulk.target, f", {HASH_COLUMN}")[0]
    again = await run_import(bulk, whole_window())
    assert again.ok and (again.new, again.updated, again.unchanged) == (0, 0, 700)
    assert stored(bulk.target, f", {HASH_COLUMN}")[0] == hashes
    assert shop.platform is not None
    jobs = list(shop.platform.bulk.jobs.values())
    assert len(jobs) == 2 and all(job["_grouped"] is True for job in jobs)  # asked for the grouped layout
    assert shop.platform.bulk.downloads == {"1": 1, "2": 1}


async def test_the_first_page_leaves_before_the_file_is_downloaded(
    tmp_path: Path, shop_factory: ShopFactory
) -> None:
    shop, url = await shop_factory(platform="shopify", orders=1500, start=WEEK_START, end=WEEK_END)
    config = config_for(tmp_path, url, mode="bulk", per_page=50)
    connector = connector_for(config.stores[0])
    async with aiohttp.ClientSession() as session:
        fetcher = Fetcher(session, shop="the test shop")
        pages = shopify_bulk.bulk_pages(connector, fetcher, whole_window())  # type: ignore[arg-type]
        first = await anext(pages)
        downloaded = fetcher.stats.bytes
        rest = [page async for page in pages]
    assert shop.platform is not None
    size = len(shop.platform.bulk.files["1"])
    assert len(orjson.loads(first.body)["orders"]) == 50
    assert downloaded < size / 4  # the old reader had the whole file before its first page
    assert sum(len(orjson.loads(p.body)["orders"]) for p in rest) == 1450
    assert fetcher.stats.bytes >= size


# -- (b) chunk boundaries ---------------------------------------------------------------------------

_FILE, _COUNT = grouped_file(40)
_PAGES = read(_FILE, [len(_FILE)], expected=_COUNT)


def test_the_reference_pages_hold_every_order_once_with_its_lines() -> None:
    orders = [o for page in _PAGES for o in orjson.loads(page)["orders"]]
    assert len(orders) == 40 and len({o["id"] for o in orders}) == 40
    assert [len(orjson.loads(p)["orders"]) for p in _PAGES] == [7] * 5 + [5]
    lines = sum(len(o["line_items"]) for o in orders)
    assert lines == _COUNT - 40 and lines > 40


@pytest.mark.parametrize("size", range(1, 8))
def test_tiny_chunks_give_the_same_pages(size: int) -> None:
    assert read(_FILE, [size], expected=_COUNT) == _PAGES


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=4000), min_size=1, max_size=40))
def test_chunks_of_any_sizes_give_the_same_pages(sizes: list[int]) -> None:
    assert read(_FILE, sizes, expected=_COUNT) == _PAGES


@given(st.lists(st.binary(max_size=12).filter(lambda b: b"\n" not in b), max_size=8), st.data())
def test_the_line_splitter_rejoins_lines_cut_anywhere(lines: list[bytes], data: st.DataObject) -> None:
    text = b"\n".join(lines)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(text)), max_size=6)))
    splitter, out = JsonlLines(), []
    for lo, hi in zip([0, *cuts], [*cuts, len(text)], strict=True):
        out += splitter.feed(text[lo:hi])
    assert [*out, splitter.close()] == (lines or [b""])


# -- (c) memory flat in N ---------------------------------------------------------------------------


def peak_reading(data: bytes, chunk: int = 1 << 16) -> tuple[int, int]:
    """Traced peak bytes while a reader turns ``data`` into pages (the file itself is not traced)."""
    view = memoryview(data)
    orders = 0
    tracemalloc.start()
    try:
        reader = BulkReader(250)
        for at in range(0, len(data), chunk):
            for page in reader.feed(bytes(view[at : at + chunk])):
                orders += page.count(b'"line_items"')
        for page in reader.close():
            orders += page.count(b'"line_items"')
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return peak, orders


def test_the_reader_s_memory_does_not_grow_with_the_number_of_orders() -> None:
    small, _ = grouped_file(1_000)
    large, _ = grouped_file(4_000, seed=7)
    peak_small, n_small = peak_reading(small)
    peak_large, n_large = peak_reading(large)
    assert (n_small, n_large) == (1_000, 4_000)
    assert peak_large < 2 * peak_small, (peak_small, peak_large)
    # One page of 250 orders (about 2.6 MB traced), not the file: reading it whole held more than it.
    assert peak_large < len(large) / 2, (peak_large, len(large))


# -- (d) damaged files ------------------------------------------------------------------------------


def test_a_line_cut_in_the_middle_is_a_damaged_line() -> None:
    cut = _FILE[: _FILE.index(b"\n", len(_FILE) // 2) + 30]
    with pytest.raises(ParseError, match=r"damaged line \d+ .*cut short or garbled"):
        read(cut, [1000])


def test_a_garbled_line_names_its_number() -> None:
    lines = _FILE.split(b"\n")
    lines[5] = lines[5][:-1]  # the closing brace lost
    with pytest.raises(ParseError, match="damaged line 6 ") as err:
        read(b"\n".join(lines), [333])
    assert err.value.path == "line 6"  # type: ignore[attr-defined]


def test_a_file_cut_between_lines_is_caught_by_the_object_count() -> None:
    cut = _FILE[: _FILE.index(b"\n", len(_FILE) // 2) + 1]
    with pytest.raises(FetchError, match=r"ended after \d+ of its \d+ objects .*run the import again"):
        read(cut, [500], expected=_COUNT)


def test_a_line_item_away_from_its_order_stops_the_import() -> None:
    lines = _FILE.splitlines()
    child = next(k for k, line in enumerate(lines) if b"__parentId" in line)
    lines.insert(0, lines.pop(child))  # a line item before any order, as an ungrouped file has it
    with pytest.raises(FetchError, match=r'not grouped.*mode = "rest"'):
        read(b"\n".join(lines), [4096])


async def test_a_bulk_file_damaged_at_the_source_stores_no_half_order(
    tmp_path: Path, shop_factory: ShopFactory
) -> None:
    _, url = await shop_factory(platform="shopify", orders=300, start=WEEK_START, end=WEEK_END)
    (tmp_path / "rest").mkdir()
    rest = config_for(tmp_path / "rest", url, mode="rest")
    assert (await run_import(rest, whole_window())).ok
    whole, _ = grouped_file(300)
    boundary = whole.index(b"\n", len(whole) // 2) + 1
    cuts = {boundary: "ended after", boundary - 25: "damaged line"}  # between two lines; inside one
    for cut, words in cuts.items():
        shop, url = await shop_factory(
            platform="shopify", orders=300, start=WEEK_START, end=WEEK_END, shopify_bulk_cut_at=cut
        )
        (tmp_path / str(cut)).mkdir()
        bulk = config_for(tmp_path / str(cut), url, mode="bulk", per_page=20)
        report = await run_import(bulk, whole_window())
        assert shop.platform is not None and shop.platform.bulk.files["1"] == whole[:cut]
        assert not report.ok and report.error is not None
        assert words in report.error and "run the import again" in report.error
        orders, lines = stored(bulk.target)
        truth_orders, truth_lines = stored(rest.target)
        kept = {o[0] for o in orders}
        assert set(orders) <= set(truth_orders)  # whatever was stored is whole and exact
        assert lines == [li for li in truth_lines if li[0] in kept]


async def test_a_download_broken_off_resumes_where_it_stopped(
    tmp_path: Path, shop_factory: ShopFactory
) -> None:
    shop, url = await shop_factory(
        platform="shopify", orders=500, start=WEEK_START, end=WEEK_END, shopify_bulk_drop_after=100_000
    )
    (tmp_path / "rest").mkdir()
    (tmp_path / "bulk").mkdir()
    rest = config_for(tmp_path / "rest", url, mode="rest")
    bulk = config_for(tmp_path / "bulk", url, mode="bulk", per_page=50)
    assert (await run_import(rest, whole_window())).ok
    report = await run_import(bulk, whole_window())
    assert report.ok, report.error
    assert report.retries >= 1 and report.new == 500
    assert shop.platform is not None and shop.platform.bulk.downloads["1"] == 2  # one resume, with Range
    assert stored(bulk.target) == stored(rest.target)


async def test_a_server_ignoring_range_is_resumed_by_skipping_what_was_read() -> None:
    data = bytes(range(256)) * 2000
    served: list[str | None] = []

    async def handler(request: web.Request) -> web.StreamResponse:
        served.append(request.headers.get("Range"))
        response = web.StreamResponse()
        response.content_length = len(data)
        await response.prepare(request)
        if len(served) == 1:
            await response.write(data[:70_001])
            assert request.transport is not None
            request.transport.close()
            return response
        await response.write(data)  # the whole file again, as if Range were unknown
        await response.write_eof()
        return response

    app = web.Application()
    app.router.add_get("/file", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        async with aiohttp.ClientSession() as session:
            fetcher = Fetcher(session, backoff_base=0.01)
            chunks = [c async for c in fetcher.stream(Request("GET", f"http://127.0.0.1:{port}/file"))]
    finally:
        await runner.cleanup()
    assert b"".join(chunks) == data
    assert served[0] is None and served[1] is not None and served[1].startswith("bytes=")
    assert fetcher.stats.retries == 1


def test_the_job_asks_for_grouped_output_where_the_version_knows_the_argument() -> None:
    assert "groupObjects: true" in bulk_query(whole_window(), "2025-07")
    assert "groupObjects: true" in bulk_query(whole_window(), "2026-01")
    assert "groupObjects: true" in bulk_query(whole_window(), "unstable")
    assert "groupObjects" not in bulk_query(whole_window(), "2025-01")  # grouped anyway, argument unknown
