"""Date ranges in the store's time zone: today, yesterday, this week, explicit, incremental.

A range is half-open ``[start, end)`` in UTC once resolved; users speak in local
whole days (both ends inclusive), which is converted here and nowhere else.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal
from zoneinfo import ZoneInfo

from fastimport.errors import ConfigError

Field = Literal["created", "modified"]


@dataclass(frozen=True, slots=True)
class ImportRange:
    """Orders whose ``field`` date lies in ``[start, end)`` (UTC)."""

    start: dt.datetime
    end: dt.datetime
    field: Field
    mode: str

    def describe(self, zone: ZoneInfo) -> str:
        fmt = "%Y-%m-%d %H:%M"
        return (
            f"{self.field} from {self.start.astimezone(zone).strftime(fmt)} "
            f"to {self.end.astimezone(zone).strftime(fmt)} ({zone.key})"
        )


def local_midnight(day: dt.date, zone: ZoneInfo) -> dt.datetime:
    """The instant a local day starts, in UTC (correct on daylight-saving change days)."""
    return dt.datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(dt.UTC)


def day_range(first: dt.date, last: dt.date, zone: ZoneInfo, mode: str) -> ImportRange:
    """Whole local days ``first``..``last``, both inclusive."""
    if last < first:
        raise ConfigError(f"the range ends ({last}) before it starts ({first})", key="until")
    return ImportRange(
        local_midnight(first, zone), local_midnight(last + dt.timedelta(days=1), zone), "created", mode
    )


def today(zone: ZoneInfo, now: dt.datetime | None = None) -> ImportRange:
    day = (now or dt.datetime.now(dt.UTC)).astimezone(zone).date()
    return day_range(day, day, zone, "today")


def yesterday(zone: ZoneInfo, now: dt.datetime | None = None) -> ImportRange:
    day = (now or dt.datetime.now(dt.UTC)).astimezone(zone).date() - dt.timedelta(days=1)
    return day_range(day, day, zone, "yesterday")


def this_week(zone: ZoneInfo, now: dt.datetime | None = None) -> ImportRange:
    """From Monday of the current week (French weeks start on Monday) to the end of today."""
    day = (now or dt.datetime.now(dt.UTC)).astimezone(zone).date()
    monday = day - dt.timedelta(days=day.weekday())
    return day_range(monday, day, zone, "week")


def parse_bound(text: str, zone: ZoneInfo, *, is_end: bool) -> dt.datetime:
    """A date (a whole local day, inclusive) or an ISO 8601 date-time (local when it has no offset)."""
    text = text.strip()
    try:
        if len(text) == 10:
            day = dt.date.fromisoformat(text)
            return local_midnight(day + dt.timedelta(days=1) if is_end else day, zone)
        moment = dt.datetime.fromisoformat(text)
    except ValueError as exc:
        option = "--until" if is_end else "--since"
        raise ConfigError(
            f"{option} '{text}' is neither a date (2026-05-16) nor an ISO 8601 date-time (2026-05-16T09:30)",
            key=option,
        ) from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(dt.UTC)


def explicit(since: str, until: str | None, zone: ZoneInfo, now: dt.datetime | None = None) -> ImportRange:
    start = parse_bound(since, zone, is_end=False)
    end = parse_bound(until, zone, is_end=True) if until else (now or dt.datetime.now(dt.UTC))
    if end <= start:
        raise ConfigError(f"the range ends ({until or 'now'}) before it starts ({since})", key="--until")
    return ImportRange(start, end, "created", "range")


def incremental(
    watermark: dt.datetime | None, overlap: dt.timedelta, zone: ZoneInfo, now: dt.datetime | None = None
) -> ImportRange:
    """Orders modified since the last run's watermark, minus an overlap for clock skew and late writes.

    With no watermark yet (first run), this is the current week by creation date.
    """
    if watermark is None:
        return this_week(zone, now)
    now = now or dt.datetime.now(dt.UTC)
    return ImportRange(watermark - overlap, now + dt.timedelta(minutes=1), "modified", "incremental")


RangeKind = Literal["today", "yesterday", "week", "between", "incremental"]


@dataclass(frozen=True, slots=True)
class RangeRequest:
    """What the user asked for, before it is resolved per store (each store has its own time zone).

    Build one with :meth:`today`, :meth:`yesterday`, :meth:`week`, :meth:`between` or
    :meth:`incremental`; :func:`fastimport.import_stores` resolves it for every store.
    """

    kind: RangeKind
    since: str | None = None  # between: a date (whole local day) or an ISO 8601 date-time
    until: str | None = None  # between: inclusive end; None means now

    @classmethod
    def today(cls) -> RangeRequest:
        return cls("today")

    @classmethod
    def yesterday(cls) -> RangeRequest:
        return cls("yesterday")

    @classmethod
    def week(cls) -> RangeRequest:
        return cls("week")

    @classmethod
    def between(cls, since: str | dt.date, until: str | dt.date | None = None) -> RangeRequest:
        return cls("between", str(since), None if until is None else str(until))

    @classmethod
    def incremental(cls) -> RangeRequest:
        return cls("incremental")

    def resolve(
        self,
        zone: ZoneInfo,
        *,
        watermark: dt.datetime | None = None,
        overlap: dt.timedelta = dt.timedelta(0),
        now: dt.datetime | None = None,
    ) -> ImportRange:
        """The exact UTC range for a store in ``zone`` (``watermark``: its last incremental import)."""
        if self.kind == "today":
            return today(zone, now)
        if self.kind == "yesterday":
            return yesterday(zone, now)
        if self.kind == "week":
            return this_week(zone, now)
        if self.kind == "between":
            if not self.since:
                raise ConfigError("a date range needs its first day (--since)", key="--since")
            return explicit(self.since, self.until, zone, now)
        return incremental(watermark, overlap, zone, now)
