"""What the import needs from the store: fingerprints, run log, and one transaction per batch.

Batches arrive as Arrow tables (plain columns, no Python rows) and go into
DuckDB with one statement per table.  Money arrives as integer cents and is
stored as DECIMAL(18,2); instants arrive as UTC microseconds.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable
from dataclasses import dataclass

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from fastimport.columns import CHANGED, CLOSED_STATUSES, NEW
from fastimport.errors import StoreError
from fastimport.store import raw
from fastimport.store.db import Connection, first_row, transaction

# The platform's judge of the till's own writes coming back: (last version seen, new one, statuses the
# till set) -> True when the new version is only those writes (fastimport.io.echo).
TillEcho = Callable[[bytes, bytes, frozenset[str]], bool]

# Orders the shop may still change locally: once invoiced, the record is frozen.
UPDATABLE_STATES = ("pending", "prepared")

ORDER_COLUMNS = (
    "number, shop_status, currency, created_at, modified_at, paid_at, total, total_tax, shipping_total, "
    "discount_total, prices_include_tax, customer_id, email, first_name, last_name, company, phone, "
    "ship_name, ship_address, ship_postcode, ship_city, ship_country, shipping_method, shipping_method_title, "
    "payment_method, payment_method_title, transaction_id, customer_note, line_count, content_hash, "
    "raw_offset, raw_length"
)
_MONEY_ORDER = ("total", "total_tax", "shipping_total", "discount_total")
_MONEY_LINE = ("unit_price", "subtotal", "total", "total_tax")
_INSTANTS = ("created_at", "modified_at", "paid_at")


def _typed(table: pa.Table, money: tuple[str, ...], instants: tuple[str, ...] = ()) -> pa.Table:
    """Give cents and microseconds their SQL types in Arrow, without copying values.

    Cents become DECIMAL(18,2) by reading the same integers with scale 2; UTC microseconds
    become TIMESTAMPTZ by viewing them as such.  DuckDB then stores the columns as they are,
    where casting them in SQL cost a third of the insert.
    """
    for name in table.column_names:
        column = table.column(name).combine_chunks()
        if name in money:
            wide = pc.cast(column, pa.decimal128(19, 0))
            typed = pa.Array.from_buffers(
                pa.decimal128(18, 2),
                len(wide),
                wide.buffers(),
                null_count=wide.null_count,
                offset=wide.offset,
            )
        elif name in instants:
            typed = column.view(pa.timestamp("us", tz="UTC"))
        else:
            continue
        table = table.set_column(table.schema.get_field_index(name), name, typed)
    return table


_UPDATE_SET = (
    ", ".join(f"{c} = excluded.{c}" for c in [*(x.strip() for x in ORDER_COLUMNS.split(",")), "raw_chunk"])
    + ", last_run = excluded.last_run, updated_at = excluded.updated_at"
)
LINE_COLUMNS = (
    "line_no, line_id, product_id, variation_id, sku, name, quantity, unit_price, subtotal, total, "
    "total_tax, tax_class"
)


@dataclass(frozen=True, slots=True)
class BatchResult:
    written: int
    new: int
    updated: int
    locked: int
    unknown_articles: int
    unknown_customers: int


def ensure_store(con: Connection, name: str, platform: str, url: str, timezone: str) -> int:
    """The store's id, registering it on first use (and following url or time-zone changes)."""
    if getattr(con, "backend", "duckdb") != "postgres":
        return _ensure_store(con, name, platform, url, timezone)
    with transaction(con):
        _serialize_writers(con)  # two importers meeting a new store register it once
        return _ensure_store(con, name, platform, url, timezone)


def _serialize_writers(con: Connection) -> None:
    """On PostgreSQL, importers on several machines write one batch at a time (until this transaction ends).

    Inside the lock the store is as one writer sees it, as on DuckDB (whose file lock does the same):
    the raw chunk ids (max + 1) are free, and a NEW order another importer stored since this run
    loaded its dedup set is found and taken as CHANGED.  Fetching and parsing still run in parallel.
    """
    if getattr(con, "backend", "duckdb") == "postgres":
        con.execute("SELECT pg_advisory_xact_lock(hashtext('fastimport import batch'))")


