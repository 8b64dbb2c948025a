"""Closings (Z): immutable, chained day / month / year records per store, with the perpetual grand total.

A closing freezes, for one store and one period (in the store's time zone): the number of invoices,
credit notes and lines; totals per VAT rate (HT, TVA, TTC); totals per payment method; the credit
notes; the rounding adjustments; the first and last number of each series; the chain heads at that
moment; and the perpetual grand total (the running total TTC since the first record, and the running
total of absolute values, which only grows).  Each closing is a record of its store's ``Z-<store>``
series: ``signature = HMAC-SHA256(key, prev_signature + canonical)`` like invoices, its head in
``series_counters`` and in the anchor file.  Once a period is closed, nothing can be dated in it.

A month closes its unclosed days first, a year its months; invoicing on a later day closes the days
left unclosed, oldest first (:func:`close_pending_days`).
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import orjson

from fastimport.errors import ProcessingError
from fastimport.processing import chain, money, numbering
from fastimport.store.db import Connection, transaction

KINDS = ("day", "month", "year")
SERIES_PREFIX = "Z-"

_FIELDS = (
    "series", "seq", "number", "store", "period_kind", "period", "period_start", "period_end", "closed_at",
    "figures", "grand_total", "grand_total_abs", "actor", "prev_signature",
)  # fmt: skip
SELECT_FIELDS = (
    "series, seq, number, store, period_kind, period, epoch_us(period_start), epoch_us(period_end), "
    "epoch_us(closed_at), figures, grand_total, grand_total_abs, actor, prev_signature, signature"
)


def canonical(row: tuple[Any, ...] | list[Any]) -> bytes:
    """The signed form of a closing, from its stored fields in ``_FIELDS`` order."""
    return chain.canonical(dict(zip(_FIELDS, row[: len(_FIELDS)], strict=True)))


@dataclass(frozen=True, slots=True)
class Closing:
    number: str
    store: str
    period_kind: str
    period: str
    start: dt.datetime
    end: dt.datetime
    closed_at: dt.datetime
    figures: dict[str, Any]
    grand_total: int
    grand_total_abs: int
    signature: str
    automatic: bool = False

    def to_json(self) -> dict[str, Any]:
        f = self.figures
        return {
            "number": self.number,
            "store": self.store,
            "period_kind": self.period_kind,
            "period": self.period,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "closed_at": self.closed_at.isoformat(),
            "automatic": self.automatic,
            "invoices": f["invoices"],
            "credit_notes": f["credit_notes"],
            "lines": f["lines"],
            "total_ht": money.cents(f["total_ht"]),
            "total_vat": money.cents(f["total_vat"]),
            "total_ttc": money.cents(f["total_ttc"]),
            "adjustment": money.cents(f["adjustment"]),
            "credit_notes_ttc": money.cents(f["credit_notes_ttc"]),
            "vat": [
                {
                    "rate": money.rate_text(int(r)),
                    "ht": money.cents(v[0]),
                    "tva": money.cents(v[1]),
                    "ttc": money.cents(v[0] + v[1]),
                }
                for r, v in sorted(f["vat"].items(), key=lambda kv: -int(kv[0]))
            ],
            "payments": [
                {"method": m, "count": v[0], "ttc": money.cents(v[1])}
                for m, v in sorted(f["payments"].items())
            ],
            "numbers": f["numbers"],
            "heads": f["heads"],
            "grand_total": money.cents(self.grand_total),
            "grand_total_abs": money.cents(self.grand_total_abs),
            "signature": self.signature,
        }


# -- periods ---------------------------------------------------------------------------------------


def period_of(kind: str, day: dt.date) -> tuple[str, dt.date, dt.date]:
    """(label, first day, first day after) of the ``kind`` period holding ``day``."""
    if kind == "day":
        return day.isoformat(), day, day + dt.timedelta(days=1)
    if kind == "month":
        first = day.replace(day=1)
        return (
            first.strftime("%Y-%m"),
            first,
            first + dt.timedelta(days=calendar.monthrange(day.year, day.month)[1]),
        )
    if kind == "year":
        first = dt.date(day.year, 1, 1)
        return str(day.year), first, dt.date(day.year + 1, 1, 1)
    raise ProcessingError(f"a closing is per day, month or year (not {kind!r})")


def _instant(day: dt.date, zone: ZoneInfo) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(dt.UTC)


def _store(con: Connection, name: str) -> tuple[int, str, ZoneInfo]:
    row = chain.one(con, "SELECT store_id, name, timezone FROM stores WHERE name = ?", [name])
    if row is None:
        raise ProcessingError(f"no store named {name!r} in this till's records")
    return int(row[0]), str(row[1]), ZoneInfo(str(row[2]))


def store_names(con: Connection) -> list[str]:
    return [str(r[0]) for r in con.execute("SELECT name FROM stores ORDER BY name").fetchall()]


# -- figures ---------------------------------------------------------------------------------------


def figures(con: Connection, store_id: int, start_us: int, end_us: int) -> dict[str, Any]:
    """What a closing freezes of the documents issued in [start, end): counts and totals in cents."""
    where = "i.store_id = ? AND epoch_us(i.issued_at) >= ? AND epoch_us(i.issued_at) < ?"
    p = [store_id, start_us, end_us]
    t = chain.one(
        con,
        "SELECT count(*) FILTER (WHERE kind = 'invoice'), count(*) FILTER (WHERE kind = 'credit_note'), "
        "coalesce(sum(line_count), 0), coalesce(sum(CAST(total_ht * 100 AS BIGINT)), 0), "
        "coalesce(sum(CAST(total_vat * 100 AS BIGINT)), 0), coalesce(sum(CAST(total_ttc * 100 AS BIGINT)), 0), "
        "coalesce(sum(CAST(adjustment * 100 AS BIGINT)), 0), "
        "coalesce(sum(CAST(total_ttc * 100 AS BIGINT)) FILTER (WHERE kind = 'credit_note'), 0) "
        f"FROM invoices i WHERE {where}",
        p,
    )
    assert t is not None
    vat = {
        str(int(r[0])): [int(r[1]), int(r[2])]
        for r in con.execute(
            "SELECT CAST(v.vat_rate * 10 AS INTEGER), sum(CAST(v.base_ht * 100 AS BIGINT)), "
            f"sum(CAST(v.vat * 100 AS BIGINT)) FROM invoice_vat v JOIN invoices i USING (invoice_id) WHERE {where} "
            "GROUP BY 1 ORDER BY 1 DESC",
            p,
        ).fetchall()
    }
    payments = {
        str(r[0]): [int(r[1]), int(r[2])]
        for r in con.execute(
            "SELECT coalesce(payment_method, 'none'), count(*), sum(CAST(total_ttc * 100 AS BIGINT)) "
            f"FROM invoices i WHERE {where} GROUP BY 1 ORDER BY 1",
            p,
        ).fetchall()
    }
    numbers = {
        str(r[0]): [str(r[1]), str(r[2])]
        for r in con.execute(
            f"SELECT series, min(number), max(number) FROM invoices i WHERE {where} GROUP BY 1 ORDER BY 1",
            p,
        ).fetchall()
    }
    return {
        "invoices": int(t[0]),
        "credit_notes": int(t[1]),
        "lines": int(t[2]),
        "total_ht": int(t[3]),
        "total_vat": int(t[4]),
        "total_ttc": int(t[5]),
        "adjustment": int(t[6]),
        "credit_notes_ttc": int(t[7]),
        "vat": vat,
        "payments": payments,
        "numbers": numbers,
    }


def _grand_totals(con: Connection, store_id: int, end_us: int) -> tuple[int, int]:
    row = chain.one(
        con,
        "SELECT coalesce(sum(CAST(total_ttc * 100 AS BIGINT)), 0), coalesce(sum(abs(CAST(total_ttc * 100 AS "
        "BIGINT))), 0) FROM invoices WHERE store_id = ? AND epoch_us(issued_at) < ?",
        [store_id, end_us],
    )
    assert row is not None
    return int(row[0]), int(row[1])


# -- closing ---------------------------------------------------------------------------------------


def close(
    con: Connection,
    key: bytes,
    store: str,
    kind: str,
    day: dt.date,
    *,
    actor: str = "till",
    now: dt.datetime | None = None,
) -> list[Closing]:
    """Close ``store``'s ``kind`` period holding ``day``, after the unclosed periods it needs (oldest first).

    Returns every closing made, the requested one last.  A period already closed, a month or year not
    over yet, or a day in the future is refused.
    """
    now = now or dt.datetime.now(dt.UTC)
    store_id, name, zone = _store(con, store)
    label, first, after = period_of(kind, day)
    today = now.astimezone(zone).date()
    if first > today:
        raise ProcessingError(f"the {kind} {label} has not started yet: it cannot be closed")
    if kind != "day" and after > today:
        raise ProcessingError(f"the {kind} {label} is not over yet: close it from {after.isoformat()} on")
    existing = _existing(con, store_id, kind, label)
    if existing:
        raise ProcessingError(f"the {kind} {label} of {name} is already closed ({existing})")
    made = close_pending(con, key, name, kind, first, actor=actor, now=now)
    if kind != "day":  # the finer periods inside it
        made += close_pending(con, key, name, KINDS[KINDS.index(kind) - 1], after, actor=actor, now=now)
    made.append(_close_one(con, key, store_id, name, zone, kind, label, first, after, actor, now, False))
    return made


def close_pending(
    con: Connection,
    key: bytes,
    store: str,
    kind: str,
    before: dt.date,
    *,
    actor: str = "till",
    now: dt.datetime | None = None,
) -> list[Closing]:
    """Close, oldest first, the periods with documents that end by ``before`` and are not closed yet:
    the days first, then (for "month" and "year") the months, then (for "year") the years."""
    now = now or dt.datetime.now(dt.UTC)
    store_id, name, zone = _store(con, store)
    kinds = KINDS[: KINDS.index(kind) + 1]
    made: list[Closing] = []
    for k in kinds:
        days = [
            dt.date.fromisoformat(str(r[0]))
            for r in con.execute(
                "SELECT DISTINCT CAST(timezone(?, issued_at) AS DATE) FROM invoices WHERE store_id = ? "
                "ORDER BY 1",
                [zone.key, store_id],
            ).fetchall()
        ]
        done: set[str] = set()
        for d in days:
            label, first, after = period_of(k, d)
            if after > before or label in done:
                continue
            done.add(label)
            if _existing(con, store_id, k, label) is None:
                made.append(
                    _close_one(con, key, store_id, name, zone, k, label, first, after, actor, now, True)
                )
    return made


def close_pending_days(
    con: Connection, key: bytes, *, actor: str = "till", now: dt.datetime | None = None
) -> list[Closing]:
    """The days with documents before today (each store's time zone) left unclosed: closed, oldest first."""
    now = now or dt.datetime.now(dt.UTC)
    made: list[Closing] = []
    for name in store_names(con):
        _sid, _n, zone = _store(con, name)
        made += close_pending(con, key, name, "day", now.astimezone(zone).date(), actor=actor, now=now)
    return made


def _existing(con: Connection, store_id: int, kind: str, label: str) -> str | None:
    row = chain.one(
        con,
        "SELECT number FROM closings WHERE store_id = ? AND period_kind = ? AND period = ?",
        [store_id, kind, label],
    )
    return str(row[0]) if row else None


def _close_one(
    con: Connection,
    key: bytes,
    store_id: int,
    store: str,
    zone: ZoneInfo,
    kind: str,
    label: str,
    first: dt.date,
    after: dt.date,
    actor: str,
    now: dt.datetime,
    automatic: bool,
) -> Closing:
    start, end = _instant(first, zone), _instant(after, zone)
    start_us, end_us, now_us = chain.epoch_us(start), chain.epoch_us(end), chain.epoch_us(now)
    series = SERIES_PREFIX + store
    with transaction(con):
        chain.lock(con)
        figs = figures(con, store_id, start_us, end_us)
        figs["heads"] = {
            str(r[0]): [int(r[1]), str(r[2])]
            for r in con.execute(
                "SELECT series, last_seq, last_signature FROM series_counters WHERE kind <> 'delivery' ORDER BY 1"
            ).fetchall()
        }
        figs["automatic"] = automatic
        grand, grand_abs = _grand_totals(con, store_id, end_us)
        seq, prev = chain.head(con, series)
        seq += 1
        number = numbering.document_number(series, seq)
        text = orjson.dumps(figs, option=orjson.OPT_SORT_KEYS).decode()
        row = [
            series,
            seq,
            number,
            store,
            kind,
            label,
            start_us,
            end_us,
            now_us,
            text,
            grand,
            grand_abs,
            actor,
            prev,
        ]
        signature = chain.sign(key, prev, canonical(row))
        nxt = chain.one(con, "SELECT coalesce(max(closing_id), 0) + 1 FROM closings")
        assert nxt is not None
        con.execute(
            "INSERT INTO closings VALUES (?, ?, ?, ?, ?, ?, ?, ?, make_timestamp(?)::TIMESTAMPTZ, "
            "make_timestamp(?)::TIMESTAMPTZ, make_timestamp(?)::TIMESTAMPTZ, ?, ?, ?, ?, ?, ?)",
            [int(nxt[0]), series, seq, number, store_id, store, kind, label, start_us, end_us, now_us, text, grand,
             grand_abs, actor, prev, signature],
        )  # fmt: skip
        chain.set_head(con, series, "closing", seq, signature)
        chain.journal(
            con, key, "closing", actor, number,
            {"store": store, "period_kind": kind, "period": label, "total_ttc": money.cents(figs["total_ttc"]),
             "grand_total": money.cents(grand), "automatic": automatic},
        )  # fmt: skip
    return Closing(number, store, kind, label, start, end, now, figs, grand, grand_abs, signature, automatic)


def closings(con: Connection, store: str | None = None, kind: str | None = None) -> list[Closing]:
    """Stored closings, oldest first (optionally of one store and one kind)."""
    rows = con.execute(
        f"SELECT {SELECT_FIELDS} FROM closings WHERE (? IS NULL OR store = ?) AND (? IS NULL OR period_kind = ?) "
        "ORDER BY closed_at, closing_id",
        [store, store, kind, kind],
    ).fetchall()
    out = []
    for r in rows:
        figs = orjson.loads(r[9])
        out.append(
            Closing(
                str(r[2]), str(r[3]), str(r[4]), str(r[5]), _utc(int(r[6])), _utc(int(r[7])), _utc(int(r[8])),
                figs, int(r[10]), int(r[11]), str(r[14]), bool(figs.get("automatic")),
            )
        )  # fmt: skip
    return out


def _utc(us: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(us / 1_000_000, dt.UTC)


def ticket(closing: Closing, seller_name: str, siret: str, software: str) -> Any:
    """The closing's Z ticket content (:class:`fastimport.print.content.ClosingTicket`)."""
    from decimal import Decimal

    from fastimport.print.content import ClosingTicket, VatAmount

    f = closing.figures
    rates = sorted(f["vat"].items(), key=lambda kv: -int(kv[0]))

    def d(cents: int) -> Decimal:
        return Decimal(cents) / 100

    return ClosingTicket(
        number=closing.number, seller_name=seller_name, siret=siret, store=closing.store,
        period_kind=closing.period_kind, period=closing.period, closed_at=closing.closed_at,
        automatic=closing.automatic, invoices=f["invoices"], credit_notes=f["credit_notes"], lines=f["lines"],
        vat=tuple(VatAmount(rate=Decimal(int(r)) / 10, base_excl=d(v[0]), vat=d(v[1])) for r, v in rates),
        vat_ttc=tuple(d(v[0] + v[1]) for _r, v in rates),
        payments=tuple((m, v[0], d(v[1])) for m, v in sorted(f["payments"].items())),
        credit_notes_ttc=d(f["credit_notes_ttc"]), adjustment=d(f["adjustment"]), total_ht=d(f["total_ht"]),
        total_vat=d(f["total_vat"]), total_ttc=d(f["total_ttc"]), grand_total=d(closing.grand_total),
        grand_total_abs=d(closing.grand_total_abs),
        heads=tuple((s, int(h[0]), str(h[1])) for s, h in sorted(f["heads"].items())),
        signature=closing.signature, software=software,
    )  # fmt: skip
