"""Processing on Shopify and PrestaShop shops: invoices, then tracking and stock written back their way."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import orjson
import pytest

from fastimport.processing import credit, invoicing, lifecycle, shipping, stock
from fastimport.processing.push import push_stock
from fastimport.processing.settings import load_settings
from fastimport.store import connect
from tests.conftest import ShopFactory
from tests.test_processing_support import SIGNING_ENV, SIGNING_KEY, W0, W1, import_shop, processing_config


@pytest.fixture(params=["shopify", "prestashop"])
def platform(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(autouse=True)
def _signing_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SIGNING_ENV, SIGNING_KEY)


def _writes(shop: Any, fragment: str) -> list[tuple[str, str, Any]]:
    return [w for w in shop.received if fragment in w[1]]


async def test_ship_and_stock_push_reach_the_shop(
    tmp_path: Path, shop_factory: ShopFactory, platform: str
) -> None:
    shop, url = await shop_factory(orders=120, start=W0, end=W1)
    config = processing_config(tmp_path, url)
    await import_shop(config)
    settings = load_settings(config)
    con = connect(config.target)
    report = invoicing.invoice_orders(con, settings, invoicing.pending_keys(con, config))
    assert report.issued, report.refused
    first = report.issued[0]
    # The buyer's address comes from the platform's own payload (Shopify: billing_address;
    # PrestaShop keeps it behind an address id, so the stored name and e-mail are what it has).
    buyers = [orjson.loads(r[0]) for r in con.execute("SELECT buyer FROM invoices").fetchall()]
    if platform == "shopify":
        assert all(b["city"] and b["postcode"] and b["address"] for b in buyers)
    assert all(b["name"] for b in buyers)
    order = lifecycle.find_order(con, str(first.order_id), None)
    shop.received.clear()
    result = await asyncio.to_thread(
        shipping.ship, con, config, settings, order, "Colissimo", "6A12345678901", "test"
    )
    assert result.pushed, result.push_error
    tracking = _writes(shop, "fulfillments" if platform == "shopify" else "order_carriers")
    assert tracking and "6A12345678901" in str(tracking[-1][2])

    # A credit note brings articles back: their new available figure reaches the shop, by SKU.
    credit.credit_note(con, settings, first.number, "returned")
    changed = stock.levels(con).filter("changed")
    assert changed.height > 0
    shop.received.clear()
    pushed = await asyncio.to_thread(push_stock, con, config)
    assert pushed["accepted"] == changed.height and not pushed["refused"]
    stock_writes = _writes(shop, "inventory_levels/set" if platform == "shopify" else "stock_availables")
    assert len(stock_writes) == changed.height
    sent = {str(w[2]) for w in stock_writes}
    for row in changed.iter_rows(named=True):
        assert any(str(row["available"]) in body for body in sent)
    assert stock.levels(con).filter("changed").height == 0
    con.close()
