"""``stock adjust``: an inventory count, a breakage or a find, booked in the stock ledger and journaled;
and why a level is negative, in words.

``+N`` and ``-N`` move the level by N; ``=N`` books what makes the level N (an inventory count).  The
movement (kind ``adjustment``, with who and why) and its signed journal entry (kind
``stock_adjustment``) are written in one transaction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import polars as pl

from fastimport.errors import ConfigError, ProcessingError
from fastimport.processing import chain, stock
from fastimport.processing.settings import ProcessingSettings
from fastimport.store.db import Connection, first_row, transaction

_CHANGE = re.compile(r"^([+\-=])(\d{1,9})$")


@dataclass(frozen=True, slots=True)
class Adjustment:
    store: str
    sku: str
    product_id: int
    variation_id: int
    before: int
    booked: int  # the movement (0: the count matched, nothing booked)
    after: int
    reason: str
    journaled: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "store": self.store, "sku": self.sku, "product_id": self.product_id, "variation_id": self.variation_id,
            "before": self.before, "booked": self.booked, "after": self.after, "reason": self.reason,
            "journaled": self.journaled,
        }  # fmt: skip


def parse_change(text: str) -> tuple[str, int]:
    """``"+3"`` → ("+", 3), ``"-1"`` → ("-", 1), ``"=12"`` → ("=", 12); a ProcessingError otherwise."""
    match = _CHANGE.match(text.strip())
    if match is None:
        raise ProcessingError(f"{text!r}: give +N (found), -N (broken, lost) or =N (counted), e.g. -1 or =12")
    return match.group(1), int(match.group(2))


def _article(con: Connection, sku: str, store: str | None) -> tuple[int, str, int, int]:
    rows = con.execute(
        "SELECT DISTINCT a.store_id, s.name, a.product_id, a.variation_id FROM (SELECT store_id, product_id, "
        "variation_id, sku FROM products UNION ALL SELECT store_id, product_id, variation_id, sku FROM "
        "stock_movements) a JOIN stores s USING (store_id) WHERE a.sku = ? AND (? IS NULL OR s.name = ?) "
        "ORDER BY a.store_id",
        [sku, store, store],
    ).fetchall()
    if not rows:
        raise ProcessingError(
            f"no article has the SKU {sku!r}" + (f" in store '{store}'" if store else "")
            + " (run fastimport catalog sync if it is new on the shop)"
        )  # fmt: skip
    if len({(r[0], r[2], r[3]) for r in rows}) > 1:
        where = ", ".join(f"{r[1]} ({r[2]}/{r[3]})" for r in rows)
        raise ProcessingError(f"several articles have the SKU {sku!r} ({where}): choose one with --store")
    r = rows[0]
    return int(r[0]), str(r[1]), int(r[2]), int(r[3])


def _level(con: Connection, store_id: int, product_id: int, variation_id: int) -> int:
    row = first_row(
        con.execute(
            "SELECT coalesce(sum(quantity), 0) FROM stock_movements WHERE store_id = ? AND product_id = ? "
            "AND variation_id = ?",
            [store_id, product_id, variation_id],
        )
    )
    return int(row[0]) if row else 0


def adjust_stock(
    con: Connection, settings: ProcessingSettings, sku: str, change: str, reason: str,
    *, store: str | None = None, actor: str = "till",
) -> Adjustment:  # fmt: skip
    """Book one adjustment (see the module); refuses an empty reason."""
    if not reason or not reason.strip():
        raise ProcessingError('a stock adjustment needs a reason: add --reason "inventaire", "casse"...')
    sign, amount = parse_change(change)
    stock.ensure_initial_levels(con)
    try:
        key: bytes | None = settings.key()
    except ConfigError:
        key = None  # no signing key configured: the movement itself is the record
    store_id, store_name, product_id, variation_id = _article(con, sku, store)
    with transaction(con):
        before = _level(con, store_id, product_id, variation_id)
        booked = amount if sign == "+" else -amount if sign == "-" else amount - before
        if booked == 0 and sign != "=":
            raise ProcessingError("an adjustment of 0 changes nothing")
        if booked:
            stock.adjust(con, store_id, product_id, variation_id, sku, booked, actor, reason.strip())
        if key is not None:
            chain.journal(
                con, key, "stock_adjustment", actor, sku,
                {"store": store_name, "change": change.strip(), "booked": booked, "before": before,
                 "after": before + booked, "reason": reason.strip()},
            )  # fmt: skip
    return Adjustment(
        store_name,
        sku,
        product_id,
        variation_id,
        before,
        booked,
        before + booked,
        reason.strip(),
        key is not None,
    )


def negative_reasons(con: Connection, frame: pl.DataFrame) -> dict[tuple[int, int, int], str]:
    """Why each negative level is negative, by (store_id, product_id, variation_id)."""
    out: dict[tuple[int, int, int], str] = {}
    for r in frame.filter(pl.col("level") < 0).iter_rows(named=True):
        key = (int(r["store_id"]), int(r["product_id"]), int(r["variation_id"]))
        if not r["tracked"]:
            out[key] = (
                "no initial level is known for this article (it was not in the catalogue at the last sync): "
                "count it with fastimport stock adjust SKU =N, or run fastimport catalog sync"
            )
            continue
        row = first_row(
            con.execute(
                "SELECT count(*) FROM stock_movements m WHERE m.store_id = ? AND m.product_id = ? AND "
                "m.variation_id = ? AND m.kind = 'invoice' AND m.happened_at < (SELECT min(happened_at) FROM "
                "stock_movements i WHERE i.kind = 'initial' AND i.store_id = m.store_id AND i.product_id = "
                "m.product_id AND i.variation_id = m.variation_id)",
                list(key),
            )
        )
        if row and row[0]:
            out[key] = (
                f"{row[0]} sale(s) were invoiced before the first catalogue sync, which did not count them: "
                "count the shelf with fastimport stock adjust SKU =N"
            )
        else:
            out[key] = (
                "more was sold than the ledger holds: count the shelf with fastimport stock adjust SKU =N"
            )
    return out
