"""``fastimport invoice|credit-note|ship|slip … --print`` end to end: simulated shop, DuckDB file, loopback printer."""

from __future__ import annotations

import asyncio
import collections
import time
from decimal import Decimal
from pathlib import Path

import pytest

from fastimport.print.reprint import clear_hooks
from fastimport.processing.verify import verify
from tests.conftest import ShopFactory
from tests.invoice_print_support import french, make_till, network, refs, run, run_json, texts
from tests.printer_fixture import LoopbackPrinter, decode, loopback_printer
from tests.test_processing_support import SIGNING_ENV, SIGNING_KEY

__all__ = ["loopback_printer"]


@pytest.fixture(autouse=True)
def _signing_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SIGNING_ENV, SIGNING_KEY)
    clear_hooks()


async def test_invoice_pending_print_prints_every_invoice_once_in_number_order(
    tmp_path: Path, shop_factory: ShopFactory, loopback_printer: LoopbackPrinter
) -> None:
    till = await make_till(tmp_path, shop_factory, 100, network(loopback_printer.port))
    code, report = await run_json(till, "invoice", "--pending", "--print")
    assert code == 0
    numbers = [i["number"] for i in report["invoices"]]
    assert len(numbers) >= 45 and numbers == sorted(numbers)
    assert report["print"] == {
        "enqueued": len(numbers), "printed": len(numbers), "still_queued": 0, "reasons": [], "jobs": [], "sent": True,
    }  # fmt: skip
    assert refs(loopback_printer) == numbers  # each exactly once, in number order
    totals = dict(till.query("SELECT number, total_ttc FROM invoices"))
    rates = collections.defaultdict(list)
    for number, rate, base, vat in till.query("SELECT i.number, v.vat_rate, v.base_ht, v.vat FROM invoice_vat v JOIN invoices i USING (invoice_id)"):  # fmt: skip
        rates[number].append((rate, base, vat))
    for data, number in zip(loopback_printer.tickets(), numbers, strict=True):
        ticket = decode(data)
        text = "\n".join(ticket.lines)
        assert f"N° {number}" in text and "F A C T U R E" in text
        total_line = next(line for line in ticket.lines if line.startswith("TOTAL TTC"))
        assert total_line.endswith(f"{french(totals[number])} €")  # CP858 has the euro sign
        for rate, base, vat in rates[number]:
            line = next(ln for ln in ticket.lines if f"TVA {french(rate)}% base HT {french(base)}" in ln)
            assert line.endswith(french(vat))
        assert "ORIGINAL" in text and "DUPLICATA" not in text
        assert "Logiciel fastimport v" in text and "Signature: " in text
        assert ticket.ends_with_cut and ticket.drawer_pulses == 0
        assert max(len(line) for line in ticket.lines) <= 48
        assert ticket.qr == [number]
    states = till.query("SELECT DISTINCT o.state FROM invoices i JOIN orders o USING (store_id, order_id)")
    assert states == [("invoiced",)]
    assert till.query(
        "SELECT count(*), count(DISTINCT document_ref) FROM print_jobs WHERE status = 'printed'"
    ) == [(len(numbers), len(numbers))]


async def test_printer_offline_mid_batch_keeps_every_ticket_for_print_retry(
    tmp_path: Path, shop_factory: ShopFactory, loopback_printer: LoopbackPrinter
) -> None:
    till = await make_till(tmp_path, shop_factory, 100, network(loopback_printer.port))

    async def pull_the_plug() -> None:
        while len(loopback_printer.tickets()) < 10:
            await asyncio.sleep(0.005)
        loopback_printer.go_offline()

    plug = asyncio.create_task(pull_the_plug())
    code, out, err = await run(till, "invoice", "--pending", "--print", "--print-timeout", "1.5")
    await plug
    assert code == 1  # the invoices are done, the tickets wait: something to act on
    issued = [r[0] for r in till.query("SELECT number FROM invoices ORDER BY seq")]
    assert len(issued) >= 45 and f"{len(issued)} invoices issued" in out
    printed_before = len(refs(loopback_printer))
    assert 10 <= printed_before < len(issued)
    assert "still in the print queue" in err and "connection refused" in err
    assert "fastimport print retry" in err
    queued = till.query("SELECT count(*) FROM print_jobs WHERE status = 'queued'")[0][0]
    assert queued == len(issued) - printed_before

    loopback_printer.come_online()
    code, out, err = await run(
        till, "credit-note", issued[0], "--reason", "x", "--print", "--print-timeout", "0"
    )
    assert code == 0 and "not sent: --print-timeout 0" in out, err
    queued += 1
    issued.append(till.query("SELECT number FROM invoices WHERE kind = 'credit_note'")[0][0])
    code, out, _ = await run(till, "print", "retry")
    assert code == 0 and f"printed {queued}; 0 still waiting" in out
    assert refs(loopback_printer) == issued  # all of them, exactly once, in number order


