"""Other currencies, stock counts and returning guests (issue #14 points 3, 4, 5), on the real path."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from fastimport.print.reprint import clear_hooks
from tests.conftest import ShopFactory
from tests.invoice_print_support import make_till, network, run, run_json, texts
from tests.printer_fixture import LoopbackPrinter, loopback_printer
from tests.test_processing_support import SIGNING_ENV, SIGNING_KEY, W0, import_shop

__all__ = ["loopback_printer"]


@pytest.fixture(autouse=True)
def _signing_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SIGNING_ENV, SIGNING_KEY)
    clear_hooks()


async def test_chf_and_gbp_orders_from_import_to_ticket_and_payments(
    tmp_path: Path, shop_factory: ShopFactory, loopback_printer: LoopbackPrinter
) -> None:
    till = await make_till(tmp_path, shop_factory, 10, network(loopback_printer.port))
    chf = till.shop.create_order(W0 + dt.timedelta(days=2), currency="CHF", currency_symbol="CHF")
    gbp = till.shop.create_order(W0 + dt.timedelta(days=2, hours=1), currency="GBP", currency_symbol="£")
    await import_shop(till.config)
    assert dict(till.query("SELECT order_id, currency FROM orders WHERE order_id IN (?, ?)", [chf, gbp])) == {
        chf: "CHF",
        gbp: "GBP",
    }
    code, report = await run_json(till, "invoice", str(chf), str(gbp), "--print", "--allow-unpaid")
    assert code == 0 and len(report["invoices"]) == 2, report
    chf_ticket, gbp_ticket = texts(loopback_printer)
    total = dict(till.query("SELECT order_id, total_ttc FROM invoices WHERE order_id IN (?, ?)", [chf, gbp]))
    chf_total = next(line for line in chf_ticket.splitlines() if line.startswith("TOTAL TTC"))
    gbp_total = next(line for line in gbp_ticket.splitlines() if line.startswith("TOTAL TTC"))
    assert chf_total.endswith(f"{total[chf]:.2f} CHF".replace(".", ",")) and "€" not in chf_total
    assert gbp_total.endswith(f"{total[gbp]:.2f} £".replace(".", ",")) and "€" not in gbp_total
    assert any(line.startswith("Devise") and line.endswith("GBP (£)") for line in gbp_ticket.splitlines())
    assert any(line.startswith("Devise") and line.endswith("CHF") for line in chf_ticket.splitlines())
    code, rows = await run_json(till, "payments")
    by_id = {r["order"]: r for r in rows}
    assert by_id[chf]["currency"] == "CHF" and by_id[gbp]["currency"] == "GBP"
    code, out, _ = await run(till, "payments")
    sums = {line.split(":")[0].strip(): line for line in out.splitlines() if line.startswith("  ")}
    assert set(sums) >= {"CHF", "GBP", "EUR"}  # one total per currency, never mixed
    eur = sum(Decimal(r["total"]) for r in rows if r["currency"] == "EUR")
    assert f"total {eur:.2f}," in sums["EUR"]
    assert f"total {Decimal(by_id[chf]['total']):.2f}," in sums["CHF"]


async def test_stock_adjust_counts_breaks_and_finds_journaled(
    tmp_path: Path, shop_factory: ShopFactory
) -> None:
    till = await make_till(tmp_path, shop_factory, 60)
    code, rows = await run_json(till, "stock")
    item = next(r for r in rows if r["sku"] and r["level"] > 3)
    sku, level = item["sku"], item["level"]
    code, done = await run_json(till, "stock", "adjust", sku, "-1", "--reason", "casse")
    assert code == 0 and done["before"] == level and done["after"] == level - 1 and done["journaled"] is True
    code, done = await run_json(till, "stock", "adjust", sku, "+3", "--reason", "retrouvés en réserve")
    assert done["after"] == level + 2
    code, done = await run_json(till, "stock", "adjust", sku, "=7", "--reason", "inventaire")
    assert done == done | {"before": level + 2, "booked": 7 - (level + 2), "after": 7}
    code, rows = await run_json(till, "stock")
    now = next(r for r in rows if r["sku"] == sku)
    assert now["level"] == 7 and now["changed"] is True and now["negative_because"] is None
    assert [
        r[0] for r in till.query("SELECT note FROM stock_movements WHERE kind = 'adjustment' ORDER BY 1")
    ] == sorted(["casse", "retrouvés en réserve", "inventaire"])
    assert (
        len(till.query("SELECT * FROM journal WHERE kind = 'stock_adjustment' AND subject = ?", [sku])) == 3
    )
    assert (await run(till, "verify"))[0] == 0  # the journal's chain still holds
    code, _, err = await run(till, "stock", "adjust", sku, "7", "--reason", "x")
    assert code == 1 and "+N" in err
    code, _, err = await run(till, "stock", "adjust", "NO-SUCH-SKU", "-1", "--reason", "x")
    assert code == 1 and "NO-SUCH-SKU" in err


async def test_stock_says_why_a_level_is_negative(tmp_path: Path, shop_factory: ShopFactory) -> None:
    till = await make_till(tmp_path, shop_factory, 150)
    assert (await run(till, "invoice", "--pending"))[0] == 0
    code, rows = await run_json(till, "stock")
    negative = [r for r in rows if r["level"] < 0]
    assert negative, "the simulated shop sells articles its catalogue does not list"
    assert all(r["negative_because"] for r in negative)
    assert any("no initial level" in r["negative_because"] for r in negative)
    assert all(r["negative_because"] is None for r in rows if r["level"] >= 0)
    code, out, _ = await run(till, "stock")
    assert code == 0 and "negative: no initial level" in out


async def test_a_returning_guest_is_one_customer(tmp_path: Path, shop_factory: ShopFactory) -> None:
    till = await make_till(tmp_path, shop_factory, 10)
    base = till.shop.store.order(0)
    guest = {**base["billing"], "first_name": "Léa", "last_name": "Roux", "email": "lea.roux@example.fr"}
    first = till.shop.create_order(W0 + dt.timedelta(days=1), customer_id=0, billing=guest)
    again = till.shop.create_order(
        W0 + dt.timedelta(days=3), customer_id=0, billing={**guest, "email": " Lea.Roux@Example.FR "}
    )
    other = till.shop.create_order(
        W0 + dt.timedelta(days=3), customer_id=0, billing={**guest, "email": "someone.else@example.fr"}
    )
    await import_shop(till.config)
    code, found = await run_json(till, "customers")
    assert code == 0
    lea = [c for c in found if c["customer"] == "email:lea.roux@example.fr"]
    assert (
        len(lea) == 1 and lea[0]["orders"] == 2 and lea[0]["order_ids"] == [first, again] and lea[0]["guest"]
    )
    assert any(other in c["order_ids"] and c["orders"] == 1 for c in found)
    registered = [c for c in found if c["customer"].startswith("id:")]
    assert registered and not any(c["guest"] for c in registered)
    assert sum(c["orders"] for c in found) == till.query("SELECT count(*) FROM orders")[0][0]
