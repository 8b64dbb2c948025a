"""What fastimport keeps of a WooCommerce REST v3 order (the field mapping).

The connector owns this mapping; the parsing core only follows it.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import orjson

from fastimport.columns import FieldSpec, PageSpec
from fastimport.io.connector import Buyer, Fee, Refund, RefundLine, buyer_from
from fastimport.io.payload import Node
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
    try:
        order = orjson.loads(payload)
    except orjson.JSONDecodeError:
        order = None
    if type(order) is dict:
        try:
            return _plain_buyer(order)
        except _NotPlain:
            pass
    return _node_buyer(Node.load(payload))


def _node_buyer(order: Node) -> Buyer:
    """:func:`buyer` through :class:`Node`: any order, every refusal worded with its field's path."""
    billing = order["billing"]

    def amount(value: Decimal | None) -> str:
        return "0" if value is None else str(value)

    return Buyer(
        **{k: billing[k].text() for k in _BILLING},
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


_BILLING = (
    "first_name",
    "last_name",
    "company",
    "address_1",
    "address_2",
    "postcode",
    "city",
    "country",
    "email",
)


class _NotPlain(Exception):
    """A value the plain reader leaves to :func:`_node_buyer` (which reads it or words its refusal)."""


def _plain_buyer(order: dict[str, Any]) -> Buyer:
    """:func:`_node_buyer` for the common order, read straight from orjson's dict: an invoice batch reads
    every order's buyer, and one :class:`Node` per field was a seventh of its time.  It gives the same
    Buyer; anything else (fee lines, refunds, a value of an unexpected type) raises :class:`_NotPlain`."""
    if not (_nothing(order.get("fee_lines")) and _nothing(order.get("refunds"))
            and _nothing(order.get(FETCHED_REFUNDS_KEY))):  # fmt: skip
        raise _NotPlain
    billing = _object(order.get("billing"))
    meta: dict[str, Any] = {}
    found = order.get("meta_data")
    if found is not None:
        if type(found) is not list:
            raise _NotPlain
        for m in found:
            if _nothing(m):
                continue
            if type(m) is not dict:
                raise _NotPlain
            meta[str(m.get("key"))] = m.get("value")

    def first(keys: tuple[tuple[str, str], ...]) -> str | None:  # as in _business_ids
        for key, billing_key in keys:
            value = meta.get(key) if meta else None
            if not value:
                value = billing.get(billing_key)
            if type(value) is str and value.strip():
                return value.strip().replace(" ", "").upper()
        return None

    # Most buyers have neither meta nor an id field in their billing: nothing for first() to find.
    ids = bool(meta) or not billing.keys().isdisjoint(_ID_FIELDS)
    return buyer_from(  # Buyer's fields, in order
        (
            _text(billing.get("first_name")),
            _text(billing.get("last_name")),
            _text(billing.get("company")),
            _text(billing.get("address_1")),
            _text(billing.get("address_2")),
            _text(billing.get("postcode")),
            _text(billing.get("city")),
            _text(billing.get("country")),
            _text(billing.get("email")),
            first(_VAT_PAIRS) if ids else None,  # vat_number
            first(_SIREN_PAIRS) if ids else None,  # siren
            _text(order.get("shipping_tax")),
            (),  # fees: none here
            _text(_object(order.get("shipping")).get("first_name")),
            None,  # refunded: none here
            True,  # refunds_in_total
        )
    )


def _nothing(value: Any) -> bool:
    """Null, missing or PHP's empty array (:meth:`Node.absent`)."""
    return value is None or (type(value) is list and not value)


def _object(value: Any) -> dict[str, Any]:
    if type(value) is dict:
        return value
    if _nothing(value):
        return {}
    raise _NotPlain


def _text(value: Any) -> str | None:
    """:meth:`Node.text` of a value orjson read (its strings are valid UTF-8: orjson refuses a lone surrogate)."""
    if type(value) is str:
        return value or None
    if _nothing(value):
        return None
    if type(value) is bool:
        return "true" if value else "false"
    if type(value) is int or type(value) is float:
        return str(value)
    raise _NotPlain


# Order meta keys the common EU VAT plug-ins write, and the SIREN some French shops add at checkout.
_VAT_KEYS = (
    "_billing_vat_number",
    "billing_vat_number",
    "_vat_number",
    "vat_number",
    "_billing_eu_vat_number",
)
_SIREN_KEYS = ("_billing_siren", "billing_siren", "siren")
# Each key with the billing field read when the meta is missing or empty (``_business_ids``' lookup).
_VAT_PAIRS = tuple((k, k.lstrip("_").removeprefix("billing_")) for k in _VAT_KEYS)
_SIREN_PAIRS = tuple((k, k.lstrip("_").removeprefix("billing_")) for k in _SIREN_KEYS)
_ID_FIELDS = frozenset(field for _, field in (*_VAT_PAIRS, *_SIREN_PAIRS))


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
    """Money refunded beyond the refunded lines: the lines the connector read from /orders/<id>/refunds are
    already out of the order's lines and total (:mod:`fastimport.io.refund_lines`); without them, all of it."""
    beyond = sum(
        (
            Decimal(r.amount) - sum((Decimal(li.amount) for li in r.lines), Decimal(0))
            for r in _refunds(order)
        ),
        Decimal(0),
    )
    return f"{beyond:.2f}" if beyond > 0 else None


def refunds(payload: bytes) -> tuple[Refund, ...]:
    """The order's ``refunds`` (id, reason, negative total), with their lines when the connector read them
    from /orders/<id>/refunds (the payload alone carries none)."""
    return _refunds(Node.load(payload))


def _refunds(order: Node) -> tuple[Refund, ...]:
    fetched = {r["id"].integer() or 0: r for r in order[FETCHED_REFUNDS_KEY].objects()}
    out = []
    for r in order["refunds"].objects():
        amount = -(r["total"].money() or Decimal(0))
        if amount > 0:
            refund_id = r["id"].integer() or 0
            full = fetched.get(refund_id)
            lines = tuple(
                RefundLine(part.line_id, part.quantity, money(part.net + part.tax))
                for part in (_line_parts(full) if full is not None else ())
            )
            out.append(Refund(refund_id, f"{amount:.2f}", r["reason"].text(), lines))
    return tuple(out)


def _line_parts(refund: Node) -> list[LineRefund]:
    """A refund's ``line_items`` (negative quantities and amounts; the order line in
    ``_refunded_item_id``): a bad value is a ParseError naming its path."""
    out = []
    for item in refund["line_items"].objects():
        meta = {m["key"].text(): m["value"] for m in item["meta_data"].objects()}
        line = meta.get("_refunded_item_id")
        line_id = line.integer() if line is not None else None
        if line_id is not None:
            out.append(LineRefund(line_id, -(item["quantity"].integer() or 0),
                                  -_cents(item["total"]), -_cents(item["total_tax"])))  # fmt: skip
    return out


def _cents(node: Node) -> int:
    return cents(node.money() or 0)


def line_refunds(fetched: bytes, order: int) -> list[LineRefund]:
    """Every line part of the refunds fetched for ``order`` (a JSON list, as /orders/<id>/refunds
    answers), read as the stored order will hold them: a bad value is a ParseError with its path."""
    return [
        part for r in Node.under(fetched, FETCHED_REFUNDS_KEY, order).objects() for part in _line_parts(r)
    ]
