"""Orders handed over whole (a webhook's body) through the import's parse -> dedup -> store path.

``ingest_pages(con, store, pages)`` runs the same steps as one store's import, with the same
code (:class:`fastimport.importer._StoreImport`): the connector's ``page_spec`` and ``adjust``, the
core's ``parse_page`` and ``Dedup``, ``store.imports.write_batch``.  An order already stored
unchanged is left alone; a newer version updates a pending order and becomes an event on an
invoiced one.  Three things differ from a ranged import: every date is in range; the dedup set
holds the fingerprints of the pages' orders only (a webhook brings a few orders to a store that may
hold millions); and a version older than the stored one is skipped (webhooks may arrive out of
order), counted as ``stale``.  The run
is logged in ``import_runs`` with its own mode (``webhook``) and never moves the store's
incremental watermark: polling stays the reconciliation for webhooks that never came.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from types import ModuleType
from typing import Any

import pyarrow as pa

from fastimport.batch_columns import take_orders
from fastimport.config import StoreConfig
from fastimport.errors import FastImportError, ParseError
from fastimport.importer import _StoreImport
from fastimport.io.connector import Page
from fastimport.ranges import ImportRange
from fastimport.store import imports as store
from fastimport.store.db import Connection

# Every order's dates lie in this range: a pushed order is taken whatever its date.
_ALL_TIME = (dt.datetime(1970, 1, 1, tzinfo=dt.UTC), dt.datetime(9999, 1, 1, tzinfo=dt.UTC))
_NO_FLUSH = 1 << 62  # one batch for the whole call


@dataclass(frozen=True, slots=True)
class IngestReport:
    store: str
    run_id: int
    order_ids: tuple[int, ...]  # per order read, in the pages' order (before the stale ones are skipped)
    new: int
    updated: int
    unchanged: int
    stale: int
    locked_changes: int

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class _KnownAndFresh:
    """The connector's finishing step, then what the dedup needs of the page's orders alone.

    A webhook brings a few orders to a store that may hold a million: rather than every stored
    fingerprint, the dedup set gets those of the page's order ids (before it classifies them),
    and versions older than the stored one are dropped.  Each order id is remembered, in order.
    """

    def __init__(self, con: Connection, job: _StoreImport) -> None:
        self.con, self.job, self.adjust = con, job, job.adjust
        self.order_ids: list[int] = []
        self.stale = 0

    def __call__(self, orders: pa.Table, lines: pa.Table) -> tuple[pa.Table, pa.Table]:
        orders, lines = self.adjust(orders, lines)
        ids = orders.column("order_id").to_pylist()
        self.order_ids.extend(ids)
        rows = self.con.execute(
            "SELECT order_id, epoch_us(modified_at), content_hash FROM orders WHERE store_id = ? "
            "AND order_id IN (SELECT unnest(?::BIGINT[]))",
            [self.job.store_id, ids],
        ).fetchall()
        dedup = self.job.dedup
        unseen = [r for r in rows if r[0] not in dedup]  # already met in this call: keep what it saw
        if unseen:
            columns = list(zip(*unseen, strict=True))
            dedup.load(*(pa.array(c, pa.int64()) for c in columns))
        stored = {int(r[0]): int(r[1]) for r in rows}
        if not stored:
            return orders, lines
        modified = orders.column("modified_at").to_pylist()
        keep = [i for i, (oid, m) in enumerate(zip(ids, modified, strict=True)) if m >= stored.get(oid, m)]
        if len(keep) == len(ids):
            return orders, lines
        self.stale += len(ids) - len(keep)
        return take_orders(orders, lines, pa.array(keep, pa.int64()))


_NONE_KNOWN = pa.table(
    {name: pa.array([], pa.int64()) for name in ("order_id", "modified_at", "content_hash")}
)


def ingest_pages(
    con: Connection,
    cfg: StoreConfig,
    pages: Sequence[bytes],
    *,
    mode: str = "webhook",
    core: ModuleType | None = None,
) -> IngestReport:
    """Store the orders of ``pages`` (each as the store's REST listing would return it) like an import.

    One run, one transaction for all pages.  A page that cannot be read raises ParseError (its
    run is logged as failed and nothing of the call is stored).
    """
    if core is None:
        from fastimport import core as selector

        core = selector.load_core(selector.CORE)
    job = _StoreImport(con, cfg, ImportRange(*_ALL_TIME, "modified", mode), core, _NO_FLUSH, _NONE_KNOWN)
    skip = _KnownAndFresh(con, job)
    job.adjust = skip
    error: str | None = None
    try:
        for number, body in enumerate(pages, 1):
            job.feed(Page(body, number, 1))
            if job.set_aside:  # a pushed order the till cannot read: the delivery fails, as a whole
                oid, _, why = job.set_aside[0]
                raise ParseError(
                    f"store '{cfg.name}': order {oid if oid is not None else '?'} could not be read: {why}"
                )
        batch = job.take_batch()
        job.write(con, batch, job.pack(batch))
    except FastImportError as exc:
        error = exc.message
        raise
    finally:
        # Never the watermark (max_modified_us=None): an incremental import must still look back
        # over whatever time the webhooks covered, for the ones that never came.
        store.finish_run(con, job.run_id, job.store_id, ok=error is None, error=error, max_modified_us=None)
    totals = store.run_totals(con, job.run_id)
    return IngestReport(
        store=cfg.name,
        run_id=job.run_id,
        order_ids=tuple(skip.order_ids),
        new=totals["new"],
        updated=totals["updated"],
        unchanged=totals["unchanged"] + job.repeated,
        stale=skip.stale,
        locked_changes=totals["locked"],
    )
