"""The stock ledger: movements in DuckDB, levels derived with Polars.

Two quantities per article, kept apart on purpose:

- ``level``: what is physically on the shelves, the sum of the ledger's movements:
  ``initial`` (see below), ``invoice`` (−), ``credit_note`` (+), ``adjustment`` (±);
- ``available``: what the web shop may still sell, ``level`` minus the quantities
  ``reserved`` by web orders the till has not invoiced yet.

The web shop already took its own sales off its stock when they were paid, so the
shop's figure is ``available``, not ``level``: the ``initial`` movement is the shop's
level *plus* the alive pending orders it had already counted, invoicing one of them
leaves ``available`` unchanged, and ``stock push`` sends ``available`` for the
articles whose figure differs from what the shop last accepted (or showed at the
catalogue sync).  Without this, every web sale would be taken off twice.

An article is (store, product_id, variation_id); lines whose product is
unknown to the shop (product_id 0) are keyed by their SKU and never pushed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl

from fastimport.errors import ProcessingError
from fastimport.processing import chain
from fastimport.processing.lifecycle import DEAD_SHOP_STATUSES
from fastimport.store.db import Connection, transaction

KEY = ["store_id", "product_id", "variation_id", "item_sku"]
# A push row written before the shop is called; the answer's row follows it.  Found last, the run was cut
# off mid-call (killed): the shop may hold that level or the one before, so the article is pushed again.
IN_FLIGHT = "sent, no answer yet"


def ensure_initial_levels(con: Connection) -> int:
    """Book the shop's level of every stock-managed article the ledger has not met yet; returns how many."""
    with transaction(con):
        row = chain.one(
            con,
            "INSERT INTO stock_movements (store_id, product_id, variation_id, sku, quantity, kind, reference, "
            "happened_at, actor, note) "
            "SELECT store_id, product_id, variation_id, sku, stock_quantity + sold, 'initial', NULL, synced_at, "
            "'catalog sync', 'level on the shop at the catalogue sync, plus ' || sold || "
            "' sold there to orders not yet invoiced' FROM (SELECT p.*, coalesce((SELECT sum(r.quantity) "
            f"FROM ({_RESERVED_SQL}) r WHERE r.store_id = p.store_id AND r.product_id = p.product_id "
            "AND r.variation_id = p.variation_id AND r.created_at < p.synced_at), 0) AS sold FROM products p "
            # The articles to book chosen before the sum, not after: DuckDB summed the pending orders' lines
            # of every article at each batch (0.1 s at a million stored orders), to book none nearly always.
            "WHERE p.stock_quantity IS NOT NULL AND coalesce(p.manage_stock, true) "
            "AND NOT EXISTS (SELECT 1 FROM stock_movements m WHERE m.kind = 'initial' AND m.store_id = p.store_id "
            "AND m.product_id = p.product_id AND m.variation_id = p.variation_id)) p",
        )
    return int(row[0]) if row else 0


def book_documents(con: Connection, first: int, last: int) -> None:
    """Stock movements of the item lines of invoices/credit notes first..last (caller's transaction).

    Invoice lines carry positive quantities (stock goes out), credit note lines negative ones (it comes back).
    Movements take their ids in (document, line) order.
    """
    con.execute(
        "INSERT INTO stock_movements (store_id, product_id, variation_id, sku, quantity, kind, invoice_id, "
        "reference, happened_at, actor) "
        "SELECT i.store_id, l.product_id, l.variation_id, l.sku, -l.quantity, i.kind, i.invoice_id, i.number, "
        "i.issued_at, i.actor FROM invoice_lines l JOIN invoices i USING (invoice_id) "
        "WHERE i.invoice_id BETWEEN ? AND ? AND l.line_kind = 'item' "
        "AND (l.product_id <> 0 OR coalesce(l.sku, '') <> '') "
        # Ids in the documents' own order, not the join's (which put an invoice's last line first and
        # could change with DuckDB's version or its threads): the ledger reads as the invoices do.
        "ORDER BY i.invoice_id, l.line_no",
        [first, last],
    )


def adjust(
    con: Connection, store_id: int, product_id: int, variation_id: int, sku: str | None,
    quantity: int, actor: str, note: str,
) -> None:  # fmt: skip
    """A manual adjustment (inventory count, breakage...), booked as its own movement."""
    if quantity == 0:
        raise ProcessingError("an adjustment of 0 changes nothing")
    con.execute(
        "INSERT INTO stock_movements (store_id, product_id, variation_id, sku, quantity, kind, happened_at, actor, "
        "note) VALUES (?, ?, ?, ?, ?, 'adjustment', now(), ?, ?)",
        [store_id, product_id, variation_id, sku, quantity, actor, note],
    )


# Quantities of web orders the till has not invoiced yet and the shop still counts as sold.
_RESERVED_SQL = (
    "SELECT l.store_id, coalesce(l.product_id, 0) AS product_id, coalesce(l.variation_id, 0) AS variation_id, "
    "CASE WHEN coalesce(l.product_id, 0) = 0 THEN l.sku END AS item_sku, l.quantity::BIGINT AS quantity, "
    "o.created_at FROM order_lines l JOIN orders o USING (store_id, order_id) "
    f"WHERE o.state IN ('pending', 'prepared') AND o.shop_status NOT IN {DEAD_SHOP_STATUSES}"
)


def _frame(con: Connection, sql: str) -> pl.DataFrame:
    frame = pl.from_arrow(con.sql(sql).to_arrow_table())
    assert isinstance(frame, pl.DataFrame)
    return frame


_ITEM_SKU = "CASE WHEN product_id = 0 THEN sku END AS item_sku"


