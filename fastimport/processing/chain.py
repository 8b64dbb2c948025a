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
import functools
import hashlib
import hmac
from typing import Any, Protocol

import orjson

from fastimport.errors import ProcessingError
from fastimport.fiscal import anchors
from fastimport.store.db import Connection, transaction

JOURNAL_SERIES = "journal"
# What the stored key fingerprint is a keyed hash of (never the key itself).
FINGERPRINT_LABEL = b"fastimport signing key fingerprint v1"


class KeyMismatchError(ProcessingError):
    """The signing key is not the one this till's records were signed with: nothing is signed or written."""


def fingerprint(key: bytes) -> str:
    return hmac.new(key, FINGERPRINT_LABEL, hashlib.sha256).hexdigest()


def mismatch_message(env: str | None) -> str:
    where = f"the key in {env}" if env else "the signing key"
    return (
        f"{where} is not the key this till's records were signed with: nothing was signed or written; "
        "set the right key (a deliberate change of key is `fastimport key rotate`)"
    )


def check_key(con: Connection, key: bytes, env: str | None, *, note_refusal: bool = True) -> None:
    """Compare the key with the stored fingerprint before anything is signed.

    The first key to sign is adopted (a database signed before fingerprints existed adopts it only if
    it verifies the journal's last entry).  A different key raises :class:`KeyMismatchError`; the
    refusal is kept in ``pending_events`` (unsigned) and journaled by the next signature made with
    the right key, unless ``note_refusal`` is False (``verify`` writes nothing).
    """
    stored = one(con, "SELECT fingerprint FROM signing_key WHERE id = 1")
    mine = fingerprint(key)
    if stored is not None:
        if stored[0] == mine:
            return
    elif _verifies_last_journal_entry(con, key):
        con.execute("INSERT INTO signing_key VALUES (1, ?, now()) ON CONFLICT DO NOTHING", [mine])
        return
    if note_refusal:
        note_event(con, "key_refused", "till", env, {"environment_variable": env, "fingerprint": mine[:12]})
    raise KeyMismatchError(mismatch_message(env), environment_variable=env)


def _verifies_last_journal_entry(con: Connection, key: bytes) -> bool:
    row = one(
        con,
        "SELECT seq, epoch_us(happened_at), kind, actor, subject, detail, prev_signature, signature FROM journal "
        "ORDER BY seq DESC LIMIT 1",
    )
    if row is None:
        return True
    canon = journal_canonical(int(row[0]), int(row[1]), row[2], row[3], row[4], row[5], row[6])
    return sign(key, str(row[6]), canon) == str(row[7])


def note_event(con: Connection, kind: str, actor: str, subject: str | None, detail: dict[str, Any]) -> None:
    """Keep an event that cannot be signed now (no key, or a refused one) for the next journal write."""
    con.execute(
        "INSERT INTO pending_events (happened_at, kind, actor, subject, detail) VALUES (now(), ?, ?, ?, ?)",
        [kind, actor, subject, orjson.dumps(detail, option=orjson.OPT_SORT_KEYS).decode()],
    )


def seal(key: bytes, prev_signature: str, canonical_form: bytes, signature: str) -> str:
    """A record signed with an earlier key, vouched for with the current one (``fastimport key rotate``)."""
    return sign(key, prev_signature, canonical_form + b"|sealed|" + signature.encode())


def seals(con: Connection) -> dict[tuple[str, int], str]:
    return {
        (str(a), int(b)): str(c)
        for a, b, c in con.execute("SELECT series, seq, seal FROM key_seals").fetchall()
    }


def closed_until(con: Connection, store_ids: list[int]) -> tuple[int, str] | None:
    """(end in epoch µs, closing number) of the latest closing of these stores, or None."""
    if not store_ids:
        return None
    marks = ", ".join("?" * len(store_ids))
    row = one(
        con,
        f"SELECT epoch_us(period_end), number FROM closings WHERE store_id IN ({marks}) "
        "ORDER BY period_end DESC LIMIT 1",
        list(store_ids),
    )
    return (int(row[0]), str(row[1])) if row else None


def check_clock(con: Connection, key: bytes, moment: dt.datetime, store_ids: list[int], actor: str) -> None:
    """Refuse a document dated inside a closed period or before the last one issued (a clock set back).

    The refusal is journaled (signed, in its own transaction) before it is raised.
    """
    at = epoch_us(moment)
    closed = closed_until(con, store_ids)
    last = one(con, "SELECT epoch_us(max(issued_at)), max(issued_at)::VARCHAR FROM invoices")
    reason = None
    if closed is not None and at < closed[0]:
        reason = f"the period up to {_text(closed[0])} is closed ({closed[1]})"
    elif last is not None and last[0] is not None and at < int(last[0]):
        reason = f"a document was already issued at {_text(int(last[0]))}"
    if reason is None:
        return
    detail = {"clock": _text(at), "reason": reason}
    with transaction(con):
        journal(con, key, "clock_set_back", actor, None, detail)
    raise ProcessingError(
        f"refused: the document would be dated {_text(at)}, but {reason}; nothing can be dated inside a closed "
        "period (is the till's clock set back?)"
    )


