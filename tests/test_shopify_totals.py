"""Shopify orders invoice at the shop's total: lines (items, shipping, fees) add up to ``total_price``."""

from __future__ import annotations

from pathlib import Path

import pytest

from fastimport.processing import invoicing
from fastimport.processing.settings import load_settings
from fastimport.store import connect
from tests.conftest import ShopFactory
from tests.test_processing_support import SIGNING_ENV, SIGNING_KEY, W0, W1, import_shop, processing_config


@pytest.fixture
def platform() -> str:
    return "shopify"


@pytest.fixture(autouse=True)
def _signing_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SIGNING_ENV, SIGNING_KEY)


@pytest.mark.parametrize(("seed", "included"), [(1, True), (7, True), (42, False), (1004, False)])
async def test_every_shopify_order_invoices_at_its_total(
    tmp_path: Path, shop_factory: ShopFactory, seed: int, included: bool
) -> None:
    _, url = await shop_factory(orders=150, start=W0, end=W1, seed=seed, shopify_taxes_included=included)
    config = processing_config(tmp_path, url)
    await import_shop(config)
    con = connect(config.target)
    report = invoicing.invoice_orders(
        con, load_settings(config), invoicing.pending_keys(con, config), allow_unpaid=True
    )
    assert report.issued and not report.refused, report.refused[:5]
    assert all(abs(float(i.adjustment)) <= 0.02 for i in report.issued), report.issued
    # The shop's shapes were all there: shipping with its VAT, coupons, several VAT rates.
    shipped, discounted = con.execute(
        "SELECT count(*) FILTER (WHERE l.line_kind = 'shipping' AND l.vat > 0), "
        "count(DISTINCT o.order_id) FILTER (WHERE o.discount_total > 0) "
        "FROM invoice_lines l JOIN invoices i USING (invoice_id) JOIN orders o ON o.order_id = i.order_id"
    ).fetchone() or (0, 0)
    assert shipped and discounted
    con.close()
