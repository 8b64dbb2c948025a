"""Layouts: how each ticket looks, one pure function per kind, content + paper → :class:`Ticket`.

Change the look of an invoice ticket here (:func:`layout_fiscal`); what it shows is the
:class:`~fastimport.print.content.InvoiceTicket` that :mod:`fastimport.processing.tickets` fills.

Everything is laid out with spaces to the paper's column count (no printer
alignment for text), so the text preview is exactly what the printer prints.
All text is sanitised and mapped to the paper's code page on the way in.
"""

from __future__ import annotations

import textwrap
from datetime import date, datetime
from decimal import Decimal

from fastimport.print.content import (
    ClosingTicket,
    CreditNoteTicket,
    DeliveryNote,
    FiscalTicket,
    PreparationSlip,
    TicketContent,
)
from fastimport.print.text import code_page_text, currency_symbol, money, quantity, rate, sanitise
from fastimport.print.ticket import Barcode, Cut, Op, Paper, QRCode, Text, Ticket

NOT_A_RECEIPT = "Justificatif non valable pour encaissement"
# The most a QR code holds here: at level M and 5 dots a module, version 13 (311 bytes) is 345 dots
# wide, within a 58 mm roll's 384; beyond, qrcode (PNG preview) gives up at version 40 anyway.
QR_MAX_BYTES = 300


class _Builder:
    def __init__(self, paper: Paper) -> None:
        self.paper = paper
        self.width = paper.columns
        self._text = code_page_text(paper.codec)
        self.ops: list[Op] = []

    # -- text helpers -------------------------------------------------------
    def fit(self, value: object, *, keep_newlines: bool = False) -> str:
        if value is None:
            return ""
        return self._text.fit(value, keep_newlines=keep_newlines).strip(" ")

    def _wrap(
        self, text: str, width: int, *, initial: str = "", subsequent: str = "", limit: int | None = None
    ) -> list[str]:
        """Wrapped lines; at most ``limit`` of them, the last ending with "..." when text was cut."""
        lines: list[str] = []
        for paragraph in text.split("\n"):
            wrapped = textwrap.wrap(
                paragraph,
                width,
                initial_indent=initial,
                subsequent_indent=subsequent,
                break_long_words=True,
                break_on_hyphens=False,
            )
            lines.extend(wrapped or [""])
            if limit is not None and len(lines) > limit:
                break
        if limit is not None and len(lines) > limit:
            lines = lines[:limit]
            lines[-1] = lines[-1][: max(0, width - 3)].rstrip() + "..."
        return lines

    def _emit(self, text: str, *, bold: bool = False) -> None:
        self.ops.append(Text(text.ljust(self.width), bold=bold))

    # -- building blocks ----------------------------------------------------
    def para(
        self,
        value: object,
        *,
        lead: int = 0,
        indent: int = 0,
        bold: bool = False,
        keep_newlines: bool = True,
        shop: bool = False,
    ) -> None:
        """Left-aligned text, wrapped; first line indented ``lead``, the next ones ``indent``.

        ``shop``: text from the shop (a name, a note), cut to the paper's ``max_text_lines``.
        """
        text = self.fit(value, keep_newlines=keep_newlines)
        limit = self.paper.max_text_lines if shop else None
        for line in self._wrap(text, self.width, initial=" " * lead, subsequent=" " * indent, limit=limit):
            self._emit(line, bold=bold)

    def label(self, label: str, *values: object, bold: bool = False, shop: bool = False) -> None:
        """``Client : Marie DURAND`` with later lines aligned under the value (``shop``: see :meth:`para`)."""
        head = self.fit(label) + " "
        pieces = [self.fit(v, keep_newlines=True) for v in values if v is not None and self.fit(v)]
        if len(head) > self.width // 2:
            self._emit(head.rstrip(), bold=bold)
            head = "  "
        indent = len(head)
        if not pieces:
            if head.strip():
                self._emit(head.rstrip(), bold=bold)
            return
        first = True
        for piece in pieces:
            limit = self.paper.max_text_lines if shop else None
            for line in self._wrap(piece, self.width - indent, limit=limit):
                self._emit((head if first else " " * indent) + line, bold=bold)
                first = False

    def center(self, value: object, *, bold: bool = False, double: bool = False, shop: bool = False) -> None:
        text = self.fit(value, keep_newlines=True)
        limit = self.paper.max_text_lines if shop else None
        if double and all(len(line) <= self.paper.half for line in text.split("\n")):
            for line in text.split("\n"):
                self.ops.append(Text(line.center(self.paper.half), bold=bold, double=True))
            return
        for line in self._wrap(text, self.width, limit=limit):
            self.ops.append(Text(line.center(self.width), bold=bold))

    def lr(self, left: object, right: object, *, bold: bool = False, shop: bool = False) -> None:
        """``left`` on the left, ``right`` right-aligned; two lines when both do not fit (``shop``: see :meth:`para`)."""
        lt = self._text.fit(left).rstrip(" ")  # a leading indent is kept
        rt = self.fit(right)
        if len(lt) + len(rt) + 1 <= self.width:
            self._emit(lt + " " * (self.width - len(lt) - len(rt)) + rt, bold=bold)
            return
        limit = self.paper.max_text_lines if shop else None
        for line in self._wrap(lt, self.width, limit=limit):
            self._emit(line, bold=bold)
        for line in self._wrap(rt, self.width, limit=limit):
            self.ops.append(Text(line.rjust(self.width), bold=bold))

    def rule(self, char: str = "-") -> None:
        self.ops.append(Text(char * self.width))

    def blank(self) -> None:
        self.ops.append(Text(" " * self.width))

    def code(self, data: str) -> None:
        """A CODE128 barcode when it fits the paper, else a QR code."""
        clean = sanitise(data)
        if self.paper.code128_fits(clean):
            self.ops.append(Barcode(clean))
        else:
            self.qr(clean)

    def qr(self, data: str) -> None:
        clean = sanitise(data)
        if not clean:
            return
        if len(clean.encode("utf-8")) > QR_MAX_BYTES:  # a shop's overlong URL: its text, cut, not a QR
            self.para(clean, shop=True)
        elif self.paper.native_qr:
            self.ops.append(QRCode(clean))
        else:
            self.para(clean)

    def ticket(self, kind: str, ref: str, copy_number: int) -> Ticket:
        self.ops.append(Cut())
        ticket = Ticket(kind=kind, ref=ref, paper=self.paper, ops=tuple(self.ops), copy_number=copy_number)
        ticket.check()
        return ticket


