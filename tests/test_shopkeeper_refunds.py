"""Partial refunds made on the shop after invoicing: a credit note of exactly what was refunded (issue #14
point 1), on the real path (simulated WooCommerce and Shopify shops, DuckDB or PostgreSQL, the command)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from tests.conftest import ShopFactory
from tests.invoice_print_support import Till, edit_on_the_shop, make_till, run, run_json
from tests.test_processing_support import import_shop

pytestmark = [
    pytest.mark.usefixtures("signing_key"),
    pytest.mark.parametrize("platform", ["woocommerce", "shopify"]),
]


def _refund_on_the_shop(till: Till, order: int, refund_id: int, amount: str, reason: str) -> None:
    """The shop refunds part of an order (a commercial gesture): its refunds list grows, it is modified."""
    store = till.shop.store
    refunds = [
        *store.order(store.find(order)).get("refunds", []),
        {"id": refund_id, "reason": reason, "total": f"-{amount}"},
    ]
    edit_on_the_shop(till, order, "refunds", refunds)


async def test_a_partial_refund_after_invoicing_proposes_a_credit_note_of_that_amount(
    tmp_path: Path, shop_factory: ShopFactory, platform: str
) -> None:
    till = await make_till(tmp_path, shop_factory, 40)
    code, invoiced = await run_json(till, "invoice", "--pending")
    assert code == 0 and invoiced["invoices"]
    first, second = invoiced["invoices"][0], invoiced["invoices"][1]
    _refund_on_the_shop(till, first["order"], 555001, "5.00", "Geste commercial")
    await import_shop(till.config)
    code, proposed = await run_json(till, "credit-note", "--proposed")
    mine = [p for p in proposed if p["order"] == first["order"]]
    assert len(mine) == 1 and mine[0]["amount"] == "5.00" and mine[0]["refund"] == 555001
    assert mine[0]["invoice"] == first["number"] and "--amount 5.00" in mine[0]["command"]
    assert all(p["order"] != second["order"] for p in proposed)
    # The proposed command, as written, credits exactly the refund, spread over the invoice's VAT rates.
    reason = mine[0]["command"].split('--reason "')[1].rstrip('"')
    code, credit = await run_json(
        till, "credit-note", first["number"], "--amount", "5.00", "--reason", reason
    )
    assert code == 0 and credit["total_ttc"] == "-5.00", credit
    rows = till.query(
        "SELECT l.vat_rate, l.total_ht, l.vat, l.total_ttc FROM invoice_lines l JOIN invoices i USING (invoice_id) "
        "WHERE i.number = ?", [credit["number"]],
    )  # fmt: skip
    assert sum(r[3] for r in rows) == Decimal("-5.00") and all(r[1] + r[2] == r[3] for r in rows)
    rates = {r[0] for r in till.query(
        "SELECT v.vat_rate FROM invoice_vat v JOIN invoices i USING (invoice_id) WHERE i.number = ?", [first["number"]]
    )}  # fmt: skip
    assert {r[0] for r in rows} <= rates
    code, proposed = await run_json(till, "credit-note", "--proposed")
    assert all(p["order"] != first["order"] for p in proposed)  # answered
    # A second refund on the same order is proposed on its own.
    _refund_on_the_shop(till, first["order"], 555002, "2.50", "Retard")
    await import_shop(till.config)
    code, proposed = await run_json(till, "credit-note", "--proposed")
    assert [(p["refund"], p["amount"]) for p in proposed if p["order"] == first["order"]] == [
        (555002, "2.50")
    ]
    # Never more than what is left of the invoice.
    too_much = str(Decimal(first["total_ttc"]) + 1)
    code, _, err = await run(till, "credit-note", first["number"], "--amount", too_much, "--reason", "x")
    assert code == 1 and "left to credit" in err
    assert (await run(till, "verify"))[0] == 0


async def test_a_partial_refund_before_invoicing_is_taken_off_the_invoice(
    tmp_path: Path, shop_factory: ShopFactory, platform: str
) -> None:
    """WooCommerce's total still holds the refund, Shopify's ``current_total_price`` no longer does: either
    way the invoice states what is due, a refund line per VAT rate, and no credit note is proposed for it."""
    till = await make_till(tmp_path, shop_factory, 40)
    _, pending = await run_json(till, "pending")
    order, other = [p["id"] for p in pending if "unpaid" not in p["warnings"]][:2]
    total, other_total = (
        till.query("SELECT total FROM orders WHERE order_id = ?", [n])[0][0] for n in (order, other)
    )
    _refund_on_the_shop(till, order, 556001, "5.00", "Geste commercial")
    await import_shop(till.config)
    code, pending = await run_json(till, "pending")
    assert order in [p["id"] for p in pending]  # still to prepare (Shopify: partially_refunded)
    code, invoiced = await run_json(till, "invoice", str(order), str(other))
    assert code == 0 and not invoiced["refused"], invoiced
    by_order = {i["order"]: i for i in invoiced["invoices"]}
    assert by_order[order]["total_ttc"] == f"{total - 5:.2f}" and by_order[order]["adjustment"] == "0.00"
    assert by_order[other]["total_ttc"] == f"{other_total:.2f}"
    rows = till.query(
        "SELECT i.order_id, l.vat_rate, l.total_ht, l.vat, l.total_ttc FROM invoice_lines l "
        "JOIN invoices i USING (invoice_id) WHERE l.name LIKE 'Remboursement sur la boutique%'"
    )
    assert {r[0] for r in rows} == {order} and sum(r[4] for r in rows) == Decimal("-5.00")
    assert all(r[2] + r[3] == r[4] and r[4] < 0 for r in rows)
    code, proposed = await run_json(till, "credit-note", "--proposed")
    assert all(p["order"] != order for p in proposed)
    assert (await run(till, "verify"))[0] == 0
