"""The till's own pushes are not "changed on the shop after invoicing"; a real change on the shop still is
(issue #14 point 2).  Real path: a simulated shop of each platform on loopback, the ``fastimport``
command, imports into the store (DuckDB or PostgreSQL)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import PLATFORMS, ShopFactory
from tests.invoice_print_support import Till, edit_on_the_shop, make_till, run_json
from tests.test_processing_support import import_shop

pytestmark = [pytest.mark.usefixtures("signing_key"), pytest.mark.parametrize("platform", PLATFORMS)]


def _changes(till: Till) -> int:
    """Changes on the shop after invoicing counted by the last import."""
    (row,) = till.query("SELECT locked_changes FROM import_runs ORDER BY run_id DESC LIMIT 1")
    return int(row[0])


def _events(till: Till, order: int) -> list[tuple[Any, ...]]:
    return till.query(
        "SELECT kind, detail FROM order_events WHERE order_id = ? AND kind IN "
        "('shop_change_after_invoice', 'till_write_seen') ORDER BY event_id",
        [order],
    )


async def test_the_tills_own_pushes_are_not_counted_but_a_shop_change_is(
    tmp_path: Path, shop_factory: ShopFactory, platform: str
) -> None:
    till = await make_till(tmp_path, shop_factory, 40)
    code, invoiced = await run_json(till, "invoice", "--pending")
    assert code == 0 and invoiced["push"]["waiting"] == 0 and len(invoiced["invoices"]) >= 2, invoiced
    first, second = (i["order"] for i in invoiced["invoices"][:2])
    code, shipped = await run_json(till, "ship", str(first), "--carrier", "Colissimo", "--tracking", "6A42")
    assert code == 0 and shipped["pushed"] is True, shipped
    # The shop now shows the invoice numbers, the shipment, the new status: all the till's own doing.
    await import_shop(till.config)
    assert _changes(till) == 0
    seen = _events(till, first)
    assert seen and all(kind == "till_write_seen" for kind, _ in seen), (
        seen
    )  # the shipment made a new version
    # A change made on the shop after invoicing is news, alone or on top of the till's pushes.
    edit_on_the_shop(till, first, "customer_note", "Livrer chez la voisine")
    edit_on_the_shop(till, second, "customer_note", "Sonner deux fois")
    await import_shop(till.config)
    assert _changes(till) == 2
    for order in (first, second):
        kinds = [kind for kind, _ in _events(till, order)]
        assert kinds[-1] == "shop_change_after_invoice", kinds
    # The till pushes again after that change: compared with the shop's last version, it is the till's.
    code, shipped = await run_json(till, "ship", str(second), "--carrier", "Colissimo", "--tracking", "6A43")
    assert code == 0 and shipped["pushed"] is True, shipped
    await import_shop(till.config)
    assert _changes(till) == 0
    assert [kind for kind, _ in _events(till, second)][-1] == "till_write_seen"
    code, proposed = await run_json(till, "credit-note", "--proposed")
    assert all(p["order"] not in (first, second) for p in proposed)
