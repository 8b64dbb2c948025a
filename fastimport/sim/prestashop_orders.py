"""One PrestaShop Webservice order (JSON output, ``display=full``), shaped like PrestaShop/docs orders.md.

Built from the same generated order as the WooCommerce rendering.  As in captured PrestaShop
JSON, ``id`` is an integer and every other scalar a string (``"102.000000"``, ``"0"``); dates are
``YYYY-MM-DD HH:MM:SS`` on the shop's wall clock, ``0000-00-00 00:00:00`` when unset.
Guests get a customer row of their own with ``is_guest`` = ``"1"``.
"""

from __future__ import annotations

import random
import string
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from fastimport.sim.clock import SiteClock, fmt
from fastimport.sim.orders import OrderState
from fastimport.sim.prestashop_addresses import ADDRESS_BASE
from fastimport.sim.shopify_orders import cents

UNSET = "0000-00-00 00:00:00"
GUEST_BASE = 500_000  # guest customer ids: base + order id
CURRENCY_EUR = 1
# WooCommerce status -> PrestaShop default order state id (Commandes > États)
STATE_OF = {
    "pending": 1,  # Awaiting check payment
    "on-hold": 10,  # Awaiting bank wire payment
    "processing": 2,  # Payment accepted
    "completed": 5,  # Delivered
    "cancelled": 6,  # Canceled
    "refunded": 7,  # Refunded
    "failed": 8,  # Payment error
}
STATUS_OF = {state: status for status, state in STATE_OF.items()} | {3: "processing", 4: "completed"}
STATE_NAMES = {
    1: "En attente du paiement par chèque",
    2: "Paiement accepté",
    3: "En cours de préparation",
    4: "Expédié",
    5: "Livré",
    6: "Annulé",
    7: "Remboursé",
    8: "Erreur de paiement",
    10: "En attente de virement bancaire",
}
_MODULES = {
    "stripe": ("stripe_official", "Carte bancaire"),
    "paypal": ("paypal", "PayPal"),
    "bacs": ("ps_wirepayment", "Virement bancaire"),
    "cheque": ("ps_checkpayment", "Chèque"),
}
_SIX = Decimal("0.000001")
_CENT = Decimal("0.01")


def ps_money(value: int | Decimal) -> str:
    """Cents (int) or an exact amount in euros (Decimal) -> "12.340000"."""
    amount = Decimal(value) / 100 if isinstance(value, int) else value
    return str(amount.quantize(_SIX, ROUND_HALF_UP))


def ps_date(clock: SiteClock, ts: int | None) -> str:
    return UNSET if ts is None else fmt(clock.local(ts)).replace("T", " ")


def reference(oid: int) -> str:
    rng = random.Random(oid * 7 + 11)
    return "".join(rng.choice(string.ascii_uppercase) for _ in range(9))


def row_amounts(unit_excl: str, unit_incl: str, qty: int) -> tuple[Decimal, Decimal]:
    """(total excl. tax, tax) of a row, to the cent: how the till reads a PrestaShop row."""
    excl = (Decimal(unit_excl) * qty).quantize(_CENT, ROUND_HALF_UP)
    incl = (Decimal(unit_incl) * qty).quantize(_CENT, ROUND_HALF_UP)
    return excl, incl - excl


def customer_id(w: dict[str, Any]) -> int:
    return int(w["customer_id"]) or GUEST_BASE + int(w["id"])


def render_prestashop(w: dict[str, Any], st: OrderState, clock: SiteClock) -> dict[str, Any]:
    oid = st.id
    state = STATE_OF.get(st.status, 2)
    rows = []
    products_excl = products_incl = 0
    for li in w["line_items"]:
        qty = li["quantity"]
        gross = cents(li["subtotal"]) + cents(li["subtotal_tax"])
        excl = Decimal(cents(li["subtotal"])) / 100 / qty
        products_excl += cents(li["subtotal"])
        products_incl += gross
        rows.append(
            {
                "id": str(li["id"]),
                "product_id": str(li["product_id"]),
                "product_attribute_id": str(li["variation_id"]),
                "product_quantity": str(qty),
                "product_name": li["name"],
                "product_reference": li["sku"],
                "product_ean13": "",
                "product_isbn": "",
                "product_upc": "",
                "product_price": ps_money(excl),
                "id_customization": "0",
                "unit_price_tax_incl": ps_money(gross // qty),
                "unit_price_tax_excl": ps_money(excl),
            }
        )
    disc_incl = cents(w["discount_total"]) + cents(w["discount_tax"])
    ship_excl, ship_tax = cents(w["shipping_total"]), cents(w["shipping_tax"])
    total, tax = cents(w["total"]), cents(w["total_tax"])
    paid = w["date_paid_gmt"] is not None
    module, payment = _MODULES.get(w["payment_method"], ("ps_checkpayment", "Chèque"))
    invoiced = state in (2, 4, 5, 7)
    address = ADDRESS_BASE + oid  # the invoice address: /api/addresses (prestashop_addresses)
    return {
        "id": oid,
        "id_address_delivery": str(address),
        "id_address_invoice": str(address),
        "id_cart": str(oid + 3000),
        "id_currency": str(CURRENCY_EUR),
        "id_lang": "1",
        "id_customer": str(customer_id(w)),
        "id_carrier": "2" if w["shipping_lines"][0]["method_id"] != "local_pickup" else "1",
        "current_state": str(state),
        "module": module,
        "invoice_number": str(oid - 1000) if invoiced else "0",
        "invoice_date": ps_date(clock, st.created + 60) if invoiced else UNSET,
        "delivery_number": str(oid - 1000) if state == 5 else "0",
        "delivery_date": ps_date(clock, st.modified) if state == 5 else UNSET,
        "valid": "1" if paid else "0",
        "date_add": ps_date(clock, st.created),
        "date_upd": ps_date(clock, st.modified),
        "shipping_number": "",
        "note": w["customer_note"],
        "id_shop_group": "1",
        "id_shop": "1",
        "secure_key": w["cart_hash"],
        "payment": payment,
        "recyclable": "0",
        "gift": "0",
        "gift_message": "",
        "mobile_theme": "0",
        "total_discounts": ps_money(disc_incl),
        "total_discounts_tax_incl": ps_money(disc_incl),
        "total_discounts_tax_excl": ps_money(cents(w["discount_total"])),
        "total_paid": ps_money(total),
        "total_paid_tax_incl": ps_money(total),
        "total_paid_tax_excl": ps_money(total - tax),
        "total_paid_real": ps_money(total if paid else 0),
        "total_products": ps_money(products_excl),
        "total_products_wt": ps_money(products_incl),
        "total_shipping": ps_money(ship_excl + ship_tax),
        "total_shipping_tax_incl": ps_money(ship_excl + ship_tax),
        "total_shipping_tax_excl": ps_money(ship_excl),
        "carrier_tax_rate": "20.000",
        "total_wrapping": "0.000000",
        "total_wrapping_tax_incl": "0.000000",
        "total_wrapping_tax_excl": "0.000000",
        "round_mode": "2",
        "round_type": "2",
        "conversion_rate": "1.000000",
        "reference": reference(oid),
        "associations": {"order_rows": rows},
    }


def truth_lines(ps: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for row in ps["associations"]["order_rows"]:
        excl, tax = row_amounts(
            row["unit_price_tax_excl"], row["unit_price_tax_incl"], int(row["product_quantity"])
        )
        out.append(
            {
                "sku": row["product_reference"],
                "quantity": int(row["product_quantity"]),
                "total": str(excl),
                "total_tax": str(tax),
            }
        )
    return out