async def test_reprint_is_a_duplicata_and_a_journal_entry_that_verify_accepts(
    tmp_path: Path, shop_factory: ShopFactory, loopback_printer: LoopbackPrinter
) -> None:
    ascii_printer = network(loopback_printer.port, "atelier", codepage="CP437")
    till = await make_till(tmp_path, shop_factory, 30, network(loopback_printer.port), ascii_printer)
    code, _out, _err = await run(till, "invoice", "--pending", "--print")
    first, second = (r[0] for r in till.query("SELECT number FROM invoices ORDER BY seq LIMIT 2"))
    count = len(loopback_printer.tickets())
    code, out, err = await run(till, "print", "reprint", first)
    assert code == 0 and "DUPLICATA 1" in out, err
    duplicate = texts(loopback_printer)[count]
    assert "DUPLICATA 1" in duplicate and "ORIGINAL" not in duplicate and f"N° {first}" in duplicate
    original = texts(loopback_printer)[0]
    # Identical apart from the mention (centred and right-aligned text moves by a few columns).
    assert original.replace("ORIGINAL", "DUPLICATA 1").split() == duplicate.split()
    journal = till.query("SELECT kind, subject, detail FROM journal WHERE kind = 'reprint'")
    assert len(journal) == 1 and journal[0][1] == first and '"copy":1' in journal[0][2]

    # A credit note printed on the printer without the euro sign; the shipped order's delivery note.
    code, out, err = await run(
        till, "credit-note", second, "--reason", "colis abîmé", "--print", "--printer", "atelier"
    )
    assert code == 0, err
    avoir = decode(loopback_printer.wait_for_tickets(count + 2)[-1], "cp437")
    text = "\n".join(avoir.lines)
    assert "A V O I R" in text and f"Avoir sur facture {second}" in text and "Motif: colis abîmé" in text
    total = next(line for line in avoir.lines if line.startswith("TOTAL TTC"))
    assert total.endswith(" EUR") and "-" in total and "€" not in text
    order = till.query("SELECT order_id FROM invoices WHERE number = ?", [first])[0][0]
    code, out, err = await run(till, "ship", str(order), "--tracking", "6A123", "--print")
    assert code == 0, err
    bl = till.query("SELECT number FROM shipments")[0][0]
    note = "\n".join(decode(loopback_printer.wait_for_tickets(count + 3)[-1]).lines)
    assert "B O N   D E   L I V R A I S O N" in note and bl in note and "Suivi: 6A123" in note
    assert (await run(till, "print", "reprint", bl))[0] == 0
    assert "DUPLICATA 1" in texts(loopback_printer)[-1]

    con = till.db()
    try:
        assert verify(con, SIGNING_KEY.encode()).ok
    finally:
        con.close()
    code, out, _ = await run(till, "verify")
    assert code == 0 and "the chain holds" in out
    assert [r[0] for r in till.query("SELECT subject FROM journal WHERE kind = 'reprint' ORDER BY seq")] == [
        first,
        bl,
    ]


async def test_print_without_a_printer_refuses_before_writing_anything(
    tmp_path: Path, shop_factory: ShopFactory
) -> None:
    till = await make_till(tmp_path, shop_factory, 20)
    code, _out, err = await run(till, "invoice", "--pending", "--print")
    assert code == 1 and "--print needs a printer, and none is configured" in err
    assert till.query("SELECT count(*) FROM invoices") == [(0,)]
    code, _out, err = await run(till, "slip", "--pending")
    assert code == 1 and "none is configured" in err
    assert till.query("SELECT count(*) FROM orders WHERE state <> 'pending'") == [(0,)]


async def test_500_invoices_through_an_outage_print_once_each_in_order(
    tmp_path: Path, shop_factory: ShopFactory, loopback_printer: LoopbackPrinter
) -> None:
    """End to end through `fastimport invoice --pending --print` (the print room's own 500-job test
    drives the queue directly): the printer goes away for a while in the middle and comes back."""
    till = await make_till(tmp_path, shop_factory, 960, network(loopback_printer.port, paper_check=False))
    started = time.monotonic()

    async def outage() -> None:
        while len(loopback_printer.tickets()) < 150:
            await asyncio.sleep(0.01)
        loopback_printer.go_offline()
        await asyncio.sleep(1.0)
        loopback_printer.come_online()

    plug = asyncio.create_task(outage())
    code, report = await run_json(till, "invoice", "--pending", "--print", "--print-timeout", "60")
    await plug
    numbers = [i["number"] for i in report["invoices"]]
    assert code == 0 and len(numbers) >= 500
    assert report["print"]["printed"] == len(numbers) and report["print"]["still_queued"] == 0
    assert refs(loopback_printer) == numbers  # none lost, none doubled, in order
    assert till.query("SELECT max(attempts) > 1 FROM print_jobs") == [(True,)]  # the outage was felt
    assert time.monotonic() - started < 40
    totals = till.query("SELECT sum(total_ttc) FROM invoices")[0][0]
    assert totals == sum(Decimal(i["total_ttc"]) for i in report["invoices"])
