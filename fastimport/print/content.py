"""Ticket contents: what each ticket can show, as plain frozen dataclasses the processing room fills.

One dataclass per ticket kind; :mod:`fastimport.print.layout` decides how each is laid out,
:mod:`fastimport.processing.tickets` fills them from stored records.

Money is :class:`decimal.Decimal` everywhere (``Decimal("19.90")``), printed
French style (``19,90``).  Datetimes should be timezone-aware and in the
shop's local time: layouts print them as given.  Strings may come straight
from the shop: layouts sanitise them, so they may contain anything.

``copy_number`` is 0 for the original and ``n`` for the n-th reprint
(``DUPLICATA n``); :func:`fastimport.print.reprint.reprint` sets it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import ClassVar

ZERO = Decimal("0.00")


@dataclass(frozen=True, slots=True, kw_only=True)
class SlipLine:
    qty: int | Decimal
    sku: str
    name: str
    bin_location: str | None = None
    known: bool = True  # False: the article is not in the till's catalogue


@dataclass(frozen=True, slots=True, kw_only=True)
class PreparationSlip:
    """Internal picking slip (not a receipt, no prices)."""

    kind: ClassVar[str] = "preparation"

    order_number: str  # e.g. "10482"; printed "CMD WEB #10482", barcode "W10482"
    store: str
    source_platform: str  # "WooCommerce", "PrestaShop", ...
    order_date: datetime
    imported_at: datetime
    customer_name: str
    customer_phone: str | None = None
    shipping_method: str
    shipping_address: tuple[str, ...] = ()
    lines: tuple[SlipLine, ...]
    item_count: int
    weight_kg: Decimal | None = None
    customer_note: str | None = None
    payment_state: str  # e.g. "CB Stripe - PAYE"
    qr_content: str  # order id or back-office URL
    copy_number: int = 0

    @property
    def ref(self) -> str:
        return self.order_number


@dataclass(frozen=True, slots=True, kw_only=True)
class Seller:
    name: str
    legal_form: str  # "SARL", "SAS", ...
    capital: Decimal | None = None  # share capital in euros
    address: tuple[str, ...]
    rcs: str  # e.g. "RCS Lyon 123 456 789"
    siren: str
    siret: str
    vat_number: str  # intra-EU VAT number, "FR12123456789"


@dataclass(frozen=True, slots=True, kw_only=True)
class InvoiceLine:
    designation: str
    qty: int | Decimal
    unit_price_excl: Decimal
    unit_price_incl: Decimal
    total_incl: Decimal
    vat_rate: Decimal  # percent, Decimal("20.0")


@dataclass(frozen=True, slots=True, kw_only=True)
class VatAmount:
    rate: Decimal  # percent
    base_excl: Decimal
    vat: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class Payment:
    method: str  # "CB (web)", "Virement", ...
    date: date
    amount: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class FiscalTicket:
    """Fields shared by invoices and credit notes (use one of the two subclasses)."""

    kind: ClassVar[str] = "fiscal"
    title: ClassVar[str] = ""

    seller: Seller
    number: str  # "FA-2026-000042"
    issued_at: datetime
    sale_date: date
    till: str
    operator: str
    web_order_ref: str
    delivery_note_ref: str | None = None
    buyer_name: str
    buyer_address: tuple[str, ...] = ()
    buyer_vat_number: str | None = None
    buyer_siren: str | None = None
    lines: tuple[InvoiceLine, ...]
    vat_summary: tuple[VatAmount, ...]
    total_excl: Decimal
    total_vat: Decimal
    total_incl: Decimal
    rounding_adjustment: Decimal = ZERO
    payments: tuple[Payment, ...] = ()
    amount_due: Decimal = ZERO
    payment_terms: str = "Pas d'escompte pour paiement anticipé."
    b2b: bool = False
    software_name: str
    software_version: str
    signature_excerpt: str
    copy_number: int = 0
    currency: str = "EUR"  # ISO 4217 code of every amount on the ticket

    @property
    def ref(self) -> str:
        return self.number


@dataclass(frozen=True, slots=True, kw_only=True)
class InvoiceTicket(FiscalTicket):
    """A facture printed on the till's roll, with every legal mention."""

    kind: ClassVar[str] = "invoice"
    title: ClassVar[str] = "FACTURE"


@dataclass(frozen=True, slots=True, kw_only=True)
class CreditNoteTicket(FiscalTicket):
    """An avoir: its own number, the invoice it corrects, negative amounts (as negative Decimals)."""

    kind: ClassVar[str] = "credit_note"
    title: ClassVar[str] = "AVOIR"

    invoice_number: str  # the invoice this credit note corrects
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliveryLine:
    ref: str
    designation: str
    qty_shipped: int | Decimal
    qty_backordered: int | Decimal = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliveryNote:
    """Bon de livraison (BL), its own number series."""

    kind: ClassVar[str] = "delivery_note"

    number: str  # "BL-2026-000001"
    seller: Seller
    date: date
    web_order_ref: str
    delivery_name: str
    delivery_address: tuple[str, ...] = ()
    carrier: str
    tracking: str | None = None
    lines: tuple[DeliveryLine, ...]
    parcels: int
    total_items: int | Decimal
    copy_number: int = 0

    @property
    def ref(self) -> str:
        return self.number


@dataclass(frozen=True, slots=True, kw_only=True)
class ClosingTicket:
    """A closing (Z) of a day, month or year: frozen totals, the grand total and the anchored chain heads."""

    kind: ClassVar[str] = "closing"

    number: str  # "Z-eshop-000012"
    seller_name: str
    siret: str
    store: str
    period_kind: str  # "day", "month", "year"
    period: str  # "2026-04-02", "2026-04", "2026"
    closed_at: datetime
    automatic: bool = False
    invoices: int
    credit_notes: int
    lines: int
    vat: tuple[VatAmount, ...] = ()
    vat_ttc: tuple[Decimal, ...] = ()  # TTC per rate, in the order of ``vat``
    payments: tuple[tuple[str, int, Decimal], ...] = ()  # (method, count, TTC)
    credit_notes_ttc: Decimal = ZERO
    adjustment: Decimal = ZERO
    total_ht: Decimal
    total_vat: Decimal
    total_ttc: Decimal
    grand_total: Decimal
    grand_total_abs: Decimal
    heads: tuple[tuple[str, int, str], ...] = ()  # (series, last number, signature)
    signature: str
    software: str
    copy_number: int = 0

    @property
    def ref(self) -> str:
        return self.number


TicketContent = PreparationSlip | InvoiceTicket | CreditNoteTicket | DeliveryNote | ClosingTicket

DOCUMENT_KINDS: tuple[str, ...] = ("preparation", "invoice", "credit_note", "delivery_note", "closing")