def _d(value: date | datetime) -> str:
    return value.strftime("%d/%m/%Y")


def _dt(value: datetime) -> str:
    return value.strftime("%d/%m/%Y %H:%M")


def _copy_mention(copy_number: int) -> str:
    return "ORIGINAL" if copy_number <= 0 else f"DUPLICATA {copy_number}"


def _capital(value: Decimal) -> str:
    if value == value.to_integral_value():
        return money(value).rsplit(",", 1)[0]
    return money(value)


# ---------------------------------------------------------------------------


def layout_preparation(slip: PreparationSlip, paper: Paper) -> Ticket:
    b = _Builder(paper)
    b.center("** PRÉPARATION **", bold=True)
    b.center(f"CMD WEB #{slip.order_number}", bold=True, double=True, shop=True)
    b.code(f"W{slip.order_number}")
    if slip.copy_number > 0:
        b.center(_copy_mention(slip.copy_number), bold=True)
    b.lr(f"Boutique: {slip.store}", slip.order_date.strftime("%d/%m/%y %H:%M"))
    b.lr(f"Import: {slip.imported_at.strftime('%d/%m/%y %H:%M')}", f"Source: {slip.source_platform}")
    b.rule()
    b.label("Client :", slip.customer_name, shop=True)
    if slip.customer_phone:
        b.label("Tél    :", slip.customer_phone, shop=True)
    b.label("Livr.  :", slip.shipping_method, *slip.shipping_address, shop=True)
    b.rule()
    b.lr("Qté Réf / Désignation", "Empl. [ ]")
    b.rule()
    for line in slip.lines:
        sku = line.sku if line.known else f"???-{line.sku}"
        where = line.bin_location if line.bin_location and line.known else "-----"
        b.lr(f"{quantity(line.qty)} x {b.fit(sku)}", f"{b.fit(where)} [ ]", bold=not line.known, shop=True)
        b.para(line.name, lead=4, indent=4, keep_newlines=False, shop=True)
        if not line.known:
            b.para("! ARTICLE INCONNU EN CAISSE !", lead=4, indent=4, bold=True)
    b.rule()
    weight = (
        f"Poids: {str(slip.weight_kg.quantize(Decimal('0.01'))).replace('.', ',')} kg"
        if slip.weight_kg
        else ""
    )
    b.lr(f"Articles: {slip.item_count}", weight)
    if slip.customer_note and b.fit(slip.customer_note):
        b.label("Note client:", slip.customer_note, bold=True, shop=True)
    b.label("Paiement:", slip.payment_state, shop=True)
    b.rule()
    b.lr("Préparé par: ____", "Contrôle: ____")
    b.center(NOT_A_RECEIPT)
    b.qr(slip.qr_content)
    return b.ticket(slip.kind, slip.ref, slip.copy_number)


