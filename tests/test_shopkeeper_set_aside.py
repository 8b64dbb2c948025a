"""One bad order never blocks the others (issue #14 point 6): set aside with its JSON and the reason, the
rest of its page stored, exit 1 naming it; a later clean read takes it in.  Real path: the simulated
shop on loopback, the ``fastimport`` command, the store (DuckDB or PostgreSQL)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import PLATFORMS, ShopFactory
from tests.invoice_print_support import make_till, run, run_json
from tests.test_processing_support import W0


@pytest.fixture(params=PLATFORMS)
def platform(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def test_a_bad_order_is_set_aside_and_taken_in_once_clean(
    tmp_path: Path, shop_factory: ShopFactory, platform: str
) -> None:
    till = await make_till(tmp_path, shop_factory, 30)
    store = till.shop.store
    bad = till.shop.create_order(W0 + dt.timedelta(days=2, hours=3))
    idx = store.find(bad)
    field = {"woocommerce": "date_created_gmt", "shopify": "created_at", "prestashop": "date_add"}[platform]
    store.write_fields(idx, {field: {"not": "a number"}})  # a field of the wrong type, as the shop sends it
    neighbour = till.shop.create_order(W0 + dt.timedelta(days=2, hours=4))
    code, out, err = await run(till, "import", "--since", "2026-03-23", "--until", "2026-03-30")
    assert code == 1 and f"order {bad}" in err and "set aside" in err, out + err
    stored = {r[0] for r in till.query("SELECT order_id FROM orders")}
    assert neighbour in stored and bad not in stored  # the rest of its page was stored
    truth = {o["id"] for o in till.shop.truth()}
    assert stored == truth - {bad}
    code, aside = await run_json(till, "orders", "--set-aside")
    assert [(a["id"], a["store"]) for a in aside] == [(bad, "eshop")]
    assert '"a number"' in aside[0]["raw"] and aside[0]["reason"]  # the order's JSON, as read
    assert not aside[0]["reason"].startswith("order ")  # the list names the order; its reason does not again
    assert f"order {bad}: order" not in err and "order 0:" not in err
    # The shop fixes it: the next import takes it in and the set-aside row closes.
    del store.written[idx][field]
    store.write_fields(idx, {})
    code, out, err = await run(till, "import", "--since", "2026-03-23", "--until", "2026-03-30")
    assert code == 0, out + err
    assert bad in {r[0] for r in till.query("SELECT order_id FROM orders")}
    code, aside = await run_json(till, "orders", "--set-aside")
    assert aside == []


@pytest.mark.parametrize("platform", ["woocommerce", "prestashop"])
async def test_an_order_whose_fetched_refunds_hold_a_bad_value_is_set_aside(
    tmp_path: Path, shop_factory: ShopFactory, platform: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The refunds the connector fetches apart (WooCommerce's /orders/<id>/refunds, PrestaShop's
    order_slip) were read without checks: a hostile value failed the whole import. Now the order is set
    aside naming the field, the rest of its page is stored, and a clean read later takes it in."""
    till = await make_till(tmp_path, shop_factory, 30)
    (order, line_id, quantity), *_ = till.query(
        "SELECT l.order_id, l.line_id, l.quantity FROM order_lines l JOIN orders o USING (store_id, order_id) "
        "WHERE l.quantity >= 1 AND o.shop_status NOT IN ('refunded', 'cancelled') ORDER BY l.order_id, l.line_no"
    )
    book = till.shop.refunds
    made = book.refund(order, [(line_id, 1)], reason="Casse")
    neighbour = till.shop.create_order(W0 + dt.timedelta(days=2, hours=4))
    served_woo, served_slips = book.woo_refunds, book.order_slips

    def hostile_woo(oid: int) -> list[dict[str, Any]]:
        out = served_woo(oid)
        for refund in out:
            if refund["id"] == made.refund_id:
                refund["line_items"][0]["total"] = {"not": "money"}
        return out

    def hostile_slips(order_ids: set[int] | None, slip_ids: set[int] | None) -> list[dict[str, Any]]:
        out = served_slips(order_ids, slip_ids)
        for slip in out:
            if slip["id"] == made.refund_id:
                slip["associations"]["order_slip_details"][0]["amount_tax_excl"] = {"not": "money"}
        return out

    field = {
        "woocommerce": "line_items[0].total",
        "prestashop": "associations.order_slip_details[0].amount_tax_excl",
    }
    with monkeypatch.context() as shop_sends:  # the shop serves the hostile value, until it is fixed
        shop_sends.setattr(book, "woo_refunds", hostile_woo)
        shop_sends.setattr(book, "order_slips", hostile_slips)
        code, out, err = await run(till, "import", "--since", "2026-03-23", "--until", "2026-03-30")
        assert code == 1 and f"order {order}" in err and "set aside" in err, out + err
        assert neighbour in {r[0] for r in till.query("SELECT order_id FROM orders")}  # the rest of its page
        code, aside = await run_json(till, "orders", "--set-aside")
        assert [a["id"] for a in aside] == [order]
        assert aside[0]["reason"].startswith(
            f"fastimport_refunds[0].{field[platform]}: expected an amount of money"
        )
        assert f"order {order}: order" not in err
        before = till.query(
            "SELECT quantity FROM order_lines WHERE order_id = ? AND line_id = ?", [order, line_id]
        )
        assert before == [(quantity,)]  # the version stored before the refund stays as it was
    code, out, err = await run(till, "import", "--since", "2026-03-23", "--until", "2026-03-30")
    assert code == 0, out + err
    code, aside = await run_json(till, "orders", "--set-aside")
    assert aside == []
    after = till.query(
        "SELECT quantity FROM order_lines WHERE order_id = ? AND line_id = ?", [order, line_id]
    )
    assert after == [(quantity - 1,)]  # the refunded unit is off the order's line
