"""Fiscal records: the shape of an invoice or credit-note record, and its bulk write.

Invoicing and credit notes build :class:`FiscalRecord` objects (header, lines, VAT breakdown,
in integer cents and microseconds), sign them through :mod:`fastimport.processing.chain`, and
write them with :func:`write_documents` inside their own transaction.  Verification reads the
same fields back in ``HEADER_FIELDS`` order, so the signed content is defined once, here.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from fastimport.processing import chain
from fastimport.store.db import Connection

HEADER_FIELDS = (
    "kind", "series", "seq", "number", "issued_at", "store", "order_id", "order_number", "order_key",
    "refers_to", "reason", "seller", "buyer", "currency", "total_ht", "total_vat", "adjustment", "total_ttc",
    "payment_method", "payment_title", "transaction_id", "paid_at", "line_count", "actor", "prev_signature",
)  # fmt: skip
LINE_FIELDS = (
    "line_no", "line_kind", "source_line_no", "product_id", "variation_id", "sku", "name", "quantity",
    "unit_price_ht", "vat_rate", "total_ht", "vat", "total_ttc",
)  # fmt: skip


@dataclass(slots=True)
class FiscalRecord:
    """One invoice or credit note before it is written: ``header`` keyed by HEADER_FIELDS (cents, µs)."""

    header: dict[str, Any]
    lines: list[list[Any]]  # in LINE_FIELDS order
    vat: list[list[int]]  # [rate ×10, base cents, vat cents]
    store_id: int = 0
    signature: str = ""
    # True when ``header`` already holds every signed field, ``lines`` and ``vat`` included, in sorted
    # key order (CANONICAL_KEYS): its canonical form is then the dict as it is (no merged copy, no sort).
    presorted: bool = False

    def canonical(self) -> bytes:
        if self.presorted:
            return chain.canonical_presorted(self.header)
        return chain.canonical({**self.header, "lines": self.lines, "vat": self.vat})


# -- writing ---------------------------------------------------------------------------------------

_INVOICE_INSERT = """
INSERT INTO invoices (invoice_id, kind, series, seq, number, issued_at, store_id, order_id, order_number, order_key,
    refers_to, reason, seller, buyer, currency, total_ht, total_vat, adjustment, total_ttc, payment_method,
    payment_title, transaction_id, paid_at, line_count, actor, prev_signature, signature)
SELECT invoice_id, kind, series, seq, number, make_timestamp(issued_at)::TIMESTAMPTZ, store_id, order_id,
    order_number, order_key, refers_to, reason, seller, buyer, currency,
    CAST(total_ht AS DECIMAL(18,0)) * 0.01::DECIMAL(3,2), CAST(total_vat AS DECIMAL(18,0)) * 0.01::DECIMAL(3,2),
    CAST(adjustment AS DECIMAL(18,0)) * 0.01::DECIMAL(3,2), CAST(total_ttc AS DECIMAL(18,0)) * 0.01::DECIMAL(3,2),
    payment_method, payment_title, transaction_id, make_timestamp(paid_at)::TIMESTAMPTZ, line_count, actor,
    prev_signature, signature
FROM new_invoices
"""
_LINE_INSERT = """
INSERT INTO invoice_lines SELECT invoice_id, line_no, line_kind, source_line_no, product_id, variation_id, sku,
    name, quantity, CAST(unit_price_ht AS DECIMAL(18,0)) * 0.0001::DECIMAL(5,4),
    CAST(vat_rate AS DECIMAL(4,0)) * 0.1::DECIMAL(2,1), CAST(total_ht AS DECIMAL(18,0)) * 0.01::DECIMAL(3,2),
    CAST(vat AS DECIMAL(18,0)) * 0.01::DECIMAL(3,2), CAST(total_ttc AS DECIMAL(18,0)) * 0.01::DECIMAL(3,2)
FROM new_lines
"""
_VAT_INSERT = """
INSERT INTO invoice_vat SELECT invoice_id, CAST(vat_rate AS DECIMAL(4,0)) * 0.1::DECIMAL(2,1),
    CAST(base_ht AS DECIMAL(18,0)) * 0.01::DECIMAL(3,2), CAST(vat AS DECIMAL(18,0)) * 0.01::DECIMAL(3,2)
FROM new_vat
"""
# The keys of a canonical form, in the order its sorted-keys JSON writes them.
CANONICAL_KEYS = tuple(sorted((*HEADER_FIELDS, "lines", "vat")))
_INT_HEADER = {
    "seq",
    "issued_at",
    "order_id",
    "total_ht",
    "total_vat",
    "adjustment",
    "total_ttc",
    "paid_at",
    "line_count",
}
_HEADER_GETTER = operator.itemgetter(*HEADER_FIELDS)
_INT_LINE = {"line_no", "source_line_no", "product_id", "variation_id", "quantity", "unit_price_ht", "vat_rate", "total_ht", "vat", "total_ttc"}  # fmt: skip


def write_documents(con: Connection, docs: Sequence[FiscalRecord]) -> int:
    """Insert signed documents (inside the caller's transaction): three bulk inserts; returns the first id."""
    row = chain.one(con, "SELECT coalesce(max(invoice_id), 0) + 1 FROM invoices")
    first = int(row[0]) if row else 1
    ids = list(range(first, first + len(docs)))
    # Rows to columns with zip(*...) (C loops), not one append per value.
    header_rows = [_HEADER_GETTER(d.header) for d in docs]
    header_cols = list(zip(*header_rows, strict=True)) if docs else [() for _ in HEADER_FIELDS]
    cols: dict[str, Any] = {"invoice_id": pa.array(ids, pa.int64())}
    for name, values in zip(HEADER_FIELDS, header_cols, strict=True):
        cols[name] = pa.array(values, pa.int64() if name in _INT_HEADER else pa.string())
    cols["store_id"] = pa.array([d.store_id for d in docs], pa.int32())
    cols["signature"] = pa.array([d.signature for d in docs], pa.string())
    lines = {"invoice_id": pa.array([i for i, d in zip(ids, docs, strict=True) for _ in d.lines], pa.int64())}
    line_rows = [line for d in docs for line in d.lines]
    line_cols = list(zip(*line_rows, strict=True)) if line_rows else [() for _ in LINE_FIELDS]
    for name, values in zip(LINE_FIELDS, line_cols, strict=True):
        lines[name] = pa.array(values, pa.int64() if name in _INT_LINE else pa.string())
    vat_rows = [r for d in docs for r in d.vat]
    vat_cols = list(zip(*vat_rows, strict=True)) if vat_rows else [(), (), ()]
    vat = pa.table(
        {
            "invoice_id": pa.array([i for i, d in zip(ids, docs, strict=True) for _ in d.vat], pa.int64()),
            "vat_rate": pa.array(vat_cols[0], pa.int64()),
            "base_ht": pa.array(vat_cols[1], pa.int64()),
            "vat": pa.array(vat_cols[2], pa.int64()),
        }
    )
    con.register("new_invoices", pa.table(cols))
    con.register("new_lines", pa.table(lines))
    con.register("new_vat", vat)
    try:
        con.execute(_INVOICE_INSERT)
        con.execute(_LINE_INSERT)
        con.execute(_VAT_INSERT)
    finally:
        for name in ("new_invoices", "new_lines", "new_vat"):
            con.unregister(name)
    return first
