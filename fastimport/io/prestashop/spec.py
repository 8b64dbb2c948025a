"""What fastimport keeps of a PrestaShop Webservice order, and the finishing step.

PrestaShop sends every scalar but ``id`` as a string (the core reads ``"12"`` as an int and
``"102.000000"`` as money) and dates on the shop's wall clock without offset: the finishing step
reads them in the store's time zone (``assume_timezone``; in the autumn's repeated hour the earlier
instant is taken, as nothing in the payload tells them apart).  The status kept is the order-state
id (``current_state``: 2 payment accepted, 3 processing, 4 shipped...), except the shop's cancelled,
refunded and payment-error states (``PS_OS_CANCELED``, ``PS_OS_REFUND``, ``PS_OS_ERROR``), kept as
the words ``cancelled``, ``refunded``, ``failed`` so credit notes follow as on the other platforms.  Rows carry unit prices only,
before the order's vouchers: a line's total is ``unit_price_tax_excl`` x quantity to the cent.
Customers and currencies come by id: the connector looks them up and the finishing step fills them in;
the invoice address (company, VAT number, ``dni``) comes by id too, and the connector writes it into
the order it keeps (``INVOICE_ADDRESS``), where :func:`buyer` reads it.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, localcontext

import pyarrow as pa
import pyarrow.compute as pc

from fastimport import _core_shared as sh
from fastimport.columns import FieldSpec, PageSpec
from fastimport.io.connector import Buyer, Refund, RefundLine
from fastimport.io.payload import Node
from fastimport.io.refund_lines import FETCHED_REFUNDS_KEY, LineRefund, cents, money

F = FieldSpec
# Where the connector puts each order's invoice address (read from /api/addresses) in its payload.
INVOICE_ADDRESS = "fastimport_invoice_address"

PRESTASHOP_PAGE = PageSpec(
    orders_path=("orders",),
    order_fields=(
        F("order_id", ("id",), "int", required=True),
        F("number", ("reference",), "str"),
        F("shop_status", ("current_state",), "str", required=True),
        F("id_currency", ("id_currency",), "int"),
        F("created_at", ("date_add",), "datetime", required=True),
        F("modified_at", ("date_upd",), "datetime", required=True),
        F("paid_at", ("invoice_date",), "datetime"),
        F("total", ("total_paid_tax_incl",), "money", required=True),
        F("total_paid_tax_excl", ("total_paid_tax_excl",), "money"),
        F("shipping_total", ("total_shipping_tax_excl",), "money"),
        F("discount_total", ("total_discounts_tax_excl",), "money"),
        F("customer_id", ("id_customer",), "int"),
        F("company", (INVOICE_ADDRESS, "company"), "str"),
        F("shipping_method", ("id_carrier",), "str"),
        F("payment_method", ("module",), "str"),
        F("payment_method_title", ("payment",), "str"),
        F("customer_note", ("note",), "str"),
    ),
    lines_path=("associations", "order_rows"),
    line_fields=(
        F("line_id", ("id",), "int", required=True),
        F("product_id", ("product_id",), "int"),
        F("variation_id", ("product_attribute_id",), "int"),
        F("sku", ("product_reference",), "str"),
        F("name", ("product_name",), "str"),
        F("quantity", ("product_quantity",), "int", required=True),
        F("unit_price", ("unit_price_tax_incl",), "money"),
        # Checked as an amount by the core, so that the row total below can be computed.
        F("unit_price_excl", ("unit_price_tax_excl",), "money"),
        F("unit_excl_text", ("unit_price_tax_excl",), "str"),
        F("unit_incl_text", ("unit_price_tax_incl",), "str"),
    ),
)

# Columns the store expects that a PrestaShop order does not carry: filled by adjust_prestashop.
_ORDER_FILL = {
    "currency": pa.string(),
    "total_tax": pa.int64(),
    "prices_include_tax": pa.bool_(),
    "email": pa.string(),
    "first_name": pa.string(),
    "last_name": pa.string(),
    "phone": pa.string(),
    "ship_name": pa.string(),
    "ship_address": pa.string(),
    "ship_postcode": pa.string(),
    "ship_city": pa.string(),
    "ship_country": pa.string(),
    "shipping_method_title": pa.string(),
    "transaction_id": pa.string(),
}
_CENT = Decimal("0.01")


def local_to_utc(column: pa.ChunkedArray | pa.Array, zone: str) -> pa.Array:
    """Microseconds of a naive wall-clock time -> microseconds since the epoch, UTC."""
    stamps = pc.cast(column, pa.timestamp("us"))
    aware = pc.assume_timezone(stamps, zone, ambiguous="earliest", nonexistent="latest")
    return pc.cast(pc.cast(aware, pa.timestamp("us")), pa.int64())


def row_amounts(excl: str | None, incl: str | None, qty: int) -> tuple[int, int]:
    """(total excl. tax, tax) of a row in cents (the core checked both prices as amounts)."""
    with localcontext(prec=80):  # a price up to 2**63 cents times a quantity up to 2**63, exact
        net = (Decimal(excl or "0") * qty).quantize(_CENT, ROUND_HALF_UP)
        gross = (Decimal(incl or "0") * qty).quantize(_CENT, ROUND_HALF_UP)
        return int(net * 100), int((gross - net) * 100)


def _row_totals(lines: pa.Table) -> tuple[list[int], list[int]]:
    """Each row's total and tax in cents; a row too big for a till amount is refused, named."""
    totals, taxes = [], []
    for excl, incl, qty, order_index, line_no in zip(
        lines.column("unit_excl_text").to_pylist(),
        lines.column("unit_incl_text").to_pylist(),
        lines.column("quantity").to_pylist(),
        lines.column("order_index").to_pylist(),
        lines.column("line_no").to_pylist(),
        strict=True,
    ):
        net, tax = row_amounts(excl, incl, qty)
        if not (-(2**63) <= net < 2**63 and -(2**63) <= tax < 2**63):
            rel = (*PRESTASHOP_PAGE.lines_path, line_no, "product_quantity")
            raise sh.field_error(sh.E_MONEY_RANGE, PRESTASHOP_PAGE.orders_path, order_index, rel, str(qty))
        totals.append(net)
        taxes.append(tax)
    return totals, taxes


