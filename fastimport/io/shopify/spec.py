"""What fastimport keeps of a Shopify Admin REST order (2025-07), and the finishing step.

Amounts are what is still owed after refunds and order edits: ``current_total_price`` and the
other ``current_*`` totals, and per line ``current_quantity``.  Shopify has no single order status:
the till keeps ``cancelled`` when ``cancelled_at`` is set, ``fulfilled`` when the order is
fulfilled, else the ``financial_status`` (``pending``, ``authorized``, ``paid``, ``refunded``...).
Orders without ``customer`` (guests) get customer id 0, as on WooCommerce.
"""

from __future__ import annotations

from decimal import Decimal

import pyarrow as pa
import pyarrow.compute as pc

from fastimport import _core_shared as sh
from fastimport.columns import FieldSpec, PageSpec
from fastimport.io.connector import Buyer, Refund, RefundLine
from fastimport.io.payload import Node

F = FieldSpec

SHOPIFY_PAGE = PageSpec(
    orders_path=("orders",),
    order_fields=(
        F("order_id", ("id",), "int", required=True),
        F("number", ("name",), "str"),
        F("shop_status", ("financial_status",), "str"),
        F("fulfillment_status", ("fulfillment_status",), "str"),
        F("cancelled_at", ("cancelled_at",), "datetime"),
        F("currency", ("currency",), "str"),
        F("created_at", ("created_at",), "datetime", required=True),
        F("modified_at", ("updated_at",), "datetime", required=True),
        F("paid_at", ("processed_at",), "datetime"),
        F("total", ("current_total_price",), "money", required=True),
        F("total_tax", ("current_total_tax",), "money"),
        F("shipping_total", ("total_shipping_price_set", "shop_money", "amount"), "money"),
        F("discount_total", ("current_total_discounts",), "money"),
        F("prices_include_tax", ("taxes_included",), "bool"),
        F("customer_id", ("customer", "id"), "int"),
        F("email", ("email",), "str"),
        F("first_name", ("billing_address", "first_name"), "str"),
        F("last_name", ("billing_address", "last_name"), "str"),
        F("company", ("billing_address", "company"), "str"),
        F("phone", ("billing_address", "phone"), "str"),
        F("ship_name", ("shipping_address", "last_name"), "str"),
        F("ship_address", ("shipping_address", "address1"), "str"),
        F("ship_postcode", ("shipping_address", "zip"), "str"),
        F("ship_city", ("shipping_address", "city"), "str"),
        F("ship_country", ("shipping_address", "country_code"), "str"),
        F("shipping_method", ("shipping_lines", 0, "code"), "str"),
        F("shipping_method_title", ("shipping_lines", 0, "title"), "str"),
        F("payment_method", ("payment_gateway_names", 0), "str"),
        F("payment_method_title", ("payment_gateway_names", 0), "str"),
        F("transaction_id", ("transaction_id",), "str"),  # not in the REST order: the gateway has it
        F("customer_note", ("note",), "str"),
    ),
    lines_path=("line_items",),
    line_fields=(
        F("line_id", ("id",), "int", required=True),
        F("product_id", ("product_id",), "int"),
        F("variation_id", ("variant_id",), "int"),
        F("sku", ("sku",), "str"),
        F("name", ("name",), "str"),
        F("quantity", ("current_quantity",), "int", required=True),
        F("ordered_quantity", ("quantity",), "int", required=True),
        F("unit_price", ("price",), "money", required=True),
        F("discount", ("discount_allocations", 0, "amount"), "money"),
        F("total_tax", ("tax_lines", 0, "price"), "money"),
        F("tax_class", ("tax_lines", 0, "title"), "str"),
    ),
)

_UNPAID = ("pending", "authorized", "voided")


def _share(amount: pa.Array, left: pa.Array, ordered: pa.Array) -> pa.Array:
    """``amount * left / ordered`` rounded half-up to the cent (amounts are int64 cents)."""
    same = pc.equal(left, ordered)
    scaled = pc.multiply(amount, left)
    safe = pc.if_else(pc.equal(ordered, 0), 1, ordered)
    rounded = pc.cast(
        pc.floor(pc.add(pc.divide(pc.cast(scaled, pa.float64()), pc.cast(safe, pa.float64())), 0.5)),
        pa.int64(),
    )
    return pc.if_else(same, amount, rounded)


