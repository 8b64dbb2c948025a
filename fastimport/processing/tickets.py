"""What goes on each ticket: stored records → the print room's ticket contents.

The one place that decides which stored value fills which field of a preparation slip,
invoice, credit note or delivery note ticket (legal mentions, payment lines, signature
excerpt...).  How those fields are laid out on paper is :mod:`fastimport.print.layout`;
when tickets are queued, and reprints, is :mod:`fastimport.processing.printing`.

The print room (``fastimport.print``) knows tickets, not orders: this module
reads what processing stored (invoices and credit notes with their frozen
seller and buyer, orders and their lines, shipments) and builds the frozen
dataclasses of :mod:`fastimport.print.content`.  Everything comes from the
stored, signed record, so a reprint is identical to the original apart from
its ORIGINAL / DUPLICATA mention.  Times are printed in the store's time zone.

Bulk loaders (``fiscal_tickets``) take a list of numbers and use three queries
whatever their count, so a batch of 2,000 invoices is mapped inside its chunk
transaction without a query per invoice.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

import orjson

from fastimport import __version__
from fastimport.errors import ParseError
from fastimport.io.registry import buyer_of, display_name
from fastimport.print.content import (
    CreditNoteTicket,
    DeliveryLine,
    DeliveryNote,
    InvoiceLine,
    InvoiceTicket,
    Payment,
    PreparationSlip,
    Seller,
    SlipLine,
    VatAmount,
)
from fastimport.processing.settings import ProcessingSettings
from fastimport.store.db import Connection

SOFTWARE_NAME = "fastimport"
SOFTWARE_VERSION = __version__
ZERO = Decimal("0.00")
CENT = Decimal("0.01")
CREDIT_NOTE_TERMS = "Avoir à valoir ou remboursé par le moyen de paiement d'origine."


# -- small helpers ---------------------------------------------------------------------------------


def signature_excerpt(signature: str) -> str:
    """``8f3a…c91e`` → ``8F3A...C91E`` (first and last 4 characters)."""
    sig = signature.upper()
    return f"{sig[:4]}...{sig[-4:]}" if len(sig) > 8 else sig


def order_qr(store: str, order_id: int) -> str:
    """What the slip's QR code holds: ``store:order id`` (what the till scans to open the order)."""
    return f"{store}:{order_id}"


