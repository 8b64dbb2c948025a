"""Site-local time for the simulated shop: epoch seconds <-> WooCommerce's offset-less date strings."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

_DAYS: dict[int, str] = {}


def fmt(ts: int) -> str:
    """Epoch seconds (already shifted to the wanted frame) -> "YYYY-MM-DDTHH:MM:SS"."""
    day, secs = divmod(ts, 86400)
    prefix = _DAYS.get(day)
    if prefix is None:
        t = time.gmtime(day * 86400)
        prefix = _DAYS[day] = f"{t.tm_year:04d}-{t.tm_mon:02d}-{t.tm_mday:02d}T"
    hours, rest = divmod(secs, 3600)
    return f"{prefix}{hours:02d}:{rest // 60:02d}:{rest % 60:02d}"


class SiteClock:
    """Converts UTC epoch seconds to the site's wall clock ("local epoch": local time read as if UTC).

    Offsets only change at DST transitions, so they are cached per hour: 1M orders convert in well
    under a second.
    """

    def __init__(self, timezone: str) -> None:
        self.tz = ZoneInfo(timezone)
        self._offsets: dict[int, int] = {}

    def offset(self, ts: int) -> int:
        hour = ts // 3600
        off = self._offsets.get(hour)
        if off is None:
            delta = datetime.fromtimestamp(hour * 3600, UTC).astimezone(self.tz).utcoffset()
            off = int(delta.total_seconds()) if delta is not None else 0
            self._offsets[hour] = off
        return off

    def local(self, ts: int) -> int:
        return ts + self.offset(ts)

    def parse_bound(self, text: str, gmt: bool) -> int:
        """A query date (ISO-8601, offset optional) -> seconds in the frame it is compared in.

        Without an offset the value is taken as-is in the compared frame (site-local, or GMT with
        ``dates_are_gmt``), as WordPress does; with an offset it is converted to that frame.
        """
        value = text.strip().replace(" ", "T")
        if value.endswith(("Z", "z")):
            value = value[:-1] + "+00:00"
        parsed = datetime.fromisoformat(value)  # ValueError -> 400 at the caller
        if parsed.tzinfo is None:
            return int(parsed.replace(tzinfo=UTC).timestamp())
        utc = int(parsed.timestamp())
        return utc if gmt else self.local(utc)
