"""The signed chains: canonical forms, HMAC-SHA256 signatures, series heads, the event journal.

Every fiscal record (invoice, credit note, journal entry) stores
``signature = HMAC-SHA256(key, prev_signature + canonical)`` where ``canonical``
is the sorted-keys compact JSON of its frozen fields (amounts as integer cents,
instants as UTC epoch microseconds; never the row id, so a series restored
into another database still verifies).  ``series_counters`` holds each series'
head (last number and signature) so that deleting the tail is detected too.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from typing import Any

import duckdb
import orjson

JOURNAL_SERIES = "journal"


def canonical(fields: dict[str, Any]) -> bytes:
    return orjson.dumps(fields, option=orjson.OPT_SORT_KEYS)


def sign(key: bytes, prev_signature: str, canonical_form: bytes) -> str:
    return hmac.new(key, prev_signature.encode() + canonical_form, hashlib.sha256).hexdigest()


def head(con: duckdb.DuckDBPyConnection, series: str) -> tuple[int, str]:
    """(last seq, last signature) of a series; (0, "") before its first record."""
    row = one(con, "SELECT last_seq, last_signature FROM series_counters WHERE series = ?", [series])
    return (int(row[0]), str(row[1])) if row else (0, "")


def set_head(con: duckdb.DuckDBPyConnection, series: str, kind: str, seq: int, signature: str) -> None:
    con.execute(
        "INSERT INTO series_counters VALUES (?, ?, ?, ?, now()) ON CONFLICT (series) DO UPDATE SET "
        "last_seq = excluded.last_seq, last_signature = excluded.last_signature, updated_at = excluded.updated_at",
        [series, kind, seq, signature],
    )


def journal_canonical(
    seq: int, at_us: int, kind: str, actor: str, subject: str | None, detail: str, prev: str
) -> bytes:
    return canonical(
        {
            "seq": seq,
            "at": at_us,
            "kind": kind,
            "actor": actor,
            "subject": subject,
            "detail": detail,
            "prev_signature": prev,
        }
    )


def journal(
    con: duckdb.DuckDBPyConnection,
    key: bytes,
    kind: str,
    actor: str,
    subject: str | None,
    detail: dict[str, Any],
) -> int:
    """Append one signed entry to the event journal (inside the caller's transaction, if any).

    Kinds used: invoice, credit_note, reprint, export, setting_change, verify_failed, stock_push, shipment.
    The print room records reprints with ``journal(con, key, "reprint", actor, number, {...})``.
    """
    seq, prev = head(con, JOURNAL_SERIES)
    seq += 1
    now = dt.datetime.now(dt.UTC)
    at_us = _epoch_us(now)
    text = orjson.dumps(detail, option=orjson.OPT_SORT_KEYS).decode()
    sig = sign(key, prev, journal_canonical(seq, at_us, kind, actor, subject, text, prev))
    con.execute(
        "INSERT INTO journal VALUES (?, make_timestamp(?)::TIMESTAMPTZ, ?, ?, ?, ?, ?, ?)",
        [seq, at_us, kind, actor, subject, text, prev, sig],
    )
    set_head(con, JOURNAL_SERIES, "journal", seq, sig)
    return seq


def _epoch_us(moment: dt.datetime) -> int:
    return int(moment.timestamp()) * 1_000_000 + moment.microsecond


def epoch_us(moment: dt.datetime) -> int:
    return _epoch_us(moment)


def one(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> tuple[Any, ...] | None:
    """The first row of a query, reading the result to its end (DuckDB keeps an unread result open)."""
    rows = con.execute(sql, params or []).fetchall()
    return tuple(rows[0]) if rows else None
