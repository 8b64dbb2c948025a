"""The stored, signed documents as the A4 templates and Factur-X read them (never recomputed).

An invoice or credit note is read through :func:`fastimport.processing.tickets.fiscal_tickets`
(the same legal mentions as the till's ticket), plus what only an A4 page or an e-invoice
needs from the same stored record: the frozen buyer (e-mail, VAT number, SIREN, country),
each line's amounts excl. VAT, the currency and, for a credit note, its invoice's date.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import orjson

from fastimport.errors import ProcessingError
from fastimport.print.content import CreditNoteTicket, DeliveryNote, InvoiceTicket
from fastimport.processing import tickets
from fastimport.processing.settings import ProcessingSettings
from fastimport.store.db import Connection


@dataclass(frozen=True, slots=True)
class StoredLine:
    line_no: int
    kind: str  # item, shipping, fee, adjustment
    sku: str
    name: str
    quantity: int
    unit_price_ht: Decimal
    vat_rate: Decimal
    total_ht: Decimal
    vat: Decimal
    total_ttc: Decimal


@dataclass(frozen=True, slots=True)
class StoredFiscal:
    """An invoice or credit note as stored: the ticket's fields plus the record's own columns."""

    ticket: InvoiceTicket | CreditNoteTicket
    kind: str  # invoice, credit_note
    buyer: dict[str, Any]
    currency: str
    lines: tuple[StoredLine, ...]
    vat: tuple[tuple[Decimal, Decimal, Decimal], ...]  # (rate, base excl. VAT, VAT), highest rate first
    total_ht: Decimal
    total_vat: Decimal
    adjustment: Decimal
    total_ttc: Decimal
    paid: bool
    refers_to: str | None
    refers_to_date: dt.date | None

    @property
    def number(self) -> str:
        return self.ticket.number

    @property
    def email(self) -> str:
        return str(self.buyer.get("email") or "").strip()

    @property
    def business(self) -> bool:
        """A business buyer: a company name and a VAT number or SIREN (Factur-X is then made)."""
        company = str(self.buyer.get("company") or "").strip()
        return bool(company) and bool(self.buyer.get("vat_number") or self.buyer.get("siren"))


StoredDocument = StoredFiscal | DeliveryNote


def _dec(value: Any) -> Decimal:
    return Decimal(str(value))


def load_fiscal(
    con: Connection, settings: ProcessingSettings, numbers: list[str], copy_number: int = 0
) -> list[StoredFiscal]:
    """The stored invoices / credit notes ``numbers``, in that order (unknown numbers skipped)."""
    found = tickets.fiscal_tickets(con, settings, numbers, copy_number=copy_number)
    if not found:
        return []
    rows = con.execute(
        "SELECT i.number, i.invoice_id, i.kind, i.buyer, i.currency, i.total_ht, i.total_vat, i.adjustment, "
        "i.total_ttc, i.paid_at IS NOT NULL, i.refers_to, (SELECT r.issued_at FROM invoices r "
        "WHERE r.number = i.refers_to), s.timezone FROM invoices i JOIN stores s USING (store_id) "
        "WHERE i.number IN (SELECT unnest(?::VARCHAR[]))",
        [[t.number for t in found]],
    ).fetchall()
    heads = {str(r[0]): r for r in rows}
    ids = [int(r[1]) for r in rows]
    lines: dict[int, list[StoredLine]] = {}
    for r in con.execute(
        "SELECT invoice_id, line_no, line_kind, sku, name, quantity, unit_price_ht, vat_rate, total_ht, vat, "
        "total_ttc FROM invoice_lines WHERE invoice_id IN (SELECT unnest(?::BIGINT[])) ORDER BY invoice_id, line_no",
        [ids],
    ).fetchall():
        lines.setdefault(int(r[0]), []).append(
            StoredLine(int(r[1]), str(r[2]), str(r[3] or ""), str(r[4] or ""), int(r[5]), _dec(r[6]),
                       _dec(r[7]), _dec(r[8]), _dec(r[9]), _dec(r[10]))
        )  # fmt: skip
    vat: dict[int, list[tuple[Decimal, Decimal, Decimal]]] = {}
    for r in con.execute(
        "SELECT invoice_id, vat_rate, base_ht, vat FROM invoice_vat WHERE invoice_id IN (SELECT unnest(?::BIGINT[])) "
        "ORDER BY invoice_id, vat_rate DESC",
        [ids],
    ).fetchall():
        vat.setdefault(int(r[0]), []).append((_dec(r[1]), _dec(r[2]), _dec(r[3])))
    out = []
    for t in found:
        h = heads[t.number]
        buyer = orjson.loads(h[3]) if h[3] else {}
        refers_date = None
        if h[11] is not None:
            from zoneinfo import ZoneInfo

            refers_date = h[11].astimezone(ZoneInfo(str(h[12]))).date()
        out.append(
            StoredFiscal(
                ticket=t,
                kind=str(h[2]),
                buyer=buyer if isinstance(buyer, dict) else {},
                currency=str(h[4] or "EUR"),
                lines=tuple(lines.get(int(h[1]), [])),
                vat=tuple(vat.get(int(h[1]), [])),
                total_ht=_dec(h[5]),
                total_vat=_dec(h[6]),
                adjustment=_dec(h[7]),
                total_ttc=_dec(h[8]),
                paid=bool(h[9]),
                refers_to=str(h[10]) if h[10] else None,
                refers_to_date=refers_date,
            )
        )
    return out


def document_kind(con: Connection, number: str) -> str | None:
    """invoice, credit_note, delivery_note, or None when no such document is stored."""
    row = con.execute("SELECT kind FROM invoices WHERE number = ?", [number]).fetchall()
    if row:
        return str(row[0][0])
    if con.execute("SELECT 1 FROM shipments WHERE number = ?", [number]).fetchall():
        return "delivery_note"
    return None


def load_document(
    con: Connection, settings: ProcessingSettings, number: str, copy_number: int = 0
) -> StoredDocument:
    """One stored document by its number, or a plain refusal."""
    kind = document_kind(con, number)
    if kind == "delivery_note":
        note = tickets.delivery_note(con, settings, number, copy_number=copy_number)
        if note is not None:
            return note
    elif kind is not None:
        found = load_fiscal(con, settings, [number], copy_number)
        if found:
            return found[0]
    raise ProcessingError(
        f"no invoice, credit note or delivery note numbered {number}: check the number", number=number
    )


def load_documents(con: Connection, settings: ProcessingSettings, numbers: list[str]) -> list[StoredDocument]:
    """The originals of ``numbers``, in that order: invoices and credit notes read together."""
    kinds = {n: document_kind(con, n) for n in numbers}
    fiscal = {
        d.number: d for d in load_fiscal(con, settings, [n for n in numbers if kinds[n] != "delivery_note"])
    }
    return [fiscal[n] if n in fiscal else load_document(con, settings, n) for n in numbers]
