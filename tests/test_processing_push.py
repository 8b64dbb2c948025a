"""Push-back against the simulated shop over loopback: stock levels, shipment status and tracking."""

from __future__ import annotations

from pathlib import Path

import pytest

from fastimport.io.pushback import StockLevel
from fastimport.io.woocommerce.push import batches
from fastimport.processing import credit, invoicing, lifecycle, shipping, stock
from fastimport.processing.push import push_stock
from fastimport.processing.settings import load_settings
from fastimport.store import connect
from tests.conftest import ShopFactory
from tests.test_processing_support import SIGNING_ENV, SIGNING_KEY, W0, W1, import_shop, processing_config


@pytest.fixture(autouse=True)
def _signing_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SIGNING_ENV, SIGNING_KEY)


def test_batches_hold_at_most_100_and_variations_go_to_their_parent() -> None:
    updates = [StockLevel(i, 0, None, 1) for i in range(1, 251)] + [
        StockLevel(900, 900 + i, None, 2) for i in range(1, 131)
    ]
    plan = batches(updates)
    assert [len(items) for _, items in plan] == [100, 100, 50, 100, 30]
    assert {path for path, _ in plan[3:]} == {"/products/900/variations/batch"}


async def test_stock_push_sends_only_changed_levels_and_the_shop_matches(
    tmp_path: Path, shop_factory: ShopFactory
) -> None:
    shop, url = await shop_factory(orders=300, start=W0, end=W1)
    config = processing_config(tmp_path, url)
    await import_shop(config)
    settings = load_settings(config)
    con = connect(config.target)
    report = invoicing.invoice_orders(con, settings, invoicing.pending_keys(con, config))
    # The shop had counted these sales already: invoicing them changes nothing to push.
    assert stock.levels(con).filter("changed").height == 0
    # A credit note puts articles back on the shelves, a breakage takes one off: those must reach the shop.
    credit.credit_note(con, settings, report.issued[0].number, "returned")
    broken = stock.levels(con).filter("tracked").row(0, named=True)
    stock.adjust(
        con,
        broken["store_id"],
        broken["product_id"],
        broken["variation_id"],
        broken["sku"],
        -1,
        "test",
        "broken",
    )
    changed = stock.levels(con).filter("changed")
    assert changed.height > 0
    shop.received.clear()
    result = await _in_thread(push_stock, con, config)
    assert result["changed"] == changed.height == result["accepted"] and not result["refused"]
    sent = [
        item for method, path, body in shop.received if path.endswith("/batch") for item in body["update"]
    ]
    assert all(len(body["update"]) <= 100 for _, path, body in shop.received)
    assert len(sent) == changed.height  # only the changed articles
    # The shop now shows exactly what the till says is available, for every tracked article.
    local = {(r["product_id"], r["variation_id"]): r["available"] for r in stock.levels(con).filter("tracked").iter_rows(named=True)}  # fmt: skip
    remote = {}
    for p in shop.catalog.products.values():
        remote[(p.id, 0)] = p.stock
        for v in p.variations:
            remote[(p.id, v.id)] = v.stock
    assert all(remote[k] == level for k, level in local.items() if k in remote)
    assert stock.levels(con).filter("changed").height == 0
    shop.received.clear()
    again = await _in_thread(push_stock, con, config)
    assert again["changed"] == 0 and shop.received == []
    con.close()


async def test_ship_pushes_tracking_note_and_completed_status(
    tmp_path: Path, shop_factory: ShopFactory
) -> None:
    shop, url = await shop_factory(orders=40, start=W0, end=W1)
    config = processing_config(tmp_path, url)
    await import_shop(config, catalog=False)
    settings = load_settings(config)
    con = connect(config.target)
    keys = invoicing.pending_keys(con, config)
    issued = invoicing.invoice_orders(con, settings, keys[:2]).issued
    order = lifecycle.find_order(con, str(issued[0].order_id))
    shop.received.clear()
    result = await _in_thread(shipping.ship, con, config, settings, order, "Colissimo", "6A12345678901")
    assert result.pushed and result.number.startswith("BL-2026-000001")
    writes = {(m, p.rsplit("/", 2)[-1] if p.endswith("notes") else "order"): b for m, p, b in shop.received}
    assert writes[("PUT", "order")] == {"status": "completed"}
    assert "6A12345678901" in writes[("POST", "notes")]["note"]
    assert next(o for o in shop.truth() if o["id"] == order.order_id)["status"] == "completed"
    assert con.execute("SELECT state FROM orders WHERE order_id = ?", [order.order_id]).fetchall() == [
        ("shipped",)
    ]
    with pytest.raises(Exception, match="already shipped"):
        shipping.ship(
            con, config, settings, lifecycle.find_order(con, str(order.order_id)), "x", None, push=False
        )
    pending = lifecycle.find_order(con, str(keys[-1][1]))
    with pytest.raises(Exception, match="invoice it before shipping"):
        shipping.ship(con, config, settings, pending, "x", None, push=False)
    con.close()


async def _in_thread(fn, *args):  # type: ignore[no-untyped-def]
    """The push runs its own event loop (asyncio.run): keep it off the test's loop, which serves the shop."""
    import asyncio

    return await asyncio.to_thread(fn, *args)
