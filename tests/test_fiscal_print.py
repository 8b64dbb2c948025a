"""``fastimport close day --print``: the Z ticket on the loopback printer, with the anchored chain heads."""

from __future__ import annotations

from pathlib import Path

import pytest

from fastimport.print.reprint import clear_hooks
from tests.conftest import ShopFactory
from tests.invoice_print_support import make_till, network, run, run_json
from tests.printer_fixture import LoopbackPrinter, decode, loopback_printer
from tests.test_processing_support import SIGNING_ENV, SIGNING_KEY

__all__ = ["loopback_printer"]


@pytest.fixture(autouse=True)
def _signing_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SIGNING_ENV, SIGNING_KEY)
    clear_hooks()


async def test_close_day_prints_a_z_ticket_with_totals_grand_total_and_heads(
    tmp_path: Path, shop_factory: ShopFactory, loopback_printer: LoopbackPrinter
) -> None:
    till = await make_till(tmp_path, shop_factory, 40, network(loopback_printer.port))
    code, _out, err = await run(till, "invoice", "--pending")
    assert code == 0, err
    code, report = await run_json(till, "close", "day", "--print")
    assert code == 0
    (closing,) = report["closings"]
    assert report["print"]["printed"] == 1
    assert closing["invoices"] > 0 and closing["number"] == "Z-eshop-000001"
    ticket = decode(loopback_printer.tickets()[-1])
    text = "\n".join(ticket.lines)
    assert "C L O T U R E   J O U R N E E   ( Z )" in text and "Z-eshop-000001" in text
    total = next(line for line in ticket.lines if line.startswith("TOTAL TTC"))
    assert total.replace(" ", "").endswith(closing["total_ttc"].replace(".", ","))
    assert "Grand total perpétuel" in text
    head = till.query("SELECT series, last_seq, last_signature FROM series_counters WHERE kind = 'invoice'")[
        0
    ]
    assert any(
        line.startswith(f"{head[0]} #{head[1]}") and line.endswith(head[2][:12]) for line in ticket.lines
    )
    assert max(len(line) for line in ticket.lines) <= 48
    # A Z ticket reprints as DUPLICATA 1, journaled.
    code, _out, err = await run(till, "print", "reprint", "Z-eshop-000001")
    assert code == 0, err
    again = "\n".join(decode(loopback_printer.tickets()[-1]).lines)
    assert "DUPLICATA" in again and "Z-eshop-000001" in again
    assert till.query("SELECT kind, subject FROM journal ORDER BY seq DESC LIMIT 1") == [
        ("reprint", "Z-eshop-000001")
    ]
    # Closed: the command line says so, exit 1.
    code, _out, err = await run(till, "close", "day")
    assert code == 1 and "already closed" in err
    code, _out, err = await run(till, "verify")
    assert code == 0, err
