"""What the harness hands a peer's subprocess (JSON on stdin), and what it gets back (one JSON line)."""

from __future__ import annotations

import datetime as dt
import resource
from dataclasses import asdict, dataclass, field
from typing import Any

from bench.shop import API

RESULT_PREFIX = "BENCH_RESULT "


@dataclass(frozen=True, slots=True)
class Job:
    peer: str
    url: str
    start: str  # ISO 8601, UTC: the [start, end) range of creation dates this peer reads
    end: str
    workdir: str
    db: str = ""
    concurrency: int = 16
    per_page: int = 100
    batch_orders: int = 20_000
    target_orders: int = 0  # duckdb ceiling: how many orders to insert in all
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def api(self) -> str:
        return self.url + API

    def bounds(self) -> tuple[dt.datetime, dt.datetime]:
        return dt.datetime.fromisoformat(self.start), dt.datetime.fromisoformat(self.end)

    def listing_params(self, page: int) -> list[tuple[str, str]]:
        """The query fastimport's WooCommerce connector sends (bounds widened by a second, id order)."""
        start, end = self.bounds()
        fmt = "%Y-%m-%dT%H:%M:%S"
        return [
            ("after", (start - dt.timedelta(seconds=1)).astimezone(dt.UTC).strftime(fmt)),
            ("before", (end + dt.timedelta(seconds=1)).astimezone(dt.UTC).strftime(fmt)),
            ("dates_are_gmt", "true"),
            ("status", "any"),
            ("orderby", "id"),
            ("order", "asc"),
            ("per_page", str(self.per_page)),
            ("page", str(page)),
        ]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Job:
        return cls(**data)


def peak_rss_mb() -> float:
    """Peak resident memory of this process (or of a child it ran, if bigger), in MB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return round(max(own, children) / 1024, 1)  # Linux: kilobytes