def _ensure_store(con: Connection, name: str, platform: str, url: str, timezone: str) -> int:
    row = first_row(con.execute("SELECT store_id FROM stores WHERE name = ?", [name]))
    if row:
        con.execute(
            "UPDATE stores SET platform = ?, url = ?, timezone = ? WHERE store_id = ?",
            [platform, url, timezone, row[0]],
        )
        return int(row[0])
    next_id = first_row(con.execute("SELECT coalesce(max(store_id), 0) + 1 FROM stores"))
    store_id = int(next_id[0]) if next_id else 1
    con.execute(
        "INSERT INTO stores (store_id, name, platform, url, timezone) VALUES (?, ?, ?, ?, ?)",
        [store_id, name, platform, url, timezone],
    )
    return store_id


def fingerprints(con: Connection, store_id: int) -> pa.Table:
    """order_id, modified_at (µs) and content_hash of every stored order of the store, for the dedup set."""
    return con.sql(
        "SELECT order_id, epoch_us(modified_at) AS modified_at, content_hash FROM orders WHERE store_id = ?",
        params=[store_id],
    ).to_arrow_table()


def fetched_refunds(
    con: Connection, store_id: int, column: str, start: dt.datetime, end: dt.datetime
) -> pa.Table:
    """order_id, listing_hash and refunds remembered for the store's orders whose ``column`` (created_at or
    modified_at) lies in [start, end): an order the range lists as it is stored is one of them, so an
    incremental run loads a few rows, not every refund ever fetched (fastimport.io.refund_lines)."""
    if column not in ("created_at", "modified_at"):
        raise ValueError(f"no range on {column!r}")
    return con.sql(
        "SELECT f.order_id, f.listing_hash, f.refunds FROM fetched_refunds f JOIN orders o "
        f"ON o.store_id = f.store_id AND o.order_id = f.order_id WHERE f.store_id = ? AND o.{column} >= ? "
        f"AND o.{column} < ?",
        params=[store_id, start, end],
    ).to_arrow_table()


def catalog_synced(con: Connection, store_id: int) -> bool:
    row = first_row(
        con.execute("SELECT catalog_synced_at IS NOT NULL FROM stores WHERE store_id = ?", [store_id])
    )
    return bool(row and row[0])


def watermark(con: Connection, store_id: int) -> dt.datetime | None:
    row = first_row(con.execute("SELECT watermark FROM stores WHERE store_id = ?", [store_id]))
    return row[0] if row and row[0] is not None else None


def begin_run(
    con: Connection,
    store_id: int,
    mode: str,
    start: dt.datetime | None,
    end: dt.datetime | None,
) -> int:
    row = first_row(
        con.execute(
            "INSERT INTO import_runs (run_id, store_id, mode, range_start, range_end, started_at, status) "
            "VALUES (nextval('import_run_seq'), ?, ?, ?, ?, now(), 'running') RETURNING run_id",
            [store_id, mode, start, end],
        )
    )
    assert row is not None
    return int(row[0])


