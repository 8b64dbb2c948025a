"""Readings for the head office: sales over a period, from the stored, signed documents.

:func:`sales_report` sums the invoices minus the credit notes issued between two dates (both
inclusive, each document on its store's local day), grouped by store, local day, VAT rate or
payment method, per currency (an amount always travels with its ISO code).  It returns plain
data; ``to_json()`` is the ``fastimport report sales --json`` contract.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from fastimport.config import Config
from fastimport.processing.sales import GROUPINGS, GroupBy, SalesRow, sales_rows, sales_totals

__all__ = ["GROUPINGS", "SalesReport", "SalesRow", "sales_report"]


def _key_json(by: str, key: Any) -> Any:
    if key is None:
        return None
    if by == "day":
        return key.isoformat()
    if by == "rate":
        return f"{Decimal(key):.1f}"
    return str(key)


def _amounts(row: SalesRow) -> dict[str, Any]:
    return {
        "currency": row.currency, "invoices": row.invoices, "credit_notes": row.credit_notes,
        "total_ht": str(row.total_ht), "total_vat": str(row.total_vat), "adjustment": str(row.adjustment),
        "total_ttc": str(row.total_ttc),
    }  # fmt: skip


@dataclass(frozen=True, slots=True)
class SalesReport:
    """The period's sales: ``rows`` per group and currency, ``totals`` per currency."""

    date_from: dt.date
    date_to: dt.date
    by: GroupBy
    store: str | None
    rows: tuple[SalesRow, ...]
    totals: tuple[SalesRow, ...]

    def to_json(self) -> dict[str, Any]:
        def group(row: SalesRow) -> dict[str, Any]:
            head: dict[str, Any] = {self.by: _key_json(self.by, row.key)}
            if self.by == "payment":
                head["label"] = row.label
            return head | _amounts(row)

        return {
            "from": self.date_from.isoformat(), "to": self.date_to.isoformat(), "by": self.by,
            "store": self.store, "rows": [group(r) for r in self.rows], "totals": [_amounts(t) for t in self.totals],
        }  # fmt: skip


def sales_report(
    config: Config, con: Any, date_from: dt.date, date_to: dt.date, *, by: GroupBy = "store",
    store: str | None = None,
) -> SalesReport:  # fmt: skip
    """Invoices minus credit notes issued from ``date_from`` to ``date_to`` (local days, inclusive)."""
    rows = sales_rows(con, date_from, date_to, by, store)
    if by == "payment":
        from dataclasses import replace

        from fastimport.processing.settings import load_settings

        label = load_settings(config).payment_label
        rows = [replace(r, label=label(str(r.key) or None, r.label or None)) for r in rows]
    return SalesReport(
        date_from, date_to, by, store, tuple(rows), tuple(sales_totals(con, date_from, date_to, store))
    )
