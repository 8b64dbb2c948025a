"""Sales over a period, read from the stored, signed documents (never recomputed from orders).

Invoices and credit notes share the ``invoices`` table, credit notes with negative amounts: their
sum is the period's net sales.  A document belongs to the local day of its ``issued_at`` in its
store's time zone.  Amounts are summed per currency and never mixed: every group is keyed by its
currency as well.  ``by="rate"`` reads the stored VAT breakdown (``invoice_vat``); a shop's
rounding cent (``adjustment``) carries no VAT rate and gets a row of its own (``rate`` None).

The SQL is kept portable (DuckDB and PostgreSQL alike): standard GROUP BY, CASE, ``timezone()``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from fastimport.errors import ProcessingError

GroupBy = Literal["store", "day", "rate", "payment"]
GROUPINGS: tuple[GroupBy, ...] = ("store", "day", "rate", "payment")
_ZERO = Decimal("0.00")
_LOCAL_DAY = "CAST(timezone(s.timezone, i.issued_at) AS DATE)"
_COUNTS = (
    "count(DISTINCT CASE WHEN i.kind = 'invoice' THEN i.invoice_id END), "
    "count(DISTINCT CASE WHEN i.kind = 'credit_note' THEN i.invoice_id END)"
)
_HEAD_AMOUNTS = "sum(i.total_ht), sum(i.total_vat), sum(i.adjustment), sum(i.total_ttc)"
# the SQL expression each grouping groups by (``rate`` reads invoice_vat instead)
_KEYS: dict[str, str] = {
    "store": "s.name",
    "day": _LOCAL_DAY,
    "payment": "coalesce(i.payment_method, '')",
}


@dataclass(frozen=True, slots=True)
class SalesRow:
    """One group in one currency: documents counted, amounts summed (credit notes subtract)."""

    key: Any  # the store's name, the local day (date), the VAT rate (Decimal; None: rounding), the method
    currency: str
    invoices: int
    credit_notes: int
    total_ht: Decimal
    total_vat: Decimal
    adjustment: Decimal
    total_ttc: Decimal
    label: str = ""  # payment: the shop's title of the method (the API maps it through [payment_methods])


def _dec(value: Any) -> Decimal:
    return _ZERO if value is None else Decimal(value).quantize(_ZERO)


def _where(store: str | None) -> tuple[str, list[Any]]:
    sql = f"FROM invoices i JOIN stores s ON s.store_id = i.store_id WHERE {_LOCAL_DAY} >= ? AND {_LOCAL_DAY} <= ?"
    return (sql + " AND s.name = ?", [store]) if store is not None else (sql, [])


def sales_rows(
    con: Any, date_from: dt.date, date_to: dt.date, by: GroupBy = "store", store: str | None = None
) -> list[SalesRow]:
    """The period's sales per group and currency, from the stored invoices and credit notes."""
    if by not in GROUPINGS:
        raise ProcessingError(f"a sales report groups by {', '.join(GROUPINGS)} (not {by!r})")
    if date_to < date_from:
        raise ProcessingError(f"the period ends ({date_to}) before it starts ({date_from})")
    if store is not None and not con.execute("SELECT 1 FROM stores WHERE name = ?", [store]).fetchall():
        raise ProcessingError(f"no store named {store!r} has anything in this database")
    where, extra = _where(store)
    params = [date_from, date_to, *extra]
    if by == "rate":
        return _by_rate(con, where, params)
    key = _KEYS[by]
    title = "min(i.payment_title)" if by == "payment" else "''"  # the shop's name for the method
    rows = con.execute(
        f"SELECT {key}, {title}, i.currency, {_COUNTS}, {_HEAD_AMOUNTS} {where} GROUP BY {key}, i.currency "
        f"ORDER BY {key}, i.currency",
        params,
    ).fetchall()
    return [_row(r[0], r[2:], str(r[1] or "")) for r in rows]


def _row(key: Any, r: tuple[Any, ...] | list[Any], label: str = "") -> SalesRow:
    return SalesRow(
        key, str(r[0]), int(r[1]), int(r[2]), _dec(r[3]), _dec(r[4]), _dec(r[5]), _dec(r[6]), label
    )


def _by_rate(con: Any, where: str, params: list[Any]) -> list[SalesRow]:
    """Per stored VAT rate (base and VAT as signed), then the rounding cents, which have no rate."""
    rows = con.execute(
        f"SELECT v.vat_rate, i.currency, {_COUNTS}, sum(v.base_ht), sum(v.vat), 0, sum(v.base_ht + v.vat) "
        f"{where.replace('WHERE', 'JOIN invoice_vat v ON v.invoice_id = i.invoice_id WHERE', 1)} "
        "GROUP BY v.vat_rate, i.currency ORDER BY v.vat_rate DESC, i.currency",
        params,
    ).fetchall()
    out = [_row(Decimal(r[0]), r[1:]) for r in rows]
    rounding = con.execute(
        f"SELECT i.currency, {_COUNTS}, 0, 0, sum(i.adjustment), sum(i.adjustment) {where} AND i.adjustment <> 0 "
        "GROUP BY i.currency ORDER BY i.currency",
        params,
    ).fetchall()
    out.extend(_row(None, r) for r in rounding)
    return out


def sales_totals(con: Any, date_from: dt.date, date_to: dt.date, store: str | None = None) -> list[SalesRow]:
    """The whole period per currency (each document counted once, whatever the grouping)."""
    where, extra = _where(store)
    rows = con.execute(
        f"SELECT i.currency, {_COUNTS}, {_HEAD_AMOUNTS} {where} GROUP BY i.currency ORDER BY i.currency",
        [date_from, date_to, *extra],
    ).fetchall()
    return [_row(None, r) for r in rows]