def write_batch(
    con: Connection,
    store_id: int,
    run_id: int,
    orders: pa.Table,
    lines: pa.Table,
    chunks: pa.Table,
    unchanged: int,
    pages: int,
    echo: TillEcho | None = None,
    refunds: pa.Table | None = None,
) -> BatchResult:
    """Write one batch of new and changed orders with their lines, in one transaction.

    ``orders`` holds the core's order columns plus ``line_count``, ``verdict``
    (the dedup's NEW or CHANGED) and the raw payload's place (``raw_chunk_local``,
    ``raw_offset``, ``raw_length``); ``lines`` the line columns plus ``order_id``;
    ``chunks`` the compressed payloads (``chunk_local``, ``size``, ``data``).
    New orders are plain inserts; changed ones are upserted, except orders
    already invoiced: there the shop's change becomes an order event.
    ``refunds`` (``order_id``, ``listing_hash``, ``modified_at`` in µs, ``refunds``) are the refunds
    fetched apart for some of these orders, remembered with them in the same transaction.
    """
    orders = _typed(orders, _MONEY_ORDER, _INSTANTS)
    lines = _typed(lines, _MONEY_LINE)
    changed = orders.filter(pc.equal(orders.column("verdict"), CHANGED))
    con.register("batch_orders", orders)
    con.register("batch_changed", changed)
    con.register("batch_lines", lines)
    registered = ["batch_orders", "batch_changed", "batch_lines"]
    if refunds is not None and refunds.num_rows:
        con.register("batch_refunds", _typed(refunds, (), ("modified_at",)))
        registered.append("batch_refunds")
    try:
        with transaction(con):
            # One process writes at a time (DuckDB's file lock, PostgreSQL's advisory lock), so max + 1
            # is free inside this transaction.
            _serialize_writers(con)
            n_changed = changed.num_rows + _taken_meanwhile(con, store_id, orders)
            # fetchall: an unfinished result would refuse the chunks' registration that follows.
            base = int(con.execute("SELECT coalesce(max(chunk_id), 0) + 1 FROM raw_chunks").fetchall()[0][0])
            raw.insert_chunks(con, chunks, base, store_id)
            insert = (
                f"INSERT INTO orders (store_id, order_id, {ORDER_COLUMNS}, raw_chunk, first_run, last_run, imported_at, "
                f"updated_at) SELECT ?, order_id, {ORDER_COLUMNS}, raw_chunk_local + ?, ?, ?, now(), now() "
            )
            # The dedup set was loaded from this database and no other process writes meanwhile:
            # a NEW order is not stored yet, so no conflict check is needed (the primary key still guards).
            con.execute(insert + f"FROM batch_orders WHERE verdict = {NEW}", [store_id, base, run_id, run_id])
            locked = news = 0
            if n_changed:
                locked, news = _record_locked_changes(con, store_id, base, echo)
                con.execute(
                    "DELETE FROM order_lines WHERE store_id = ? AND order_id IN (SELECT order_id FROM batch_changed "
                    "WHERE order_id NOT IN (SELECT order_id FROM locked_now))",
                    [store_id],
                )
                con.execute(
                    insert
                    + f"FROM batch_changed ON CONFLICT (store_id, order_id) DO UPDATE SET {_UPDATE_SET} "
                    f"WHERE orders.state IN {UPDATABLE_STATES}",
                    [store_id, base, run_id, run_id],
                )
            skip_locked = " WHERE order_id NOT IN (SELECT order_id FROM locked_now)" if locked else ""
            con.execute(
                f"INSERT INTO order_lines (store_id, order_id, {LINE_COLUMNS}) "
                f"SELECT ?, order_id, {LINE_COLUMNS} FROM batch_lines{skip_locked}",
                [store_id],
            )
            if "batch_refunds" in registered:
                # Remembered per listing, whatever the order's state: the shop's answer for that listing.
                con.execute(
                    "INSERT INTO fetched_refunds (store_id, order_id, listing_hash, modified_at, refunds) "
                    "SELECT ?, order_id, listing_hash, modified_at, refunds FROM batch_refunds "
                    "ON CONFLICT (store_id, order_id) DO UPDATE SET listing_hash = excluded.listing_hash, "
                    "modified_at = excluded.modified_at, refunds = excluded.refunds",
                    [store_id],
                )
            flags = _unknown_counts(con, store_id, skip_locked)
            new = orders.num_rows - n_changed
            updated = n_changed - locked
            con.execute(
                "UPDATE import_runs SET new_orders = new_orders + ?, updated_orders = updated_orders + ?, "
                "unchanged_orders = unchanged_orders + ?, locked_changes = locked_changes + ?, "
                "unknown_articles = unknown_articles + ?, unknown_customers = unknown_customers + ?, "
                "pages = pages + ? WHERE run_id = ?",
                [new, updated, unchanged, news, flags[0], flags[1], pages, run_id],
            )
    except duckdb.Error as exc:
        raise StoreError(f"could not store a batch of {orders.num_rows} orders: {exc}") from exc
    finally:
        stopped = sys.exc_info()[1]  # the error stopping the batch, if any
        try:
            for name in registered:
                con.unregister(name)
            con.execute("DROP TABLE IF EXISTS locked_now")
        except duckdb.Error:
            # After a fatal error the database refuses everything, this clean-up too: the error that
            # stopped the batch is the one to tell.
            if stopped is None:
                raise
    return BatchResult(orders.num_rows, new, updated, news, flags[0], flags[1])