# The largest line amount the sharing below computes exactly (it divides in float64: 2**53).
_LINE_LIMIT = float(2**52)


def _check_line_sizes(
    lines: pa.Table, left: pa.Array, ordered: pa.Array, price: pa.Array, discount: pa.Array, tax: pa.Array
) -> None:
    """Refuse, named, a line whose price x quantity (or discount, tax) is beyond any till amount:
    the arithmetic below would wrap around or lose cents instead of failing."""

    def size(values: pa.Array) -> pa.Array:
        return pc.abs(pc.cast(values, pa.float64(), safe=False))  # rounding is harmless for a bound

    biggest = pc.max_element_wise(pc.multiply(size(price), size(ordered)), size(discount), size(tax))
    scaled = pc.multiply(biggest, pc.max_element_wise(size(left), 1.0))
    over = pc.greater(pc.max_element_wise(scaled, size(ordered)), _LINE_LIMIT)
    if not pc.any(over).as_py():
        return
    at = pc.index(over, True).as_py()
    order_index, line_no = lines.column("order_index")[at].as_py(), lines.column("line_no")[at].as_py()
    rel = (*SHOPIFY_PAGE.lines_path, line_no, "quantity")
    raise sh.field_error(
        sh.E_MONEY_RANGE, SHOPIFY_PAGE.orders_path, order_index, rel, str(ordered[at].as_py())
    )


def adjust_shopify(orders: pa.Table, lines: pa.Table) -> tuple[pa.Table, pa.Table]:
    financial = orders.column("shop_status")
    status = pc.if_else(
        pc.is_valid(orders.column("cancelled_at")),
        "cancelled",
        pc.if_else(
            pc.equal(pc.fill_null(orders.column("fulfillment_status"), ""), "fulfilled"),
            "fulfilled",
            financial,
        ),
    )
    orders = orders.set_column(orders.schema.get_field_index("shop_status"), "shop_status", status)
    customer = pc.fill_null(orders.column("customer_id"), 0)
    orders = orders.set_column(orders.schema.get_field_index("customer_id"), "customer_id", customer)
    unpaid = pc.is_in(pc.fill_null(financial, "pending"), pa.array(_UNPAID))
    paid_at = pc.if_else(unpaid, pa.scalar(None, pa.int64()), orders.column("paid_at"))
    orders = orders.set_column(orders.schema.get_field_index("paid_at"), "paid_at", paid_at)
    if lines.num_rows == 0:
        orders = _shipping_before_tax(orders, lines.column("order_index"), pa.array([], pa.int64()))
        return orders, lines.append_column("total", pa.array([], pa.int64())).append_column(
            "subtotal", pa.array([], pa.int64())
        )
    left = lines.column("quantity").combine_chunks()
    ordered = lines.column("ordered_quantity").combine_chunks()
    price = lines.column("unit_price").combine_chunks()
    discount = pc.fill_null(lines.column("discount").combine_chunks(), 0)
    tax = pc.fill_null(lines.column("total_tax").combine_chunks(), 0)
    _check_line_sizes(lines, left, ordered, price, discount, tax)
    included = pc.take(pc.fill_null(orders.column("prices_include_tax"), False), lines.column("order_index"))
    gross = pc.subtract(pc.multiply(price, ordered), discount)
    # Taxes included (the French default): the line price holds the tax, take it out.
    net = pc.if_else(included, pc.subtract(gross, tax), gross)
    total = _share(net, left, ordered)
    subtotal = _share(
        pc.if_else(included, pc.subtract(pc.multiply(price, ordered), tax), pc.multiply(price, ordered)),
        left,
        ordered,
    )
    line_tax = _share(tax, left, ordered)
    lines = lines.set_column(lines.schema.get_field_index("total_tax"), "total_tax", line_tax)
    orders = _shipping_before_tax(orders, lines.column("order_index"), line_tax)
    return orders, lines.append_column("total", total).append_column("subtotal", subtotal)