def _local(moment: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(zone)


def _split_address(text: str) -> tuple[str, ...]:
    return tuple(p.strip() for p in re.split(r"[,\n]", text) if p.strip())


def _capital(text: str) -> Decimal | None:
    digits = re.sub(r"[^\d,.]", "", text).replace(",", ".")
    if not digits:
        return None
    try:
        return Decimal(digits)
    except InvalidOperation:
        return None


def seller_from_identity(identity: Mapping[str, Any]) -> Seller:
    """The print room's seller block from a seller identity (the invoice's frozen JSON, as a dict)."""
    legal_form = str(identity.get("legal_form") or "")
    capital_text = str(identity.get("capital") or "")
    capital = _capital(capital_text) if capital_text else None
    if capital_text and capital is None:  # "capital variable", ...: keep the words
        legal_form = f"{legal_form} au capital de {capital_text}"
    return Seller(
        name=str(identity.get("name") or ""),
        legal_form=legal_form,
        capital=capital,
        address=_split_address(str(identity.get("address") or "")),
        rcs=str(identity.get("rcs") or ""),
        siren=str(identity.get("siren") or ""),
        siret=str(identity.get("siret") or ""),
        vat_number=str(identity.get("vat_number") or ""),
    )


def seller_from_json(frozen: str) -> Seller:
    data = orjson.loads(frozen)
    return seller_from_identity(data if isinstance(data, dict) else {})


def _postal(postcode: Any, city: Any, country: Any) -> tuple[str, ...]:
    out = []
    town = " ".join(str(p) for p in (postcode, city) if p)
    if town:
        out.append(town)
    if country and str(country).upper() not in ("FR", "FRANCE"):
        out.append(str(country))
    return tuple(out)


# -- invoices and credit notes ---------------------------------------------------------------------

_FISCAL_SQL = """
SELECT i.invoice_id, i.kind, i.number, i.issued_at, s.name, s.timezone, i.order_id, i.order_number,
       i.refers_to, i.reason, i.seller, i.buyer, i.total_ht, i.total_vat, i.adjustment, i.total_ttc,
       i.payment_method, i.payment_title, i.paid_at, i.actor, i.signature, i.currency
FROM invoices i JOIN stores s USING (store_id)
WHERE i.number IN (SELECT unnest(?::VARCHAR[]))
"""


def fiscal_tickets(
    con: Connection,
    settings: ProcessingSettings,
    numbers: Sequence[str],
    *,
    copy_number: int = 0,
) -> list[InvoiceTicket | CreditNoteTicket]:
    """The tickets of these invoices / credit notes, in the order of ``numbers`` (unknown numbers skipped)."""
    if not numbers:
        return []
    headers = con.execute(_FISCAL_SQL, [list(numbers)]).fetchall()
    if not headers:
        return []
    ids = [int(h[0]) for h in headers]
    lines: dict[int, list[tuple[Any, ...]]] = {}
    for row in con.execute(
        "SELECT invoice_id, line_kind, name, quantity, unit_price_ht, vat_rate, total_ttc FROM invoice_lines "
        "WHERE invoice_id IN (SELECT unnest(?::BIGINT[])) ORDER BY invoice_id, line_no",
        [ids],
    ).fetchall():
        lines.setdefault(int(row[0]), []).append(row)
    vat: dict[int, list[tuple[Any, ...]]] = {}
    for row in con.execute(
        "SELECT invoice_id, vat_rate, base_ht, vat FROM invoice_vat WHERE invoice_id IN (SELECT unnest(?::BIGINT[])) "
        "ORDER BY invoice_id, vat_rate DESC",
        [ids],
    ).fetchall():
        vat.setdefault(int(row[0]), []).append(row)
    by_number = {
        str(h[2]): _fiscal(h, lines.get(int(h[0]), []), vat.get(int(h[0]), []), settings, copy_number)
        for h in headers
    }
    return [by_number[n] for n in numbers if n in by_number]


def _fiscal(
    h: tuple[Any, ...],
    line_rows: list[tuple[Any, ...]],
    vat_rows: list[tuple[Any, ...]],
    settings: ProcessingSettings,
    copy_number: int,
) -> InvoiceTicket | CreditNoteTicket:
    zone = ZoneInfo(str(h[5]))
    issued = _local(h[3], zone)
    paid_at = _local(h[18], zone) if h[18] is not None else None
    buyer = orjson.loads(h[11]) if h[11] else {}
    name = str(buyer.get("name") or "").strip()
    company = str(buyer.get("company") or "").strip()
    address: tuple[str, ...] = ()
    if company and name:
        address += (company,)
    if buyer.get("address"):
        address += (str(buyer["address"]),)
    address += _postal(buyer.get("postcode"), buyer.get("city"), buyer.get("country"))
    printed_lines = []
    for row in line_rows:
        if row[1] == "adjustment":
            continue  # printed as the rounding line under the totals
        qty = int(row[3])
        total = Decimal(row[6])
        printed_lines.append(
            InvoiceLine(
                designation=str(row[2] or ""),
                qty=qty,
                unit_price_excl=Decimal(row[4]),
                unit_price_incl=(total / qty).quantize(CENT) if qty else total,
                total_incl=total,
                vat_rate=Decimal(row[5]),
            )
        )
    total_ttc = Decimal(h[15])
    kind = str(h[1])
    payments: tuple[Payment, ...] = ()
    due = total_ttc
    if kind == "invoice" and paid_at is not None:
        payments = (
            Payment(method=settings.payment_label(h[16], h[17]), date=paid_at.date(), amount=total_ttc),
        )
        due = ZERO
    if kind == "credit_note":
        due = ZERO
    common: dict[str, Any] = {
        "seller": seller_from_json(str(h[10])),
        "number": str(h[2]),
        "issued_at": issued,
        "sale_date": (paid_at or issued).date(),
        "till": str(h[4]),
        "operator": str(h[19]),
        "web_order_ref": str(h[7] or h[6]),
        "buyer_name": name or company,
        "buyer_address": address,
        "lines": tuple(printed_lines),
        "vat_summary": tuple(
            VatAmount(rate=Decimal(r[1]), base_excl=Decimal(r[2]), vat=Decimal(r[3])) for r in vat_rows
        ),
        "total_excl": Decimal(h[12]),
        "total_vat": Decimal(h[13]),
        "total_incl": total_ttc,
        "rounding_adjustment": Decimal(h[14]),
        "payments": payments,
        "amount_due": due,
        "b2b": bool(company),
        "software_name": SOFTWARE_NAME,
        "software_version": SOFTWARE_VERSION,
        "signature_excerpt": signature_excerpt(str(h[20])),
        "copy_number": copy_number,
        "currency": str(h[21] or "EUR"),
    }
    if kind == "credit_note":
        return CreditNoteTicket(
            **common, payment_terms=CREDIT_NOTE_TERMS, invoice_number=str(h[8]), reason=str(h[9] or "")
        )
    return InvoiceTicket(**common)


def invoice_ticket(con: Connection, settings: ProcessingSettings, number: str) -> InvoiceTicket | None:
    found = fiscal_tickets(con, settings, [number])
    return found[0] if found and isinstance(found[0], InvoiceTicket) else None


def credit_note_ticket(con: Connection, settings: ProcessingSettings, number: str) -> CreditNoteTicket | None:
    found = fiscal_tickets(con, settings, [number])
    return found[0] if found and isinstance(found[0], CreditNoteTicket) else None


def _recipient(con: Connection, platform: str, store_id: int, order_id: int, last_name: object) -> str | None:
    """The shipping recipient's full name: the stored ship_name is the last name only, the first name
    is read from the kept payload ("Noémie Leroy", not "Leroy")."""
    if not last_name:
        return None
    from fastimport.store.raw import payload

    first = None
    blob = payload(con, store_id, order_id)
    if blob:
        try:
            first = buyer_of(platform, blob).ship_first_name
        except ParseError:  # a payload this platform cannot read: keep the last name
            first = None
    return " ".join(str(p).strip() for p in (first, last_name) if p and str(p).strip())


# -- preparation slips -----------------------------------------------------------------------------

_ORDER_SQL = """
SELECT o.store_id, s.name, s.platform, s.timezone, o.order_id, o.number, o.created_at, o.imported_at,
       o.first_name, o.last_name, o.company, o.phone, o.shipping_method, o.shipping_method_title, o.ship_name,
       o.ship_address, o.ship_postcode, o.ship_city, o.ship_country, o.customer_note, o.paid_at,
       o.payment_method, o.payment_method_title
FROM orders o JOIN stores s USING (store_id) WHERE o.store_id = ? AND o.order_id = ?
"""


def preparation_slip(
    con: Connection,
    settings: ProcessingSettings,
    store_id: int,
    order_id: int,
    *,
    copy_number: int = 0,
) -> PreparationSlip | None:
    """The picking slip of one order; lines the till's catalogue does not know are marked unknown."""
    rows = con.execute(_ORDER_SQL, [store_id, order_id]).fetchall()
    if not rows:
        return None
    o = rows[0]
    zone = ZoneInfo(str(o[3]))
    lines = con.execute(
        "SELECT l.sku, l.name, l.quantity, coalesce(f.unknown_article, false) FROM order_lines l "
        "LEFT JOIN line_flags f USING (store_id, order_id, line_no) WHERE l.store_id = ? AND l.order_id = ? "
        "ORDER BY l.line_no",
        [store_id, order_id],
    ).fetchall()
    recipient = _recipient(con, str(o[2]), store_id, order_id, o[14])
    customer = " ".join(str(p) for p in (o[8], o[9]) if p) or str(o[10] or recipient or "")
    ship_to: tuple[str, ...] = ()
    if recipient and recipient not in customer:  # shipped to someone else
        ship_to += (recipient,)
    if o[15]:
        ship_to += (str(o[15]),)
    ship_to += _postal(o[16], o[17], o[18])
    label = settings.payment_label(o[21], o[22])
    payment_state = f"{label} - {'PAYÉ' if o[20] is not None else 'NON PAYÉ'}"
    return PreparationSlip(
        order_number=str(o[5] or o[4]),
        store=str(o[1]),
        source_platform=display_name(str(o[2])),
        order_date=_local(o[6], zone),
        imported_at=_local(o[7], zone),
        customer_name=customer,
        customer_phone=str(o[11]) if o[11] else None,
        shipping_method=str(o[13] or o[12] or "?"),
        shipping_address=ship_to,
        lines=tuple(
            SlipLine(qty=int(r[2]), sku=str(r[0] or ""), name=str(r[1] or ""), known=not r[3]) for r in lines
        ),
        item_count=sum(int(r[2]) for r in lines),
        customer_note=str(o[19]) if o[19] else None,
        payment_state=payment_state,
        qr_content=order_qr(str(o[1]), int(o[4])),
        copy_number=copy_number,
    )


def slip_for_ref(con: Connection, settings: ProcessingSettings, ref: str) -> PreparationSlip | None:
    """A slip by what it prints as its reference (the order number, or the order id)."""
    params: list[Any] = [ref]
    where = "number = ?"
    if ref.strip().isdigit():
        where += " OR (number IS NULL AND order_id = ?)"
        params.append(int(ref))
    rows = con.execute(
        f"SELECT store_id, order_id FROM orders WHERE {where} ORDER BY store_id, order_id LIMIT 1", params
    ).fetchall()
    return preparation_slip(con, settings, int(rows[0][0]), int(rows[0][1])) if rows else None


# -- delivery notes --------------------------------------------------------------------------------

_SHIPMENT_SQL = """
SELECT sh.number, sh.shipped_at, sh.carrier, sh.tracking, sh.parcels, sh.items, sh.invoice_number, s.timezone,
       o.order_id, o.number, o.ship_name, o.ship_address, o.ship_postcode, o.ship_city, o.ship_country,
       o.first_name, o.last_name, sh.store_id,
       (SELECT seller FROM invoices i WHERE i.number = sh.invoice_number), (SELECT invoice_id FROM invoices i
        WHERE i.number = sh.invoice_number), s.platform
FROM shipments sh JOIN stores s USING (store_id)
JOIN orders o ON o.store_id = sh.store_id AND o.order_id = sh.order_id
WHERE sh.number = ?
"""


def delivery_note(
    con: Connection, settings: ProcessingSettings, number: str, *, copy_number: int = 0
) -> DeliveryNote | None:
    """The delivery note (BL) of one shipment: what was invoiced (less what was credited), shipped."""
    rows = con.execute(_SHIPMENT_SQL, [number]).fetchall()
    if not rows:
        return None
    r = rows[0]
    zone = ZoneInfo(str(r[7]))
    if r[19] is not None:
        items = con.execute(
            "SELECT l.sku, l.name, l.quantity + coalesce((SELECT sum(c.quantity) FROM invoice_lines c JOIN invoices "
            "ci USING (invoice_id) WHERE ci.refers_to = ? AND c.source_line_no = l.line_no), 0) FROM invoice_lines l "
            "WHERE l.invoice_id = ? AND l.line_kind = 'item' ORDER BY l.line_no",
            [r[6], r[19]],
        ).fetchall()
    else:
        items = con.execute(
            "SELECT sku, name, quantity FROM order_lines WHERE store_id = ? AND order_id = ? ORDER BY line_no",
            [r[17], r[8]],
        ).fetchall()
    items = [i for i in items if int(i[2]) > 0]
    if r[18] is not None:
        seller = seller_from_json(str(r[18]))
    else:
        seller = seller_from_identity(settings.require_seller().as_dict())
    recipient = _recipient(con, str(r[20]), int(r[17]), int(r[8]), r[10])
    name = recipient or " ".join(str(p) for p in (r[15], r[16]) if p)
    address = ((str(r[11]),) if r[11] else ()) + _postal(r[12], r[13], r[14])
    return DeliveryNote(
        number=str(r[0]),
        seller=seller,
        date=_local(r[1], zone).date(),
        web_order_ref=str(r[9] or r[8]),
        delivery_name=name,
        delivery_address=address,
        carrier=str(r[2]),
        tracking=str(r[3]) if r[3] else None,
        lines=tuple(
            DeliveryLine(ref=str(i[0] or "-"), designation=str(i[1] or ""), qty_shipped=int(i[2]))
            for i in items
        ),
        parcels=int(r[4]),
        total_items=sum(int(i[2]) for i in items) if items else int(r[5]),
        copy_number=copy_number,
    )