def _text(us: int) -> str:
    return dt.datetime.fromtimestamp(us / 1_000_000, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def canonical(fields: dict[str, Any]) -> bytes:
    return orjson.dumps(fields, option=orjson.OPT_SORT_KEYS)


def canonical_presorted(fields: dict[str, Any]) -> bytes:
    """:func:`canonical` of a dict whose keys are already in sorted order (nested dicts sort nothing:
    the signed forms nest lists and JSON text only): the same bytes, without sorting them again."""
    return orjson.dumps(fields)


def sign(key: bytes, prev_signature: str, canonical_form: bytes) -> str:
    mac = _keyed(key).copy()
    mac.update(prev_signature.encode())
    mac.update(canonical_form)
    return mac.hexdigest()


@functools.lru_cache(maxsize=4)
def _keyed(key: bytes) -> _Mac:
    """The HMAC state after the key, copied for each record: OpenSSL's one-shot ``hmac.digest`` set the
    key up again for every record, 2.5 times the cost of hashing an invoice (measured).

    OpenSSL's own state (``_hmac``) when the standard library has one: its copy, update and hexdigest
    are C calls, where ``hmac.HMAC``'s Python wrappers cost a third of a signature (3.7 → 2.3 µs).
    The same HMAC-SHA256 either way."""
    mac = hmac.new(key, digestmod=hashlib.sha256)
    state: _Mac = getattr(mac, "_hmac", None) or mac
    return state


class _Mac(Protocol):
    """What :func:`sign` uses of an HMAC state (``hmac.HMAC`` and OpenSSL's both have it)."""

    def copy(self) -> _Mac: ...
    def update(self, data: bytes, /) -> None: ...
    def hexdigest(self) -> str: ...


def lock(con: Connection) -> None:
    """Hold the chains until this transaction ends (PostgreSQL: several tills write one store).

    Every chain-extending transaction also extends the till's journal, one chain for all: they
    take turns anyway.  Taken before the transaction reads what it will sign (the pending orders,
    the heads), so two tills never invoice one order twice, never read the same head (no shared
    number) and a rolled-back one leaves no gap.  DuckDB has one writing process per file: its
    transaction is enough there.
    """
    if getattr(con, "backend", "duckdb") == "postgres":
        con.execute("SELECT pg_advisory_xact_lock(hashtext('fastimport chains'))")


def head(con: Connection, series: str) -> tuple[int, str]:
    """(last seq, last signature) of a series; (0, "") before its first record.

    The chains are locked first (:func:`lock`), until the caller's transaction ends.
    """
    lock(con)
    row = one(con, "SELECT last_seq, last_signature FROM series_counters WHERE series = ?", [series])
    return (int(row[0]), str(row[1])) if row else (0, "")


def set_head(con: Connection, series: str, kind: str, seq: int, signature: str) -> None:
    con.execute(
        "INSERT INTO series_counters VALUES (?, ?, ?, ?, now()) ON CONFLICT (series) DO UPDATE SET "
        "last_seq = excluded.last_seq, last_signature = excluded.last_signature, updated_at = excluded.updated_at",
        [series, kind, seq, signature],
    )
    anchors.mark(con)


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
    con: Connection,
    key: bytes,
    kind: str,
    actor: str,
    subject: str | None,
    detail: dict[str, Any],
) -> int:
    """Append one signed entry to the event journal (inside the caller's transaction, if any).

    Kinds used: invoice, credit_note, reprint, export, setting_change, verify_failed, stock_push, shipment.
    The print room records reprints with ``journal(con, key, "reprint", actor, number, {...})``.
    A key other than the stored fingerprint's raises :class:`KeyMismatchError` (the caller's
    transaction rolls back).  Events kept in ``pending_events`` are journaled first, oldest first.
    """
    stored = one(con, "SELECT fingerprint FROM signing_key WHERE id = 1")
    if stored is None:
        check_key(con, key, None, note_refusal=False)
    elif stored[0] != fingerprint(key):
        raise KeyMismatchError(mismatch_message(None))
    pending = con.execute(
        "SELECT event_id, happened_at::VARCHAR, kind, actor, subject, detail FROM pending_events ORDER BY event_id"
    ).fetchall()
    for event_id, at, p_kind, p_actor, p_subject, p_detail in pending:
        _append(con, key, str(p_kind), str(p_actor), p_subject, {**orjson.loads(p_detail), "happened_at": at})
        con.execute("DELETE FROM pending_events WHERE event_id = ?", [event_id])
    return _append(con, key, kind, actor, subject, detail)


def _append(
    con: Connection,
    key: bytes,
    kind: str,
    actor: str,
    subject: str | None,
    detail: dict[str, Any],
) -> int:
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


def one(con: Connection, sql: str, params: list[Any] | None = None) -> tuple[Any, ...] | None:
    """The first row of a query, reading the result to its end (DuckDB keeps an unread result open)."""
    rows = con.execute(sql, params or []).fetchall()
    return tuple(rows[0]) if rows else None
