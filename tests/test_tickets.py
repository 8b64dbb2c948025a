"""processing/tickets.py and slips on the real path: stored records → the print room's documents → bytes."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from fastimport.config import parse_config
from fastimport.print.content import CreditNoteTicket, InvoiceTicket
from fastimport.print.reprint import clear_hooks
from fastimport.processing import tickets
from fastimport.processing.settings import load_settings
from tests.conftest import ShopFactory
from tests.invoice_print_support import make_till, network, refs, run, texts
from tests.printer_fixture import LoopbackPrinter, decode, loopback_printer
from tests.test_processing_support import SIGNING_ENV, SIGNING_KEY, W0, import_shop

__all__ = ["loopback_printer"]
PARIS = ZoneInfo("Europe/Paris")


@pytest.fixture(autouse=True)
def _signing_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SIGNING_ENV, SIGNING_KEY)
    clear_hooks()


async def test_invoice_and_credit_note_tickets_come_from_the_stored_signed_record(
    tmp_path: Path, shop_factory: ShopFactory, loopback_printer: LoopbackPrinter
) -> None:
    till = await make_till(tmp_path, shop_factory, 10, network(loopback_printer.port))
    # One order whose shop total is a cent above its lines: the invoice books a rounding adjustment.
    odd = till.shop.create_order(W0 + dt.timedelta(days=3, hours=9))
    idx = till.shop.store.find(odd)
    total = Decimal(till.shop.store.order(idx)["total"]) + Decimal("0.01")
    till.shop.store.overrides[idx] = {"total": str(total)}
    await import_shop(till.config)
    code, _out, err = await run(till, "invoice", str(odd), "--actor", "CL")
    assert code == 0, err
    number, signature, issued_at = till.query("SELECT number, signature, issued_at FROM invoices")[0]
    # The seller changes in the configuration afterwards: the ticket keeps the identity frozen in the invoice.
    raw = dict(till.config.raw)
    raw["seller"] = dict(raw["seller"], name="Autre Société")
    settings = load_settings(parse_config(raw))
    assert settings.require_seller().name == "Autre Société"
    con = till.db()
    try:
        ticket = tickets.invoice_ticket(con, settings, number)
        assert tickets.credit_note_ticket(con, settings, number) is None
    finally:
        con.close()
    assert isinstance(ticket, InvoiceTicket)
    assert ticket.seller.name == "Boutique Exemple" and ticket.seller.capital == Decimal("10000")
    assert (
        ticket.seller.address == ("3 place Bellecour", "69002 Lyon")
        and ticket.seller.siret == "12345678900012"
    )
    assert (
        ticket.issued_at == issued_at
        and ticket.issued_at.utcoffset() == issued_at.astimezone(PARIS).utcoffset()
    )
    assert str(ticket.issued_at.tzinfo) == "Europe/Paris"
    assert ticket.signature_excerpt == f"{signature[:4]}...{signature[-4:]}".upper()
    assert (ticket.software_name, ticket.operator, ticket.till) == ("fastimport", "CL", "eshop")
    assert ticket.total_incl == total and ticket.rounding_adjustment == Decimal("0.01")
    assert ticket.total_excl + ticket.total_vat + ticket.rounding_adjustment == ticket.total_incl
    assert sum(v.vat for v in ticket.vat_summary) == ticket.total_vat
    assert sum(line.total_incl for line in ticket.lines) + Decimal("0.01") == total
    assert ticket.payments and ticket.payments[0].amount == total and ticket.amount_due == 0
    assert ticket.web_order_ref == str(odd) and ticket.copy_number == 0

    code, _out, err = await run(till, "credit-note", number, "--reason", "retour", "--print")
    assert code == 0, err
    avoir = till.query("SELECT number FROM invoices WHERE kind = 'credit_note'")[0][0]
    con = till.db()
    try:
        note = tickets.credit_note_ticket(con, settings, avoir)
    finally:
        con.close()
    assert isinstance(note, CreditNoteTicket)
    assert note.invoice_number == number and note.reason == "retour" and note.total_incl == -total
    assert all(line.total_incl < 0 and line.unit_price_incl > 0 for line in note.lines)
    [data] = loopback_printer.wait_for_tickets(1)
    text = "\n".join(decode(data).lines)
    assert f"N° {avoir}" in text and "Arrondi" in text and "ORIGINAL" in text
    assert refs(loopback_printer) == [avoir]


async def test_slip_pending_prepares_orders_and_marks_unknown_articles(
    tmp_path: Path, shop_factory: ShopFactory, loopback_printer: LoopbackPrinter
) -> None:
    till = await make_till(tmp_path, shop_factory, 60, network(loopback_printer.port, "atelier"))
    pending = [
        r[0] for r in till.query("SELECT order_id FROM orders WHERE state = 'pending' ORDER BY created_at")
    ]
    code, out, err = await run(till, "slip", "--pending", "--actor", "Léa")
    assert code == 0, err
    prepared = [
        r[0]
        for r in till.query(
            "SELECT e.order_id FROM order_events e JOIN orders o USING (store_id, order_id) WHERE e.kind = 'state' "
            "AND e.from_state = 'pending' AND e.to_state = 'prepared' AND e.actor = 'Léa' AND o.state = 'prepared' "
            "ORDER BY o.created_at"
        )
    ]
    assert prepared and set(prepared) <= set(pending)
    assert f"{len(prepared)} slips queued, {len(prepared)} orders moved to prepared" in out
    assert refs(loopback_printer) == [f"eshop:{o}" for o in prepared]  # oldest first, one each
    unknown = {
        (r[0], r[1])
        for r in till.query(
            "SELECT f.order_id, l.sku FROM line_flags f JOIN order_lines l USING (store_id, order_id, line_no) "
            "WHERE f.unknown_article"
        )
    }
    marked = 0
    for order, text in zip(prepared, texts(loopback_printer), strict=True):
        assert "** PRÉPARATION **" in text
        assert "Justificatif non valable pour encaissement" in text and "Paiement:" in text
        for o, sku in unknown:
            if o == order:
                assert f"???-{sku}" in text and "! ARTICLE INCONNU EN CAISSE !" in text
                marked += 1
        if not any(o == order for o, _ in unknown):
            assert "INCONNU" not in text
    assert marked >= 1  # the simulated shop sells a few articles the catalogue does not know

    # Again for a prepared order: a DUPLICATA; for an invoiced one: refused in plain words.
    first = prepared[0]
    code, out, _ = await run(till, "slip", str(first), "--print-to", "atelier")
    assert code == 0 and "DUPLICATA 1" in out and "DUPLICATA 1" in texts(loopback_printer)[-1]
    code, _out, err = await run(till, "invoice", str(first), "--allow-unpaid")
    assert code == 0, err
    code, _out, err = await run(till, "slip", str(first))
    assert code == 1 and "is already invoiced: its preparation slip is no longer printed" in err
    # `print reprint` of a slip finds it through processing's source and journals it.
    code, out, err = await run(till, "print", "reprint", str(first))
    assert code == 0 and "DUPLICATA 2" in out, err
    assert till.query("SELECT subject FROM journal WHERE kind = 'reprint'") == [(str(first),)]
    assert (await run(till, "verify"))[0] == 0


async def test_control_bytes_from_the_shop_never_reach_the_printer(
    tmp_path: Path, shop_factory: ShopFactory, loopback_printer: LoopbackPrinter
) -> None:
    evil = "Marie\x1bp\x00\x19\xfa\x1b@\x1dV\x00\x10\x14\x01"
    till = await make_till(tmp_path, shop_factory, 5, network(loopback_printer.port))
    base = till.shop.store.order(0)
    till.shop.create_order(
        W0 + dt.timedelta(days=2),
        billing={**base["billing"], "first_name": evil},
        shipping={**base["shipping"], "first_name": evil, "last_name": "Le\x1bp\x01\x05\x05Gall"},
        customer_note="laisser chez le gardien\x1bp\x00\x32\x32 merci",
    )
    await import_shop(till.config)
    order = till.query("SELECT order_id FROM orders WHERE first_name LIKE 'Marie%'")[0][0]
    assert "\x1b" in till.query("SELECT first_name FROM orders WHERE order_id = ?", [order])[0][0]
    assert (await run(till, "slip", str(order)))[0] == 0
    assert (await run(till, "invoice", str(order), "--print"))[0] == 0
    tickets_bytes = loopback_printer.wait_for_tickets(2)
    for data in tickets_bytes:
        decoded = decode(data)
        assert decoded.drawer_pulses == 0 and b"\x1bp" not in data
        assert decoded.stray_controls == [] and decoded.unknown == []
        assert len(decoded.cuts) == 1 and decoded.ends_with_cut
    slip, invoice = ("\n".join(decode(t).lines) for t in tickets_bytes)
    assert "Client : Mariepú@V" in slip and "laisser chez le gardienp22 merci" in slip
    assert "Client: Mariepú@V" in invoice


def test_the_print_room_never_imports_io_or_processing() -> None:
    """Ticket contents and layouts stay pure: what fills them lives in processing/tickets.py."""
    import ast
    from pathlib import Path

    import fastimport.print

    room = Path(fastimport.print.__file__).parent
    for path in room.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert not name.startswith(("fastimport.io", "fastimport.processing")), f"{path.name}: {name}"
