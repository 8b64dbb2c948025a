"""What fastimport keeps of a WooCommerce REST v3 order (the field mapping).

The connector owns this mapping; the parsing core only follows it.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

import orjson

from fastimport.columns import FieldSpec, PageSpec
from fastimport.io.connector import Buyer, Fee, Refund, RefundLine
from fastimport.io.refund_lines import FETCHED_REFUNDS_KEY, LineRefund, cents, money

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

    order = orjson.loads(payload)
    billing = order.get("billing") or {}

    def text(value: Any) -> str | None:
        return None if value in (None, "") else str(value)

    return Buyer(
        **{k: text(billing.get(k)) for k in ("first_name", "last_name", "company", "address_1", "address_2",
                                             "postcode", "city", "country", "email")},
        **_business_ids(order),
        shipping_tax=text(order.get("shipping_tax")),
        ship_first_name=text((order.get("shipping") or {}).get("first_name")),
        refunded=_refunded(payload),
        refunds_in_total=True,  # WooCommerce's ``total`` keeps refunds, listed apart as negative totals
        fees=tuple(
            Fee(text(f.get("name")), str(f.get("total") or "0"), str(f.get("total_tax") or "0"), text(f.get("tax_class")))
            for f in order.get("fee_lines") or ()
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


def _business_ids(order: dict[str, Any]) -> dict[str, str | None]:
    """A business buyer's VAT number and SIREN, from the order's ``meta_data`` (or ``billing``)."""
    meta = {str(m.get("key")): m.get("value") for m in order.get("meta_data") or () if isinstance(m, dict)}
    billing = order.get("billing") or {}

    def first(keys: tuple[str, ...]) -> str | None:
        for key in keys:
            value = meta.get(key) or billing.get(key.lstrip("_").removeprefix("billing_"))
            if isinstance(value, str) and value.strip():
                return value.strip().replace(" ", "").upper()
        return None

    return {"vat_number": first(_VAT_KEYS), "siren": first(_SIREN_KEYS)}


def _refunded(payload: bytes) -> str | None:
    """Money refunded beyond the refunded lines: the lines the connector read from /orders/<id>/refunds are
    already out of the order's lines and total (:mod:`fastimport.io.refund_lines`); without them, all of it."""
    beyond = sum(
        (
            Decimal(r.amount) - sum((Decimal(li.amount) for li in r.lines), Decimal(0))
            for r in refunds(payload)
        ),
        Decimal(0),
    )
    return f"{beyond:.2f}" if beyond > 0 else None


def refunds(payload: bytes) -> tuple[Refund, ...]:
    """The order's ``refunds`` (id, reason, negative total), with their lines when the connector read them
    from /orders/<id>/refunds (the payload alone carries none)."""
    order = orjson.loads(payload)
    fetched = {int(r.get("id") or 0): r for r in order.get(FETCHED_REFUNDS_KEY) or () if isinstance(r, dict)}
    out = []
    for r in order.get("refunds") or ():
        try:
            amount = -Decimal(str(r.get("total") or "0"))
        except InvalidOperation:
            continue
        if amount > 0:
            full = fetched.get(int(r.get("id") or 0), {})
            lines = tuple(
                RefundLine(part.line_id, part.quantity, money(part.net + part.tax))
                for part in _line_parts(full)
            )
            out.append(Refund(int(r.get("id") or 0), f"{amount:.2f}", r.get("reason") or None, lines))
    return tuple(out)


def _line_parts(refund: dict[str, Any]) -> list[LineRefund]:
    """A refund's ``line_items`` (negative quantities and amounts; the order line in ``_refunded_item_id``)."""
    out = []
    for item in refund.get("line_items") or ():
        meta = {str(m.get("key")): m.get("value") for m in item.get("meta_data") or () if isinstance(m, dict)}
        line = str(meta.get("_refunded_item_id") or "")
        if line.isdigit():
            out.append(LineRefund(int(line), -int(item.get("quantity") or 0), -cents(item.get("total")),
                                  -cents(item.get("total_tax"))))  # fmt: skip
    return out


def line_refunds(fetched: bytes) -> list[LineRefund]:
    """Every line part of the refunds fetched for one order (a JSON list, as /orders/<id>/refunds answers)."""
    found = orjson.loads(fetched)
    return (
        [part for r in found if isinstance(r, dict) for part in _line_parts(r)]
        if isinstance(found, list)
        else []
    )