def _taken_meanwhile(con: Connection, store_id: int, orders: pa.Table) -> int:
    """NEW orders another importer stored since the dedup set was loaded become CHANGED (PostgreSQL).

    On DuckDB no other process writes between the load and this batch: nothing to do.  The statement
    must not depend on ``orders``' statistics, which lag behind an import (autovacuum analyses it a
    minute later): asked as a join of the batch's table with ``orders``, PostgreSQL planned a nested
    loop, every stored order against every batch row (0.45 s a batch at 50,000 orders, growing with the
    store); asked as ``order_id = ANY(ids)``, a filter over every order of the store.  The ids' range
    always goes into the primary key's index condition, so only stored orders between the batch's
    smallest and largest new id are read (none, when the shop numbers new orders upwards).
    """
    if getattr(con, "backend", "duckdb") != "postgres":
        return 0
    new_ids = orders.filter(pc.equal(orders.column("verdict"), NEW)).column("order_id").to_pylist()
    if not new_ids:
        return 0
    taken = [
        int(r[0])
        for r in con.execute(
            "SELECT order_id FROM orders WHERE store_id = ? AND order_id BETWEEN ? AND ? AND order_id = ANY(?)",
            [store_id, min(new_ids), max(new_ids), new_ids],
        ).fetchall()
    ]
    moved = len(taken)
    if moved:
        con.execute(f"UPDATE batch_orders SET verdict = {CHANGED} WHERE order_id = ANY(?)", [taken])
        con.execute(
            f"INSERT INTO batch_changed SELECT * FROM batch_orders b WHERE verdict = {CHANGED} "
            "AND NOT EXISTS (SELECT 1 FROM batch_changed c WHERE c.order_id = b.order_id)"
        )
    return moved


def _record_locked_changes(
    con: Connection, store_id: int, chunk_base: int, echo: TillEcho | None
) -> tuple[int, int]:
    """Turn shop changes to invoiced orders into events (once per distinct remote version).

    Returns (versions of invoiced orders in the batch, of which changes made on the shop).  The till's
    own pushes come back too: a version that differs from the last one seen only in what the till
    pushed (``echo``, the platform's judge), with a status the till set or unchanged, is kept as
    ``till_write_seen`` (its payload kept, no action asked) and not counted as a change on the shop.
    """
    con.execute("DROP TABLE IF EXISTS locked_now")
    con.execute(
        "CREATE TEMP TABLE locked_now AS "
        "SELECT b.order_id, o.state, o.shop_status AS old_status, b.shop_status AS new_status, "
        "b.content_hash, b.raw_chunk_local + ? AS raw_chunk, b.raw_offset, b.raw_length, false AS echo "
        "FROM batch_changed b JOIN orders o ON o.store_id = ? AND o.order_id = b.order_id "
        f"WHERE o.state NOT IN {UPDATABLE_STATES}",
        [chunk_base, store_id],
    )
    echoes = _echoes(con, store_id, echo) if echo is not None else []
    if echoes:
        con.execute(
            f"UPDATE locked_now SET echo = true WHERE order_id IN ({', '.join('?' for _ in echoes)})", echoes
        )
    con.execute(
        "INSERT INTO order_events (store_id, order_id, happened_at, kind, actor, from_state, to_state, detail, "
        "needs_action, remote_hash, raw_chunk, raw_offset, raw_length) "
        "SELECT ?, order_id, now(), CASE WHEN echo THEN 'till_write_seen' ELSE 'shop_change_after_invoice' END, "
        "'shop', old_status, new_status, CASE WHEN echo THEN 'the shop shows what the till wrote (status ' "
        "|| new_status || ')' ELSE "
        "'the shop changed this order after it was ' || state || ' (shop status ' || old_status || ' -> ' "
        f"|| new_status || ')' || CASE WHEN new_status IN {CLOSED_STATUSES} "
        "THEN ': a credit note is proposed' ELSE ': the invoice is kept as it is' END END, "
        f"new_status IN {CLOSED_STATUSES} AND NOT echo, content_hash, raw_chunk, raw_offset, raw_length "
        "FROM locked_now k "
        "WHERE NOT EXISTS (SELECT 1 FROM order_events e WHERE e.store_id = ? AND e.order_id = k.order_id "
        "AND e.remote_hash = k.content_hash)",
        [store_id, store_id],
    )
    row = first_row(con.execute("SELECT count(*), count(*) FILTER (WHERE NOT echo) FROM locked_now"))
    return (int(row[0]), int(row[1])) if row else (0, 0)