def adjust_prestashop(
    orders: pa.Table,
    lines: pa.Table,
    zone: str,
    currencies: dict[int, str],
    customers: dict[int, tuple[str | None, str | None, str | None, bool]],
    state_words: dict[str, str] | None = None,
) -> tuple[pa.Table, pa.Table]:
    if state_words:
        states = orders.column("shop_status").to_pylist()
        worded = pa.array([state_words.get(s, s) if s is not None else None for s in states], pa.string())
        orders = orders.set_column(orders.schema.get_field_index("shop_status"), "shop_status", worded)
    for name in ("created_at", "modified_at", "paid_at"):
        orders = orders.set_column(
            orders.schema.get_field_index(name), name, local_to_utc(orders.column(name), zone)
        )
    ids = orders.column("customer_id").to_pylist()
    found = [customers.get(c) if c is not None else None for c in ids]
    fill: dict[str, pa.Array] = {
        "currency": pa.array(
            [currencies.get(c) for c in orders.column("id_currency").to_pylist()], pa.string()
        ),
        "total_tax": pc.subtract(
            orders.column("total"), orders.column("total_paid_tax_excl")
        ).combine_chunks(),
        "prices_include_tax": pa.array([True] * orders.num_rows, pa.bool_()),
        "email": pa.array([f[0] if f else None for f in found], pa.string()),
        "first_name": pa.array([f[1] if f else None for f in found], pa.string()),
        "last_name": pa.array([f[2] if f else None for f in found], pa.string()),
    }
    for name, kind in _ORDER_FILL.items():
        orders = orders.append_column(name, fill.get(name, pa.nulls(orders.num_rows, kind)))
    # A guest checkout is a customer row with is_guest = 1: the till keys guests by e-mail (id 0).
    guest_free = [0 if (f is not None and f[3]) else c for c, f in zip(ids, found, strict=True)]
    orders = orders.set_column(
        orders.schema.get_field_index("customer_id"), "customer_id", pa.array(guest_free, pa.int64())
    )
    totals, taxes = _row_totals(lines)
    lines = lines.drop_columns(["unit_price_excl"]).append_column("total", pa.array(totals, pa.int64()))
    lines = lines.append_column("subtotal", pa.array(totals, pa.int64()))
    lines = lines.append_column("total_tax", pa.array(taxes, pa.int64()))
    lines = lines.append_column("tax_class", pa.nulls(lines.num_rows, pa.string()))
    return orders, lines


