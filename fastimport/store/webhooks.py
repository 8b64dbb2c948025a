"""Webhook deliveries in the store: kept on arrival, taken for processing, marked, summed up.

Every write is one transaction over whole lists (Arrow tables), so the till's route can commit
all the deliveries that arrived meanwhile in one go and still answer each within milliseconds.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import pyarrow as pa

from fastimport.store.db import Connection, first_row, transaction

# Retries of one delivery repeat its id (Shopify retries for up to 48 hours): ids older than
# this are not looked at again, which keeps the check a scan of recent rows.
DEDUP_WINDOW_DAYS = 3


def _settle(con: Connection) -> None:
    """Close a result a caller left half-read (``fetchone``): DuckDB refuses to register a table over it."""
    con.execute("SELECT 1").fetchall()


@dataclass(frozen=True, slots=True)
class Incoming:
    store_id: int
    remote_id: str | None
    topic: str
    kind: str  # "order" or "deleted"
    body: bytes


@dataclass(frozen=True, slots=True)
class Stored:
    delivery_id: int
    store_id: int
    topic: str
    kind: str
    body: bytes


@dataclass(frozen=True, slots=True)
class Outcome:
    delivery_id: int
    order_id: int | None
    run_id: int | None
    error: str | None


def record(con: Connection, incoming: Sequence[Incoming]) -> list[bool]:
    """Keep the deliveries durably (one statement, one commit); False for a repeat of one already kept."""
    if not incoming:
        return []
    fresh: list[bool] = []
    seen: set[tuple[int, str]] = set()
    for item in incoming:
        key = (item.store_id, item.remote_id) if item.remote_id else None
        fresh.append(key is None or key not in seen)
        if key is not None:
            seen.add(key)
    table = pa.table(
        {
            "position": pa.array(range(len(incoming)), pa.int64()),
            "store_id": pa.array([i.store_id for i in incoming], pa.int32()),
            "remote_id": pa.array([i.remote_id for i in incoming], pa.string()),
            "topic": pa.array([i.topic for i in incoming], pa.string()),
            "kind": pa.array([i.kind for i in incoming], pa.string()),
            "body": pa.array([i.body for i in incoming], pa.binary()),
            "fresh": pa.array(fresh, pa.bool_()),
        }
    )
    _settle(con)
    con.register("incoming_deliveries", table)
    try:
        # One statement is its own transaction: the repeat check and the insert commit together.
        kept = con.execute(
            "INSERT INTO webhook_deliveries (store_id, remote_id, topic, kind, received_at, body) "
            "SELECT store_id, remote_id, topic, kind, now(), body FROM incoming_deliveries i WHERE fresh AND "
            "(remote_id IS NULL OR NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.store_id = i.store_id "
            f"AND d.remote_id = i.remote_id AND d.received_at > now() - INTERVAL '{DEDUP_WINDOW_DAYS} days')) "
            "ORDER BY position RETURNING store_id, remote_id"
        ).fetchall()
    finally:
        con.unregister("incoming_deliveries")
    inserted = {(int(r[0]), r[1]) for r in kept if r[1] is not None}
    return [
        ok and (i.remote_id is None or (i.store_id, i.remote_id) in inserted)
        for ok, i in zip(fresh, incoming, strict=True)
    ]


def unprocessed(con: Connection, limit: int) -> list[Stored]:
    """The oldest deliveries not processed yet (arrival order)."""
    rows = con.execute(
        "SELECT delivery_id, store_id, topic, kind, body FROM webhook_deliveries WHERE processed_at IS NULL "
        "ORDER BY delivery_id LIMIT ?",
        [limit],
    ).fetchall()
    return [Stored(int(r[0]), int(r[1]), str(r[2]), str(r[3]), bytes(r[4])) for r in rows]


def count_unprocessed(con: Connection) -> int:
    row = first_row(con.execute("SELECT count(*) FROM webhook_deliveries WHERE processed_at IS NULL"))
    return int(row[0]) if row else 0


def mark(con: Connection, outcomes: Sequence[Outcome]) -> None:
    """Mark deliveries processed, with the order they carried, the run that stored it, or the error."""
    if not outcomes:
        return
    table = pa.table(
        {
            "delivery_id": pa.array([o.delivery_id for o in outcomes], pa.int64()),
            "order_id": pa.array([o.order_id for o in outcomes], pa.int64()),
            "run_id": pa.array([o.run_id for o in outcomes], pa.int64()),
            "error": pa.array([o.error for o in outcomes], pa.string()),
        }
    )
    _settle(con)
    con.register("delivery_outcomes", table)
    try:
        with transaction(con):
            con.execute(
                "UPDATE webhook_deliveries SET processed_at = now(), order_id = o.order_id, run_id = o.run_id, "
                "error = o.error FROM delivery_outcomes o WHERE webhook_deliveries.delivery_id = o.delivery_id"
            )
    finally:
        con.unregister("delivery_outcomes")


def prune(con: Connection, keep_days: int) -> int:
    """Forget deliveries processed without error more than ``keep_days`` ago (their orders keep their
    raw JSON); failed and waiting ones stay.  Returns how many were forgotten."""
    rows = con.execute(
        "DELETE FROM webhook_deliveries WHERE processed_at IS NOT NULL AND error IS NULL "
        f"AND received_at < now() - INTERVAL '{int(keep_days)} days' RETURNING delivery_id"
    ).fetchall()
    return len(rows)


@dataclass(frozen=True, slots=True)
class StoreWebhooks:
    store_id: int
    received: int
    last_received_at: dt.datetime | None
    pending: int
    failed: int
    last_error: str | None
    unannounced: int
    last_unannounced_at: dt.datetime | None


def summary(con: Connection) -> dict[int, StoreWebhooks]:
    """Per store that received a webhook: arrivals, backlog, failures, and orders polling found alone.

    An order is *unannounced* when an import (not a webhook) stored it first, it was created after
    the store's first webhook arrived, and no delivery ever carried it: the shop's webhook was
    probably disabled or failing meanwhile.
    """
    rows = con.execute(
        """
        WITH d AS (
            SELECT store_id, count(*) AS received, max(received_at) AS last_at, min(received_at) AS first_at,
                   count(*) FILTER (WHERE processed_at IS NULL) AS pending,
                   count(*) FILTER (WHERE error IS NOT NULL) AS failed,
                   (array_agg(error ORDER BY delivery_id DESC) FILTER (WHERE error IS NOT NULL))[1] AS last_error
            FROM webhook_deliveries GROUP BY store_id
        ), u AS (
            SELECT o.store_id, count(*) AS unannounced, max(o.created_at) AS last_unannounced
            FROM orders o JOIN d ON d.store_id = o.store_id
            JOIN import_runs r ON r.run_id = o.first_run AND r.mode <> 'webhook'
            WHERE o.created_at >= d.first_at AND NOT EXISTS (
                SELECT 1 FROM webhook_deliveries w WHERE w.store_id = o.store_id AND w.order_id = o.order_id)
            GROUP BY o.store_id
        )
        SELECT d.store_id, d.received, d.last_at, d.pending, d.failed, d.last_error,
               coalesce(u.unannounced, 0), u.last_unannounced
        FROM d LEFT JOIN u USING (store_id)
        """
    ).fetchall()
    return {
        int(r[0]): StoreWebhooks(int(r[0]), int(r[1]), r[2], int(r[3]), int(r[4]), r[5], int(r[6]), r[7])
        for r in rows
    }