def _echoes(con: Connection, store_id: int, echo: TillEcho) -> list[int]:
    """Invoiced orders of the batch whose new version is only the till's own pushes coming back."""
    candidates = con.execute(
        "SELECT k.order_id, k.raw_chunk, k.raw_offset, k.raw_length FROM locked_now k WHERE EXISTS (SELECT 1 "
        "FROM push_jobs p WHERE p.store_id = ? AND p.order_id = k.order_id AND p.state = 'sent' "
        "AND (k.new_status = k.old_status OR k.new_status = p.shop_status)) ORDER BY k.order_id",
        [store_id],
    ).fetchall()
    out = []
    for order_id, chunk, offset, length in candidates:
        statuses = frozenset(
            str(r[0])
            for r in con.execute(
                "SELECT DISTINCT shop_status FROM push_jobs WHERE store_id = ? AND order_id = ? AND state = 'sent' "
                "AND shop_status IS NOT NULL",
                [store_id, order_id],
            ).fetchall()
        )
        last = raw.latest_version(con, store_id, int(order_id))
        new = raw.slice_of(con, int(chunk), int(offset), int(length))
        if last is not None and new is not None and echo(last, new, statuses):
            out.append(int(order_id))
    return out


def _unknown_counts(con: Connection, store_id: int, skip_locked: str) -> tuple[int, int]:
    """Unknown articles (lines) and unknown customers (orders) in this batch, if the catalogue was synced.

    The same rule as the ``line_flags``/``order_flags`` views, on the batch alone: the views
    would scan every stored line at each batch.
    """
    if not catalog_synced(con, store_id):
        return 0, 0
    counts = first_row(
        con.execute(
            "SELECT (SELECT count(*) FROM batch_lines l WHERE "
            "NOT EXISTS (SELECT 1 FROM products p WHERE p.store_id = ? AND p.product_id = l.product_id "
            "AND p.variation_id = l.variation_id AND l.product_id <> 0) "
            "AND NOT EXISTS (SELECT 1 FROM products p WHERE p.store_id = ? AND p.sku = l.sku AND l.sku <> '')"
            + skip_locked.replace("WHERE", "AND")
            + "), (SELECT count(*) FROM batch_orders b WHERE b.customer_id > 0 "
            "AND NOT EXISTS (SELECT 1 FROM customers c WHERE c.store_id = ? AND c.customer_id = b.customer_id))",
            [store_id, store_id, store_id],
        )
    )
    assert counts is not None
    return int(counts[0]), int(counts[1])


def finish_run(
    con: Connection,
    run_id: int,
    store_id: int,
    *,
    ok: bool,
    error: str | None,
    max_modified_us: int | None,
) -> None:
    """Close the run's log row; a successful run moves the store's watermark forward (never back)."""
    with transaction(con):
        con.execute(
            "UPDATE import_runs SET finished_at = now(), status = ?, error = ? WHERE run_id = ?",
            ["ok" if ok else "failed", error, run_id],
        )
        if ok and max_modified_us is not None:
            con.execute(
                "UPDATE stores SET watermark = greatest(coalesce(watermark, make_timestamp(?)::TIMESTAMPTZ), "
                "make_timestamp(?)::TIMESTAMPTZ) WHERE store_id = ?",
                [max_modified_us, max_modified_us, store_id],
            )


def run_totals(con: Connection, run_id: int) -> dict[str, int]:
    row = first_row(
        con.execute(
            "SELECT new_orders, updated_orders, unchanged_orders, locked_changes, unknown_articles, "
            "unknown_customers, pages FROM import_runs WHERE run_id = ?",
            [run_id],
        )
    )
    assert row is not None
    keys = ("new", "updated", "unchanged", "locked", "unknown_articles", "unknown_customers", "pages")
    return dict(zip(keys, (int(v) for v in row), strict=True))


def write_counts(con: Connection, run_id: int, unchanged: int, pages: int) -> None:
    """Log pages that brought nothing to write (everything already stored)."""
    con.execute(
        "UPDATE import_runs SET unchanged_orders = unchanged_orders + ?, pages = pages + ? WHERE run_id = ?",
        [unchanged, pages, run_id],
    )
