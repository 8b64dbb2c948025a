"""Orders set aside by an import (unreadable: wrong type, malformed value), with their JSON and the reason.

A row stays open until a later import stores the order (the shop fixed it); ``fastimport orders
--set-aside`` lists the open ones.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from fastimport.store.db import Connection


def record(
    con: Connection, store_id: int, run_id: int, items: Sequence[tuple[int | None, bytes, str]]
) -> None:
    now = dt.datetime.now(dt.UTC)
    for order_id, raw, reason in items:
        updated = con.execute(
            "UPDATE set_aside_orders SET last_seen = ?, run_id = ?, raw = ?, reason = ? WHERE store_id = ? AND "
            "order_id IS NOT DISTINCT FROM ? AND resolved_at IS NULL RETURNING 1",
            [now, run_id, raw, reason, store_id, order_id],
        ).fetchall()
        if not updated:
            con.execute(
                "INSERT INTO set_aside_orders (store_id, order_id, run_id, raw, reason, first_seen, last_seen) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                [store_id, order_id, run_id, raw, reason, now, now],
            )


def resolve(con: Connection, store_id: int, run_id: int) -> int:
    """Close the open rows whose order this run stored (read cleanly at last)."""
    rows = con.execute(
        "UPDATE set_aside_orders a SET resolved_at = ? FROM orders o WHERE a.store_id = ? AND a.resolved_at IS "
        "NULL AND a.run_id <> ? AND o.store_id = a.store_id AND o.order_id = a.order_id AND o.last_run = ? "
        "RETURNING a.order_id",
        [dt.datetime.now(dt.UTC), store_id, run_id, run_id],
    ).fetchall()
    return len(rows)


def open_rows(con: Connection) -> list[dict[str, Any]]:
    rows = con.execute(
        "SELECT s.name, a.order_id, a.reason, a.first_seen, a.last_seen, a.run_id, a.raw FROM set_aside_orders a "
        "JOIN stores s USING (store_id) WHERE a.resolved_at IS NULL ORDER BY s.name, a.first_seen, a.order_id"
    ).fetchall()
    return [
        {
            "store": r[0], "id": r[1], "reason": r[2], "first_seen": r[3].isoformat(), "last_seen": r[4].isoformat(),
            "run_id": r[5], "raw": bytes(r[6]).decode("utf-8", "replace"),
        }
        for r in rows
    ]  # fmt: skip


def close_run(
    con: Connection,
    store_id: int,
    run_id: int,
    store_name: str,
    items: Sequence[tuple[int | None, bytes, str]],
    error: str | None,
) -> str | None:
    """Record the orders set aside (the rest of their pages is stored) and close those read cleanly now;
    the run fails naming them."""
    resolve(con, store_id, run_id)
    if not items:
        return error
    record(con, store_id, run_id, items)
    named = "; ".join(f"order {oid if oid is not None else '?'}: {why}" for oid, _, why in items[:5])
    more = f" (and {len(items) - 5} more)" if len(items) > 5 else ""
    aside = (
        f"store '{store_name}': {len(items)} order(s) could not be read and were set aside, the others "
        f"were stored ({named}{more}); see fastimport orders --set-aside"
    )
    return aside if error is None else f"{error}; {aside}"
