"""A shop that fails: retried with backoff, or a clear stop that keeps what was stored."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from fastimport import ranges
from fastimport.importer import run_imports
from fastimport.sim.platforms import platform_status
from fastimport.store import connect
from tests.conftest import PLATFORMS, SECRET_OF, ShopFactory, config_for
from tests.test_import import WEEK_END, WEEK_START, stored_ids, truth_ids, whole_window


@pytest.fixture(params=PLATFORMS)
def platform(request: pytest.FixtureRequest) -> str:
    """Every test here runs against a WooCommerce, a Shopify and a PrestaShop simulated shop."""
    return str(request.param)


@pytest.mark.parametrize(
    "faults",
    [
        "500:2",
        "429@0.2:2",
        "503html:1",
        "truncated:1",
        "captcha:1",
        "stall:1",
        "500:1,429@0.1:1,truncated:1,captcha:1",
    ],
)
async def test_transient_faults_are_retried(tmp_path: Path, shop_factory: ShopFactory, faults: str) -> None:
    shop, url = await shop_factory(orders=150, start=WEEK_START, end=WEEK_END, faults=faults)
    config = config_for(tmp_path, url, per_page=25, timeout=1, retries=5)
    con = connect(config.target)
    report = (await run_imports(con, [(config.stores[0], whole_window())]))[0]
    con.close()
    assert report.ok, report.error
    assert report.retries >= len(faults.split(","))
    assert stored_ids(config) == sorted(truth_ids(shop, WEEK_START, WEEK_END))


async def test_retry_after_is_honoured(tmp_path: Path, shop_factory: ShopFactory) -> None:
    _shop, url = await shop_factory(orders=20, start=WEEK_START, end=WEEK_END, faults="429@0.6:1")
    config = config_for(tmp_path, url, retries=2)
    con = connect(config.target)
    started = dt.datetime.now()
    report = (await run_imports(con, [(config.stores[0], whole_window())]))[0]
    con.close()
    assert report.ok
    assert (dt.datetime.now() - started).total_seconds() >= 0.6


async def test_a_shop_that_keeps_failing_stops_with_a_clear_message_and_keeps_stored_batches(
    tmp_path: Path, shop_factory: ShopFactory
) -> None:
    shop, url = await shop_factory(orders=400, start=WEEK_START, end=WEEK_END)
    config = config_for(tmp_path, url, per_page=20, concurrency=1, retries=2)

    def break_the_shop_after_some_pages(store: str, pages: int, orders: int) -> None:
        if pages == 6:
            shop.set_faults("always:500")

    con = connect(config.target)
    report = (
        await run_imports(
            con,
            [(config.stores[0], whole_window())],
            batch_orders=40,
            progress=break_the_shop_after_some_pages,
        )
    )[0]
    assert not report.ok
    assert report.error is not None and "kept failing" in report.error and "HTTP 500" in report.error
    kept = [r[0] for r in con.execute("SELECT order_id FROM orders").fetchall()]
    run = con.execute("SELECT status, error FROM import_runs WHERE run_id = ?", [report.run_id]).fetchone()
    con.close()
    assert len(kept) >= 100 and len(kept) < 400
    assert len(kept) == len(set(kept))
    assert run is not None and run[0] == "failed" and "HTTP 500" in run[1]
    # Once the shop recovers, the same import completes the range without doubling anything.
    shop.set_faults("")
    config_ok = config_for(tmp_path, url, per_page=20)
    con = connect(config_ok.target)
    again = (await run_imports(con, [(config_ok.stores[0], whole_window())]))[0]
    con.close()
    assert again.ok and again.new == 400 - len(kept)
    assert stored_ids(config_ok) == sorted(truth_ids(shop, WEEK_START, WEEK_END))


async def test_wrong_credentials_name_the_store_and_write_no_order(
    tmp_path: Path, shop_factory: ShopFactory, monkeypatch: pytest.MonkeyPatch, platform: str
) -> None:
    _shop, url = await shop_factory(orders=30, start=WEEK_START, end=WEEK_END)
    monkeypatch.setenv(SECRET_OF[platform][1], "wrong")
    config = config_for(tmp_path, url)
    con = connect(config.target)
    report = (await run_imports(con, [(config.stores[0], whole_window())]))[0]
    count = con.execute("SELECT count(*) FROM orders").fetchone()
    con.close()
    assert not report.ok
    assert (
        report.error is not None
        and "store 'eshop'" in report.error
        and {"woocommerce": "refused the API key", "shopify": "refused the access token"}.get(
            platform, "refused the webservice key"
        )
        in report.error
    )
    assert count == (0,)


async def test_incremental_picks_up_a_cancellation_made_after_import(
    tmp_path: Path, shop_factory: ShopFactory, platform: str
) -> None:
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    shop, url = await shop_factory(orders=100, start=now - dt.timedelta(days=3), end=now)
    config = config_for(tmp_path, url)
    con = connect(config.target)
    store = config.stores[0]
    first = ranges.explicit((now - dt.timedelta(days=4)).date().isoformat(), None, store.zone)
    assert (await run_imports(con, [(store, first)]))[0].ok
    target = next(o["id"] for o in shop.truth() if o["status"] == platform_status(platform, "processing"))
    shop.modify_order(target, status="refunded")
    from fastimport.store import imports

    mark = imports.watermark(con, 1)
    rng = ranges.incremental(mark, dt.timedelta(minutes=10), store.zone)
    report = (await run_imports(con, [(store, rng)]))[0]
    status = con.execute("SELECT shop_status FROM orders WHERE order_id = ?", [target]).fetchone()
    con.close()
    assert report.ok and report.mode == "incremental"
    assert report.updated == 1
    assert status == (platform_status(platform, "refunded"),)
