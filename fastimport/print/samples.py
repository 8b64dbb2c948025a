"""Sample documents (the mock-ups of invoicing-fr.md §5.3): test pages, tests and benchmarks."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

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

PARIS = timezone(timedelta(hours=2), "CEST")
D = Decimal

SELLER = Seller(
    name="SARL Boutique Exemple",
    legal_form="SARL",
    capital=D("10000"),
    address=("3 place Bellecour", "69002 Lyon"),
    rcs="RCS Lyon 123 456 789",
    siren="123 456 789",
    siret="123 456 789 00012",
    vat_number="FR12 123456789",
)


def sample_invoice(
    number: int = 4211, *, customer: str = "Marie DURAND", copy_number: int = 0
) -> InvoiceTicket:
    lines = (
        InvoiceLine(
            designation="T-shirt bleu taille M",
            qty=2,
            unit_price_excl=D("16.58"),
            unit_price_incl=D("19.90"),
            total_incl=D("39.80"),
            vat_rate=D("20.0"),
        ),
        InvoiceLine(
            designation="Mug céramique « Lyon » 33cl — édition œuvre…",
            qty=1,
            unit_price_excl=D("8.25"),
            unit_price_incl=D("9.90"),
            total_incl=D("9.90"),
            vat_rate=D("20.0"),
        ),
        InvoiceLine(
            designation="Port Colissimo",
            qty=1,
            unit_price_excl=D("4.08"),
            unit_price_incl=D("4.90"),
            total_incl=D("4.90"),
            vat_rate=D("20.0"),
        ),
    )
    issued = datetime(2026, 5, 16, 10, 15, tzinfo=PARIS)
    return InvoiceTicket(
        seller=SELLER,
        number=f"FA-2026-{number:06d}",
        issued_at=issued,
        sale_date=date(2026, 5, 16),
        till="02",
        operator="CL",
        web_order_ref="10482",
        delivery_note_ref="BL-2026-000317",
        buyer_name=customer,
        buyer_address=("12 rue des Lilas", "69003 LYON"),
        lines=lines,
        vat_summary=(VatAmount(rate=D("20.0"), base_excl=D("45.50"), vat=D("9.10")),),
        total_excl=D("45.50"),
        total_vat=D("9.10"),
        total_incl=D("54.60"),
        payments=(Payment(method="CB (web)", date=date(2026, 5, 16), amount=D("54.60")),),
        amount_due=D("0.00"),
        software_name="fastimport",
        software_version="0.1.0",
        signature_excerpt="8F3A...C91E",
        copy_number=copy_number,
    )


def sample_credit_note(number: int = 12) -> CreditNoteTicket:
    return CreditNoteTicket(
        seller=SELLER,
        number=f"AV-2026-{number:06d}",
        issued_at=datetime(2026, 5, 20, 14, 2, tzinfo=PARIS),
        sale_date=date(2026, 5, 16),
        till="02",
        operator="CL",
        web_order_ref="10482",
        buyer_name="Marie DURAND",
        buyer_address=("12 rue des Lilas", "69003 LYON"),
        lines=(
            InvoiceLine(
                designation="Mug céramique 33cl (cassé)",
                qty=-1,
                unit_price_excl=D("8.25"),
                unit_price_incl=D("9.90"),
                total_incl=D("-9.90"),
                vat_rate=D("20.0"),
            ),
        ),
        vat_summary=(VatAmount(rate=D("20.0"), base_excl=D("-8.25"), vat=D("-1.65")),),
        total_excl=D("-8.25"),
        total_vat=D("-1.65"),
        total_incl=D("-9.90"),
        payments=(Payment(method="CB (web)", date=date(2026, 5, 20), amount=D("-9.90")),),
        software_name="fastimport",
        software_version="0.1.0",
        signature_excerpt="77B0...01AD",
        invoice_number="FA-2026-004211",
        reason="Article arrivé cassé",
    )


def sample_slip(order_number: str = "10482", *, customer: str = "Marie DURAND") -> PreparationSlip:
    return PreparationSlip(
        order_number=order_number,
        store="eshop-lyon",
        source_platform="Woo",
        order_date=datetime(2026, 5, 16, 9, 41, tzinfo=PARIS),
        imported_at=datetime(2026, 5, 16, 10, 2, tzinfo=PARIS),
        customer_name=customer,
        customer_phone="06 12 34 56 78",
        shipping_method="Colissimo Domicile",
        shipping_address=("12 rue des Lilas", "69003 LYON"),
        lines=(
            SlipLine(qty=2, sku="TSH-BLU-M", name="T-shirt bleu taille M", bin_location="A3-02"),
            SlipLine(qty=1, sku="MUG-001", name="Mug céramique 33cl", bin_location="B1-10"),
            SlipLine(qty=1, sku="NEW42", name="Bougie parfumée à la figue — grand modèle", known=False),
        ),
        item_count=4,
        weight_kg=D("0.95"),
        customer_note="Laisser chez le gardien\nmerci !",
        payment_state="CB Stripe - PAYÉ",
        qr_content=f"https://eshop-lyon.example/admin/orders/{order_number}",
    )


def sample_delivery_note(number: int = 317) -> DeliveryNote:
    return DeliveryNote(
        number=f"BL-2026-{number:06d}",
        seller=SELLER,
        date=date(2026, 5, 16),
        web_order_ref="10482",
        delivery_name="Marie DURAND",
        delivery_address=("12 rue des Lilas", "69003 LYON"),
        carrier="Colissimo",
        tracking="6A12345678901",
        lines=(
            DeliveryLine(ref="TSH-BLU-M", designation="T-shirt bleu M", qty_shipped=2),
            DeliveryLine(ref="MUG-001", designation="Mug céramique 33cl", qty_shipped=1, qty_backordered=1),
        ),
        parcels=1,
        total_items=3,
    )
