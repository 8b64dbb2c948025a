"""What fastimport keeps of a WooCommerce REST v3 order (the field mapping).

The connector owns this mapping; the parsing core only follows it.
"""

from __future__ import annotations

from decimal import Decimal

from fastimport.columns import FieldSpec, PageSpec
from fastimport.io.connector import Buyer, Fee, Refund
from fastimport.io.payload import Node

F = FieldSpec

WOOCOMMERCE_PAGE = PageSpec(
    orders_path=(),
    order_fields=(
        F("order_id", ("id",), "int", required=True),
        F("number", ("number",), "str"),
        F("shop_status", ("status",), "str", required=True),
        F("currency", ("currency",), "str"),
        F("created_at", ("date_created_gmt",), "datetime", required=True),
        F("modified_at", ("date_modified_gmt",), "datetime", required=True),
        F("paid_at", ("date_paid_gmt",), "datetime"),
        F("total", ("total",), "money", required=True),
        F("total_tax", ("total_tax",), "money"),
        F("shipping_total", ("shipping_total",), "money"),
        F("discount_total", ("discount_total",), "money"),
        F("prices_include_tax", ("prices_include_tax",), "bool"),
        F("customer_id", ("customer_id",), "int"),
        F("email", ("billing", "email"), "str"),
        F("first_name", ("billing", "first_name"), "str"),
        F("last_name", ("billing", "last_name"), "str"),
        F("company", ("billing", "company"), "str"),
        F("phone", ("billing", "phone"), "str"),
        F("ship_name", ("shipping", "last_name"), "str"),
        F("ship_address", ("shipping", "address_1"), "str"),
        F("ship_postcode", ("shipping", "postcode"), "str"),
        F("ship_city", ("shipping", "city"), "str"),
        F("ship_country", ("shipping", "country"), "str"),
        F("shipping_method", ("shipping_lines", 0, "method_id"), "str"),
        F("shipping_method_title", ("shipping_lines", 0, "method_title"), "str"),
        F("payment_method", ("payment_method",), "str"),
        F("payment_method_title", ("payment_method_title",), "str"),
        F("transaction_id", ("transaction_id",), "str"),
        F("customer_note", ("customer_note",), "str"),
    ),
    lines_path=("line_items",),
    line_fields=(
        F("line_id", ("id",), "int", required=True),
        F("product_id", ("product_id",), "int"),
        F("variation_id", ("variation_id",), "int"),
        F("sku", ("sku",), "str"),
        F("name", ("name",), "str"),
        F("quantity", ("quantity",), "int", required=True),
        F("unit_price", ("price",), "money"),
        F("subtotal", ("subtotal",), "money"),
        F("total", ("total",), "money", required=True),
        F("total_tax", ("total_tax",), "money"),
        F("tax_class", ("tax_class",), "str"),
    ),
)


def buyer(payload: bytes) -> Buyer:
    """The billing address, shipping tax and fee lines of a WooCommerce order."""
    order = Node.load(payload)
    billing = order["billing"]

    def amount(value: Decimal | None) -> str:
        return "0" if value is None else str(value)

    return Buyer(
        **{k: billing[k].text() for k in ("first_name", "last_name", "company", "address_1", "address_2",
                                          "postcode", "city", "country", "email")},
        **_business_ids(order),
        shipping_tax=order["shipping_tax"].text(),
        ship_first_name=order["shipping"]["first_name"].text(),
        refunded=_refunded(order),
        refunds_in_total=True,  # WooCommerce's ``total`` keeps refunds, listed apart as negative totals
        fees=tuple(
            Fee(f["name"].text(), amount(f["total"].money()), amount(f["total_tax"].money()), f["tax_class"].text())
            for f in order["fee_lines"].objects()
        ),
    )  # fmt: skip


# Order meta keys the common EU VAT plug-ins write, and the SIREN some French shops add at checkout.
_VAT_KEYS = (
    "_billing_vat_number",
    "billing_vat_number",
    "_vat_number",
    "vat_number",
    "_billing_eu_vat_number",
)
_SIREN_KEYS = ("_billing_siren", "billing_siren", "siren")


def _business_ids(order: Node) -> dict[str, str | None]:
    """A business buyer's VAT number and SIREN, from the order's ``meta_data`` (or ``billing``)."""
    meta = {str(m["key"].value): m["value"] for m in order["meta_data"].objects()}
    billing = order["billing"]

    def first(keys: tuple[str, ...]) -> str | None:
        for key in keys:
            found = meta.get(key)
            if found is None or not found.value:
                found = billing[key.lstrip("_").removeprefix("billing_")]
            if isinstance(found.value, str) and found.value.strip():
                return (found.text() or "").strip().replace(" ", "").upper()
        return None

    return {"vat_number": first(_VAT_KEYS), "siren": first(_SIREN_KEYS)}


def _refunded(order: Node) -> str | None:
    """All the order's refunds: the payload carries no line for them (only /orders/<id>/refunds has)."""
    amounts = [Decimal(r.amount) for r in _refunds(order)]
    return f"{sum(amounts, Decimal(0)):.2f}" if amounts else None


def refunds(payload: bytes) -> tuple[Refund, ...]:
    """The order's ``refunds`` (id, reason, negative total); their lines are only at /orders/<id>/refunds."""
    return _refunds(Node.load(payload))


def _refunds(order: Node) -> tuple[Refund, ...]:
    out = []
    for r in order["refunds"].objects():
        amount = -(r["total"].money() or Decimal(0))
        if amount > 0:
            out.append(Refund(r["id"].integer() or 0, f"{amount:.2f}", r["reason"].text()))
    return tuple(out)