def buyer(payload: bytes) -> Buyer:
    """The invoice address the connector put into the order (``INVOICE_ADDRESS``: PrestaShop keeps
    company, ``vat_number`` and ``dni`` on ``/api/addresses/<id_address_invoice>``, not on the order);
    the shipping tax follows from the order's two shipping totals; order slips' money beyond their lines
    (the shipping) is refunded (the lines are already out of the order's)."""
    order = Node.load(payload)
    address = order[INVOICE_ADDRESS]

    def text(key: str) -> str | None:
        value = address[key].text()
        return value.strip() or None if value is not None else None

    beyond = sum(_cents(s["total_shipping_tax_incl"]) for s in order[FETCHED_REFUNDS_KEY].objects())
    incl, excl = order["total_shipping_tax_incl"].money(), order["total_shipping_tax_excl"].money()
    tax = str((incl - excl).quantize(_CENT, ROUND_HALF_UP)) if incl is not None and excl is not None else None
    vat = text("vat_number")
    return Buyer(
        first_name=text("firstname"),
        last_name=text("lastname"),
        company=text("company"),
        address_1=text("address1"),
        address_2=text("address2"),
        postcode=text("postcode"),
        city=text("city"),
        country=text("country"),
        vat_number=vat.replace(" ", "").upper() if vat else None,
        siren=siren_of(text("dni")),
        shipping_tax=tax,
        refunded=money(beyond) if beyond > 0 else None,
        refunds_in_total=True,
    )


def siren_of(dni: str | None) -> str | None:
    """A French shop's ``dni`` holds the buyer's SIREN (9 digits) or SIRET (14: SIREN + establishment)."""
    digits = "".join(c for c in dni or "" if not c.isspace())
    return digits[:9] if digits.isdigit() and len(digits) in (9, 14) else None


def _slip_lines(slip: Node) -> list[LineRefund]:
    """A slip's ``order_slip_details``: the order detail (row) id, the quantity, its amounts."""
    out = []
    for d in slip["associations"]["order_slip_details"].objects():
        line = d["id_order_detail"].integer()
        if line is not None:
            net = _cents(d["amount_tax_excl"])
            out.append(LineRefund(line, d["product_quantity"].integer() or 0, net,
                                  _cents(d["amount_tax_incl"]) - net))  # fmt: skip
    return out


def _cents(node: Node) -> int:
    return cents(node.money() or 0)


def line_refunds(fetched: bytes, order: int) -> list[LineRefund]:
    """Every line part of the order slips fetched for ``order`` (a JSON list of ``order_slip`` rows),
    read as the stored order will hold them: a bad value is a ParseError with its path."""
    return [
        part for s in Node.under(fetched, FETCHED_REFUNDS_KEY, order).objects() for part in _slip_lines(s)
    ]


def refunds(payload: bytes) -> tuple[Refund, ...]:
    """The order's slips (credit slips: PrestaShop's refunds), each its lines plus the shipping refunded."""
    out = []
    for slip in Node.load(payload)[FETCHED_REFUNDS_KEY].objects():
        parts = _slip_lines(slip)
        amount = sum(p.net + p.tax for p in parts) + _cents(slip["total_shipping_tax_incl"])
        if amount > 0:
            lines = tuple(RefundLine(p.line_id, p.quantity, money(p.net + p.tax)) for p in parts)
            out.append(Refund(slip["id"].integer() or 0, money(amount), None, lines))
    return tuple(out)