def _shipping_before_tax(orders: pa.Table, order_index: pa.ChunkedArray, line_tax: pa.Array) -> pa.Table:
    """``total_shipping_price_set`` holds the shipping's VAT when ``taxes_included`` (as the line prices
    do): the till keeps shipping before tax, so take out the shipping's VAT, which is the order's VAT
    (``current_total_tax``) less its lines' VAT."""
    per_order = pa.table({"i": order_index, "t": line_tax}).group_by("i").aggregate([("t", "sum")])
    where = pc.index_in(
        pa.array(range(orders.num_rows), per_order.schema.field("i").type), per_order.column("i")
    )
    items_tax = pc.fill_null(pc.take(per_order.column("t_sum"), where), 0)
    shipping = pc.fill_null(orders.column("shipping_total"), 0)
    ship_tax = pc.max_element_wise(pc.subtract(pc.fill_null(orders.column("total_tax"), 0), items_tax), 0)
    ship_tax = pc.min_element_wise(ship_tax, pc.max_element_wise(shipping, 0))
    included = pc.fill_null(orders.column("prices_include_tax"), False)
    before = pc.if_else(included, pc.subtract(shipping, ship_tax), shipping)
    before = pc.if_else(pc.is_valid(orders.column("shipping_total")), before, orders.column("shipping_total"))
    return orders.set_column(orders.schema.get_field_index("shipping_total"), "shipping_total", before)


def buyer(payload: bytes) -> Buyer:
    """The billing address of a Shopify order; its shipping tax is the sum of its shipping lines' taxes."""
    order = Node.load(payload)
    address = order["billing_address"]
    taxes = [
        t["price"].money() for line in order["shipping_lines"].objects() for t in line["tax_lines"].objects()
    ]
    return Buyer(
        first_name=address["first_name"].text(),
        last_name=address["last_name"].text(),
        company=address["company"].text(),
        address_1=address["address1"].text(),
        address_2=address["address2"].text(),
        postcode=address["zip"].text(),
        city=address["city"].text(),
        country=address["country_code"].text(),
        email=order["email"].text(),
        vat_number=_note_attribute(order, ("vat_number", "vat number", "tva", "numero_tva")),
        siren=_note_attribute(order, ("siren",)),
        ship_first_name=order["shipping_address"]["first_name"].text(),
        refunded=_refunded_beyond_lines(order),
        shipping_tax=str(sum((t for t in taxes if t is not None), Decimal(0))) if taxes else None,
    )  # fmt: skip


def _refunded_beyond_lines(order: Node) -> str | None:
    """Money refunded beyond the refunded lines (a gesture: ``order_adjustments``, no line): the lines
    refunded are already out of ``current_quantity``, and every refund out of ``current_total_price``."""
    beyond = sum(
        (
            Decimal(r.amount) - sum((Decimal(li.amount) for li in r.lines), Decimal(0))
            for r in _refunds(order)
        ),
        Decimal(0),
    )
    return f"{beyond:.2f}" if beyond > 0 else None


def _note_attribute(order: Node, names: tuple[str, ...]) -> str | None:
    """A business buyer's VAT number or SIREN given at checkout (``note_attributes``, name matched loosely)."""
    for attr in order["note_attributes"].items():
        if attr.is_object() and str(attr.value.get("name") or "").strip().lower() in names:
            value = (attr["value"].text() or "").replace(" ", "").upper()
            if value:
                return value
    return None


def refunds(payload: bytes) -> tuple[Refund, ...]:
    """Each refund: the money given back (its successful ``refund`` transactions), and the lines it
    names (``refund_line_items``: line item id, quantity, subtotal + tax)."""
    return _refunds(Node.load(payload))


def _refunds(order: Node) -> tuple[Refund, ...]:
    out = []
    for r in order["refunds"].objects():
        lines = tuple(
            RefundLine(
                li["line_item_id"].integer(required=True) or 0, li["quantity"].integer() or 0,
                f"{(li['subtotal'].money() or 0) + (li['total_tax'].money() or 0):.2f}",
            )
            for li in r["refund_line_items"].objects()
        )  # fmt: skip
        paid = [
            t["amount"].money() or Decimal(0)
            for t in r["transactions"].objects()
            if t.value.get("kind") == "refund" and t.value.get("status") == "success"
        ]
        amount = sum(paid, Decimal(0)) if paid else sum((Decimal(li.amount) for li in lines), Decimal(0))
        if amount > 0:
            out.append(Refund(r["id"].integer(required=True) or 0, f"{amount:.2f}", r["note"].text(), lines))
    return tuple(out)