def _seller_block(b: _Builder, doc: FiscalTicket) -> None:
    s = doc.seller
    b.center(s.name, bold=True)
    for line in s.address:
        b.center(line)
    if s.capital is not None:
        b.center(f"{s.legal_form} au capital de {_capital(s.capital)} €")
    else:
        b.center(s.legal_form)
    b.center(f"{s.rcs} - SIREN {s.siren}")
    b.center(f"SIRET {s.siret} - TVA {s.vat_number}")


def _vat_codes(doc: FiscalTicket) -> dict[Decimal, int]:
    rates: list[Decimal] = [v.rate for v in doc.vat_summary]
    for line in doc.lines:
        if line.vat_rate not in rates:
            rates.append(line.vat_rate)
    return {r: i + 1 for i, r in enumerate(rates)}


def layout_fiscal(doc: FiscalTicket, paper: Paper) -> Ticket:
    """Invoice or credit note ticket, with every legal mention."""
    b = _Builder(paper)
    _seller_block(b, doc)
    b.rule("=")
    b.center(doc.title, bold=True, double=True)
    b.center(f"N° {doc.number}", bold=True)
    b.center(_copy_mention(doc.copy_number), bold=doc.copy_number > 0)
    b.lr(f"Émise le {_dt(doc.issued_at)}", f"Caisse {doc.till}")
    b.lr(f"Date de vente: {_d(doc.sale_date)}", f"Vend.: {doc.operator}")
    b.lr(f"Cde web #{doc.web_order_ref}", doc.delivery_note_ref or "", shop=True)
    if isinstance(doc, CreditNoteTicket):
        b.label("Avoir sur facture", doc.invoice_number, bold=True)
        b.label("Motif:", doc.reason, shop=True)
    b.label("Client:", doc.buyer_name, *doc.buyer_address, shop=True)
    if doc.buyer_vat_number:
        b.label("TVA client:", doc.buyer_vat_number, shop=True)
    if doc.buyer_siren:
        b.label("SIREN client:", doc.buyer_siren, shop=True)
    b.rule()
    codes = _vat_codes(doc)
    b.lr("Désignation / Qté x PU", "Total TTC Tx")
    b.rule()
    for line in doc.lines:
        b.para(line.designation, indent=2, keep_newlines=False, shop=True)
        left = (
            f"  {quantity(line.qty)} x {money(line.unit_price_incl)} TTC (HT {money(line.unit_price_excl)})"
        )
        b.lr(left, f"{money(line.total_incl)} T{codes[line.vat_rate]}")
    b.rule()
    b.lr("TOTAL HT", money(doc.total_excl))
    for vat in doc.vat_summary:
        b.lr(f"T{codes[vat.rate]} TVA {rate(vat.rate)} base HT {money(vat.base_excl)}", money(vat.vat))
    b.lr("TOTAL TVA", money(doc.total_vat))
    if doc.rounding_adjustment:
        b.lr("Arrondi", money(doc.rounding_adjustment))
    symbol = currency_symbol(doc.currency)
    if doc.currency.upper() != "EUR":  # the ISO code and its symbol, once, above the total
        b.lr("Devise", f"{doc.currency.upper()} ({symbol})" if symbol != doc.currency.upper() else symbol)
    b.lr("TOTAL TTC", f"{money(doc.total_incl)} {symbol}", bold=True)
    for payment in doc.payments:
        verb = "Remboursé" if payment.amount < 0 else "Réglé"
        b.lr(f"{verb} {payment.method} le {_d(payment.date)}", money(payment.amount), shop=True)
    b.lr("Reste dû", money(doc.amount_due), bold=bool(doc.amount_due))
    b.rule()
    if doc.payment_terms:
        b.para(doc.payment_terms)
    if doc.b2b:
        b.para(
            "Pénalités de retard: 3 fois le taux d'intérêt légal. "
            "Indemnité forfaitaire pour frais de recouvrement: 40 €."
        )
    b.rule()
    b.lr(_copy_mention(doc.copy_number), f"Lignes: {len(doc.lines)}", bold=True)
    b.lr(f"Logiciel {doc.software_name} v{doc.software_version}", f"Op: {doc.operator}")
    b.label("Signature:", doc.signature_excerpt)
    b.qr(doc.number)
    return b.ticket(doc.kind, doc.ref, doc.copy_number)


