"""One bad order never blocks the others (issue #14 point 6): set aside with its JSON and the reason, the
rest of its page stored, exit 1 naming it; a later clean read takes it in.  Real path: the simulated
shop on loopback, the ``fastimport`` command, a DuckDB file."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

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
    # The shop fixes it: the next import takes it in and the set-aside row closes.
    del store.written[idx][field]
    store.write_fields(idx, {})
    code, out, err = await run(till, "import", "--since", "2026-03-23", "--until", "2026-03-30")
    assert code == 0, out + err
    assert bad in {r[0] for r in till.query("SELECT order_id FROM orders")}
    code, aside = await run_json(till, "orders", "--set-aside")
    assert aside == []
