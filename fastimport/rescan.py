"""A re-import's shortcut: a page whose orders are all stored as they are costs a scan, not a parse.

The scan reads only what the dedup and the range need (order id, dates, raw JSON and its content
hash, which is the same XXH3 over the same bytes as the whole parse's); the connector says what the
hashes become after its ``adjust`` (refunds fetched and laid onto their orders).  When every order of
the page is in range and stored with that very modified date and hash, ``Dedup.settle`` counts the page
as unchanged: nothing would be written, so nothing else is read.  Any other page goes the whole way
(parse, adjust, classify, hold), as does every page after one that did not settle, until a page settles
again in the whole path: a first import pays no scan, a re-import pays no parse.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from types import ModuleType
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from fastimport.columns import HASH_COLUMN, RAW_COLUMN, PageSpec
from fastimport.errors import ParseError

ID, MODIFIED = "order_id", "modified_at"


@dataclasses.dataclass(frozen=True, slots=True)
class Settled:
    """What a settled page adds to the run's counters."""

    orders: int
    unchanged: int
    repeated: int
    max_modified: int


class Rescan:
    """The scan-first path of one store's run (parse thread)."""

    def __init__(
        self,
        core: ModuleType,
        spec: PageSpec,
        rehash: Callable[[pa.Table], pa.Array | pa.ChunkedArray],
        range_column: str,
        lo_us: int,
        hi_us: int,
    ) -> None:
        wanted = {ID, MODIFIED, range_column}
        self.needs = wanted | {HASH_COLUMN, RAW_COLUMN}  # what a connector's scan must hold to be used
        self.spec = dataclasses.replace(
            spec, order_fields=tuple(f for f in spec.order_fields if f.name in wanted), line_fields=()
        )
        self.core, self.rehash, self.range_column = core, rehash, range_column
        self.lo_us, self.hi_us = lo_us, hi_us
        self.ready = True  # the last page settled: scan the next one first

    def settle(self, body: bytes, dedup: Any, scan: pa.Table | None = None) -> Settled | None:
        """The page's counts when it is all stored as it is (marked seen), else None and nothing changed.

        ``scan`` is the page's order columns if the connector already scanned them (``Page.scan``)."""
        if scan is not None and self.needs.issubset(scan.column_names):
            orders = scan
        else:
            try:
                orders = self.core.parse_page(body, self.spec).orders
            except ParseError:
                self.ready = False
                return None
        if orders.num_rows == 0:
            return None
        bounds = pc.min_max(orders.column(self.range_column)).as_py()
        if bounds["min"] < self.lo_us or bounds["max"] >= self.hi_us:
            return None  # the range's edge: the whole path filters it
        modified = orders.column(MODIFIED)
        counts = dedup.settle(orders.column(ID), modified, self.rehash(orders))
        if counts is None:
            self.ready = False
            return None
        return Settled(orders.num_rows, counts[0], counts[1], pc.max(modified).as_py())