def levels(con: Connection) -> pl.DataFrame:
    """Per article: store, ids, sku, name, level, reserved, available, last_pushed, delta, changed.

    ``reserved`` counts the quantities of orders still pending locally whose sale is alive on the shop;
    ``last_pushed`` is the level the shop last accepted (or its level at the catalogue sync).
    """
    moves = _frame(
        con,
        f"SELECT store_id, product_id, variation_id, {_ITEM_SKU}, sku, kind, quantity::BIGINT AS quantity "
        "FROM stock_movements",
    )
    pushes = _frame(  # standard SQL: the last accepted level, and whether the last push is still in flight
        con,
        "SELECT store_id, product_id, variation_id, max(CASE WHEN accepted_rank = 1 THEN level END)::BIGINT "
        f"AS last_pushed, bool_or(latest = 1 AND error = '{IN_FLIGHT}') AS unsettled FROM (SELECT store_id, "
        "product_id, variation_id, level, error, row_number() OVER (PARTITION BY store_id, product_id, "
        "variation_id ORDER BY push_id DESC) AS latest, CASE WHEN accepted THEN row_number() OVER (PARTITION BY "
        "store_id, product_id, variation_id, accepted ORDER BY push_id DESC) END AS accepted_rank "
        "FROM stock_pushes) p GROUP BY store_id, product_id, variation_id",
    )
    reserved = _frame(
        con,
        f"SELECT store_id, product_id, variation_id, item_sku, sum(quantity)::BIGINT AS quantity "
        f"FROM ({_RESERVED_SQL}) r GROUP BY 1, 2, 3, 4",
    )
    names = _frame(
        con,
        "SELECT p.store_id, p.product_id, p.variation_id, p.name, s.name AS store, "
        "p.stock_quantity::BIGINT AS shop_level FROM products p JOIN stores s USING (store_id)",
    )
    return compute_levels(moves, pushes, reserved, names)


def compute_levels(
    moves: pl.DataFrame, pushes: pl.DataFrame, reserved: pl.DataFrame, names: pl.DataFrame
) -> pl.DataFrame:
    """The pure Polars part of :func:`levels` (tested on its own)."""
    if "unsettled" not in pushes.columns:
        pushes = pushes.with_columns(pl.lit(False).alias("unsettled"))
    ledger = moves.group_by(KEY).agg(
        pl.col("sku").drop_nulls().last().alias("sku"),
        pl.col("quantity").sum().alias("level"),
        pl.col("quantity").filter(pl.col("kind") == "initial").sum().alias("initial"),
        (pl.col("kind") == "initial").any().alias("tracked"),
    )
    booked = reserved.group_by(KEY).agg(pl.col("quantity").sum().alias("reserved"))
    out = (
        ledger.join(booked, on=KEY, how="left", nulls_equal=True)
        .join(pushes, on=["store_id", "product_id", "variation_id"], how="left")
        .join(names, on=["store_id", "product_id", "variation_id"], how="left")
        .with_columns(
            pl.col("reserved").fill_null(0),
            pl.coalesce(pl.col("last_pushed"), pl.col("shop_level")).alias("last_pushed"),
        )
        .with_columns((pl.col("level") - pl.col("reserved")).alias("available"))
        .with_columns((pl.col("available") - pl.col("last_pushed")).alias("delta"))
        .with_columns(
            (
                ((pl.col("delta") != 0) | pl.col("unsettled").fill_null(False))
                & pl.col("tracked")
                & (pl.col("product_id") != 0)
            ).alias("changed")
        )
        .sort(["store_id", "product_id", "variation_id", "item_sku"], nulls_last=True)
    )
    return out


@dataclass(frozen=True, slots=True)
class PushItem:
    store_id: int
    product_id: int
    variation_id: int
    sku: str | None
    level: int  # what the shop should show: the article's available quantity


def push_plan(con: Connection) -> list[PushItem]:
    """The articles whose level changed since the shop last accepted one, with their new level."""
    frame = levels(con).filter(pl.col("changed"))
    return [
        PushItem(
            int(r["store_id"]), int(r["product_id"]), int(r["variation_id"]), r["sku"], int(r["available"])
        )
        for r in frame.iter_rows(named=True)
    ]


def record_pushes(con: Connection, results: list[tuple[PushItem, bool, str | None]]) -> None:
    """Record what the shop accepted (and refused, with its reason), in one statement."""
    if not results:
        return
    table = pl.DataFrame(
        {
            "store_id": [r[0].store_id for r in results],
            "product_id": [r[0].product_id for r in results],
            "variation_id": [r[0].variation_id for r in results],
            "sku": [r[0].sku for r in results],
            "level": [r[0].level for r in results],
            "accepted": [r[1] for r in results],
            "error": [r[2] for r in results],
        },
        schema={
            "store_id": pl.Int32,
            "product_id": pl.Int64,
            "variation_id": pl.Int64,
            "sku": pl.String,
            "level": pl.Int64,
            "accepted": pl.Boolean,
            "error": pl.String,
        },
    ).to_arrow()
    con.register("push_results", table)
    try:
        con.execute(
            "INSERT INTO stock_pushes (store_id, product_id, variation_id, sku, level, accepted, error, pushed_at) "
            "SELECT store_id, product_id, variation_id, sku, level, accepted, error, now() FROM push_results"
        )
    finally:
        con.unregister("push_results")


def levels_json(frame: pl.DataFrame) -> list[dict[str, Any]]:
    cols = ["store", "product_id", "variation_id", "sku", "name", "level", "reserved", "available", "last_pushed", "delta", "changed"]  # fmt: skip
    return [dict(r) for r in frame.select(cols).iter_rows(named=True)]
