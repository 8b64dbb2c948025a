"""Partial refunds with lines on WooCommerce (``/orders/<id>/refunds``) and PrestaShop (``order_slip``), on
the real path: the simulated shop makes them (its ``/_sim/orders/<id>/refunds``), the import reads them over
loopback into the store (DuckDB or PostgreSQL), the command invoices and credits (issue #14 point 1)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.conftest import ShopFactory
from tests.invoice_print_support import Till, make_till, run, run_json
from tests.test_import_refunds import woo_refund_requests
from tests.test_processing_support import import_shop

pytestmark = [
    pytest.mark.usefixtures("signing_key"),
    pytest.mark.parametrize("platform", ["woocommerce", "prestashop"]),
]


async def refund(
    till: Till, order: int, lines: list[tuple[int, int]], amount: str = "0", reason: str = ""
) -> Any:
    """The shop refunds ``lines`` ((line id, quantity)) and ``amount`` beyond them, as its back office does."""
    body = {"lines": [{"line_id": li, "quantity": q} for li, q in lines], "amount": amount, "reason": reason}
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{till.url}/_sim/orders/{order}/refunds", json=body) as answer,
    ):
        assert answer.status == 201, await answer.text()
        return await answer.json()


def _line_of_two(till: Till, orders: list[int]) -> tuple[int, int, int]:
    """(order, shop line id, line no) of a line of at least two units among ``orders``."""
    marks = ", ".join("?" for _ in orders)
    rows = till.query(
        f"SELECT order_id, line_id, line_no FROM order_lines WHERE order_id IN ({marks}) AND quantity >= 2 "
        "ORDER BY order_id, line_no",
        orders,
    )
    assert rows, "the simulated shop made no line of two units"
    return int(rows[0][0]), int(rows[0][1]), int(rows[0][2])


async def test_a_refund_of_lines_after_invoicing_proposes_a_credit_note_of_those_lines(
    tmp_path: Path, shop_factory: ShopFactory, platform: str
) -> None:
    till = await make_till(tmp_path, shop_factory, 60)
    code, invoiced = await run_json(till, "invoice", "--pending")
    assert code == 0 and invoiced["invoices"]
    by_order = {i["order"]: i for i in invoiced["invoices"]}
    order, line_id, line_no = _line_of_two(till, list(by_order))
    number = by_order[order]["number"]
    (inv_no, qty, line_ttc), = till.query(
        "SELECT l.line_no, l.quantity, l.total_ttc FROM invoice_lines l JOIN invoices i USING (invoice_id) "
        "WHERE i.number = ? AND l.source_line_no = ? AND l.line_kind = 'item'", [number, line_no]
    )  # fmt: skip
    credited = Decimal(0)
    for half in range(1, qty + 1):  # one unit at a time, down to the last
        made = await refund(till, order, [(line_id, 1)], reason=f"Unité {half} cassée")
        await import_shop(till.config)
        code, proposed = await run_json(till, "credit-note", "--proposed")
        mine = [p for p in proposed if p["order"] == order]
        assert [(p["refund"], p["amount"], p["lines"]) for p in mine] == [
            (made["id"], made["amount"], [f"{inv_no}:1"])
        ], proposed
        assert f"--lines {inv_no}:1 " in mine[0]["command"] and mine[0]["invoice"] == number
        reason = mine[0]["command"].split('--reason "')[1].rstrip('"')
        code, credit = await run_json(
            till, "credit-note", number, "--lines", f"{inv_no}:1", "--reason", reason
        )
        assert code == 0, credit
        assert credit["total_ttc"] == f"-{made['amount']}"  # exactly what the shop gave back
        credited += Decimal(made["amount"])
        code, proposed = await run_json(till, "credit-note", "--proposed")
        assert all(p["order"] != order for p in proposed)  # answered
    assert credited == line_ttc  # the parts add up to the line, to the cent
    assert (await run(till, "verify"))[0] == 0


async def test_a_refund_of_lines_before_invoicing_is_taken_off_those_lines(
    tmp_path: Path, shop_factory: ShopFactory, platform: str
) -> None:
    till = await make_till(tmp_path, shop_factory, 60)
    _, pending = await run_json(till, "pending")
    candidates = [p["id"] for p in pending if "unpaid" not in p["warnings"]]
    order, line_id, line_no = _line_of_two(till, candidates)
    other = next(o for o in candidates if o != order)
    (qty, net, tax), = till.query(
        "SELECT quantity, total, total_tax FROM order_lines WHERE order_id = ? AND line_no = ?", [order, line_no]
    )  # fmt: skip
    (total,) = till.query("SELECT total FROM orders WHERE order_id = ?", [order])[0]
    made = await refund(till, order, [(line_id, 1)], amount="1.00", reason="Casse")
    line_part = Decimal(made["amount"]) - Decimal("1.00")
    await import_shop(till.config)
    code, invoiced = await run_json(till, "invoice", str(order), str(other))
    assert code == 0 and not invoiced["refused"], invoiced
    mine = next(i for i in invoiced["invoices"] if i["order"] == order)
    assert mine["total_ttc"] == f"{total - Decimal(made['amount']):.2f}" and mine["adjustment"] == "0.00", (
        mine
    )
    (q, ttc), = till.query(
        "SELECT l.quantity, l.total_ttc FROM invoice_lines l JOIN invoices i USING (invoice_id) WHERE i.number = ? "
        "AND l.source_line_no = ? AND l.line_kind = 'item'", [mine["number"], line_no]
    )  # fmt: skip
    assert q == qty - 1 and ttc == net + tax - line_part  # the line as it is left, to the cent
    beyond = till.query(
        "SELECT sum(l.total_ttc) FROM invoice_lines l JOIN invoices i USING (invoice_id) WHERE i.number = ? "
        "AND l.name LIKE 'Remboursement sur la boutique%'", [mine["number"]]
    )  # fmt: skip
    assert beyond[0][0] == Decimal("-1.00")  # the rest of the refund, spread over the VAT rates
    code, proposed = await run_json(till, "credit-note", "--proposed")
    assert all(p["order"] != order for p in proposed)
    assert (await run(till, "verify"))[0] == 0


async def test_refunds_are_read_only_for_orders_that_have_some(
    tmp_path: Path, shop_factory: ShopFactory, platform: str
) -> None:
    """WooCommerce: one /refunds request naming the refunds of the orders whose summary lists some (and are not
    refunded in full), none of the others;
    PrestaShop: which orders have a slip once per import, the slips of a page only when it holds some."""
    till = await make_till(tmp_path, shop_factory, 60)
    log = till.shop.requests_log
    store = till.shop.store
    with_refunds = {
        store.ids[i]
        for i in range(len(store.ids))
        if store.order(i).get("refunds") and store.order(i)["status"] != "refunded"
    }
    if platform == "woocommerce":
        listed, one_by_one, missing = woo_refund_requests(till.shop)
        asked = sorted(oid for ids in listed for oid in ids)
        assert len(listed) == 1 and one_by_one == [] and missing == 0  # one request for every page's orders
        assert asked == sorted(with_refunds) and asked, with_refunds  # the generated shop has a few gestures
    else:
        slips = [p for _, p, _ in log if p.startswith("/api/order_slip")]
        assert len(slips) == 1 and "filter" not in slips[0], slips  # no slip yet: the index only
        pending = [p["id"] for p in (await run_json(till, "pending"))[1]]
        order, line_id, _ = _line_of_two(till, pending)
        await refund(till, order, [(line_id, 1)])
        log.clear()
        await import_shop(till.config)
        slips = [p for _, p, _ in log if p.startswith("/api/order_slip")]
        assert len(slips) == 2 and "filter" not in slips[0] and f"%5B{order}%5D" in slips[1], slips


async def test_a_refund_of_lines_and_shipping_after_invoicing_is_proposed_as_its_amount(
    tmp_path: Path, shop_factory: ShopFactory, platform: str
) -> None:
    """Lines alone would not give back the shipping refunded with them: the proposal is the whole amount."""
    till = await make_till(tmp_path, shop_factory, 60)
    code, invoiced = await run_json(till, "invoice", "--pending")
    by_order = {i["order"]: i for i in invoiced["invoices"]}
    order, line_id, _ = _line_of_two(till, list(by_order))
    made = await refund(till, order, [(line_id, 1)], amount="2.00", reason="Colis abîmé")
    await import_shop(till.config)
    code, proposed = await run_json(till, "credit-note", "--proposed")
    (mine,) = [p for p in proposed if p["order"] == order]
    assert mine["amount"] == made["amount"] and mine["lines"] == []
    assert f"--amount {made['amount']} " in mine["command"]
    reason = mine["command"].split('--reason "')[1].rstrip('"')
    number = by_order[order]["number"]
    code, credit = await run_json(till, "credit-note", number, "--amount", made["amount"], "--reason", reason)
    assert code == 0 and credit["total_ttc"] == f"-{made['amount']}", credit
    code, proposed = await run_json(till, "credit-note", "--proposed")
    assert all(p["order"] != order for p in proposed)