def layout_delivery(note: DeliveryNote, paper: Paper) -> Ticket:
    b = _Builder(paper)
    b.center("BON DE LIVRAISON", bold=True, double=True)
    b.center(note.number, bold=True)
    if note.copy_number > 0:
        b.center(_copy_mention(note.copy_number), bold=True)
    b.center(note.seller.name)
    for address_line in note.seller.address:
        b.center(address_line)
    b.center(f"SIRET {note.seller.siret}")
    b.rule()
    b.lr(f"Date: {_d(note.date)}", f"Cde web: #{note.web_order_ref}", shop=True)
    b.label("Livrer à:", note.delivery_name, *note.delivery_address, shop=True)
    b.lr(f"Transport: {note.carrier}", f"Suivi: {note.tracking}" if note.tracking else "", shop=True)
    b.rule()
    b.lr("Réf / Désignation", "Qté livrée")
    b.rule()
    for line in note.lines:
        b.lr(line.ref, quantity(line.qty_shipped), shop=True)
        b.para(line.designation, lead=2, indent=2, keep_newlines=False, shop=True)
        if line.qty_backordered:
            b.para(f"Reliquat à livrer: {quantity(line.qty_backordered)}", lead=2, indent=2)
    b.rule()
    b.lr(f"Nombre de colis: {note.parcels}", f"Total articles: {quantity(note.total_items)}")
    b.blank()
    b.para("Réserves à la réception: ______________")
    b.blank()
    b.code(note.number)
    return b.ticket(note.kind, note.ref, note.copy_number)


_PERIODS = {"day": "JOURNEE", "month": "MOIS", "year": "ANNEE"}


def layout_closing(z: ClosingTicket, paper: Paper) -> Ticket:
    """The Z ticket: period totals per VAT rate and payment method, grand totals, anchored heads."""
    b = _Builder(paper)
    b.center(f"CLOTURE {_PERIODS.get(z.period_kind, z.period_kind.upper())} (Z)", bold=True, double=True)
    b.center(z.number, bold=True)
    if z.copy_number > 0:
        b.center(_copy_mention(z.copy_number), bold=True)
    b.center(z.seller_name)
    b.center(f"SIRET {z.siret}")
    b.rule("=")
    b.lr(f"Période: {z.period}", f"Boutique: {z.store}")
    b.lr(f"Clôturé le {_dt(z.closed_at)}", "automatique" if z.automatic else "")
    b.rule()
    b.lr(f"Factures: {z.invoices}", f"Avoirs: {z.credit_notes}")
    b.lr(f"Lignes: {z.lines}", f"Avoirs TTC: {money(z.credit_notes_ttc)}")
    b.rule()
    b.lr("Taux   base HT / TVA", "TTC")
    for v, ttc in zip(z.vat, z.vat_ttc, strict=True):
        b.lr(f"{rate(v.rate)} {money(v.base_excl)} / {money(v.vat)}", money(ttc))
    if z.adjustment:
        b.lr("Ajustements d'arrondi", money(z.adjustment))
    b.lr("TOTAL HT", money(z.total_ht))
    b.lr("TOTAL TVA", money(z.total_vat))
    b.lr("TOTAL TTC", money(z.total_ttc), bold=True)
    b.rule()
    for method, count, ttc in z.payments:
        b.lr(f"{method} ({count})", money(ttc))
    b.rule()
    b.lr("Grand total perpétuel", money(z.grand_total), bold=True)
    b.lr("Grand total (valeurs absolues)", money(z.grand_total_abs))
    b.rule()
    b.para("Têtes de chaîne ancrées:")
    for series, seq, signature in z.heads:
        b.lr(f"{series} #{seq}", signature[:12])
    b.rule()
    b.lr(z.software, f"Sig. {z.signature[:4]}...{z.signature[-4:]}")
    b.code(z.number)
    return b.ticket(z.kind, z.ref, z.copy_number)


def layout(document: TicketContent, paper: Paper) -> Ticket:
    """The ticket for any document."""
    if isinstance(document, ClosingTicket):
        return layout_closing(document, paper)
    if isinstance(document, PreparationSlip):
        return layout_preparation(document, paper)
    if isinstance(document, FiscalTicket):
        return layout_fiscal(document, paper)
    if isinstance(document, DeliveryNote):
        return layout_delivery(document, paper)
    raise TypeError(f"cannot lay out a {type(document).__name__}")
