"""Internal follow-up comments on an order, by several people; kept in the order history too."""

from __future__ import annotations

from typing import Any

from fastimport.errors import ProcessingError
from fastimport.processing import lifecycle
from fastimport.store.db import Connection, transaction


def add_comment(con: Connection, order: lifecycle.OrderRef, text: str, author: str) -> None:
    if not text.strip():
        raise ProcessingError("an empty comment says nothing: write some text")
    if not author.strip():
        raise ProcessingError("a comment needs an author (--author)")
    with transaction(con):
        con.execute(
            "INSERT INTO comments (store_id, order_id, author, written_at, text) VALUES (?, ?, ?, now(), ?)",
            [order.store_id, order.order_id, author.strip(), text.strip()],
        )
        lifecycle.record_event(con, order, "comment", author.strip(), text.strip())


def comments(con: Connection, order: lifecycle.OrderRef) -> list[dict[str, Any]]:
    rows = con.execute(
        "SELECT author, written_at, text FROM comments WHERE store_id = ? AND order_id = ? ORDER BY comment_id",
        [order.store_id, order.order_id],
    ).fetchall()
    return [{"author": r[0], "at": r[1].isoformat(), "text": r[2]} for r in rows]
