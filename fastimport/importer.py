"""The import pipeline: fetch -> parse -> dedup -> pack -> store, streamed with back-pressure.

Pages flow from the connector's fan-out fetcher (event loop) to a parse stage,
a pack stage (the raw payloads compressed, a page per chunk) and a store stage,
each on its own thread: parsing page N+1 overlaps packing batch B and the DuckDB
write of batch B-1.  At most two batches per store are in flight, so memory
stays flat whatever the size of the range.  Several stores are imported at
once, each with its own pages and dedup set.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from types import ModuleType
from typing import Any

import aiohttp
import pyarrow as pa
import pyarrow.compute as pc

from fastimport.batch_columns import arrow_memory_pool, last_version_only, line_counts, take_orders
from fastimport.columns import CHANGED, HASH_COLUMN, ORDER_INDEX_COLUMN, RAW_COLUMN, REPEAT
from fastimport.config import StoreConfig
from fastimport.errors import ParseError, explain
from fastimport.io.connector import Connector, Page, Remembering, Scanning, adjuster, rehasher
from fastimport.io.fetcher import Fetcher
from fastimport.io.registry import connector_for, platform
from fastimport.pipeline import run_store
from fastimport.ranges import ImportRange
from fastimport.rescan import Rescan
from fastimport.salvage import Finish, SetAside, finish_each, salvage
from fastimport.store import imports as store
from fastimport.store import raw as raw_payloads
from fastimport.store import set_aside
from fastimport.store.db import Connection, ingest_settings

# Orders per DuckDB transaction.  Up to three batches are alive at once (one filling, one packing, one
# being written), so the batch bounds the peak: 5,000 rather than 10,000 took the same time and ~60 MB
# less on 100,000 orders (369 against 436 MB), 10,000 rather than 20,000 ~70 MB less again.
DEFAULT_BATCH_ORDERS = 5_000
STAGES = ("fetch", "parse", "dedup", "pack", "store")


@dataclass(frozen=True, slots=True)
class ImportReport:
    """What one store's import did; ``to_json()`` is the ``--json`` contract."""

    store: str
    run_id: int
    mode: str
    range_start: str
    range_end: str
    ok: bool
    error: str | None
    new: int
    updated: int
    unchanged: int
    repeated: int
    locked_changes: int
    unknown_articles: int
    unknown_customers: int
    catalog_synced: bool
    pages: int
    requests: int
    retries: int
    seconds: float
    core: str
    stages: dict[str, float] = field(default_factory=dict)
    started_at: str = ""  # when this store's fetch began and its last batch was stored (ISO 8601, UTC)
    finished_at: str = ""
    failed_stage: str = ""  # when ok is false: fetch, parse, store, config or import (anything else)
    locked: bool = False  # skipped: another run holds the store (``error`` says who, since when)

    @property
    def orders(self) -> int:
        return self.new + self.updated + self.unchanged

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


ProgressCallback = Callable[[str, int, int], None]  # store, pages, orders seen


class _StoreImport:
    """One store's run: its dedup set, its pending batch and its counters."""

    def __init__(
        self,
        con: Connection,
        cfg: StoreConfig,
        rng: ImportRange,
        core: ModuleType,
        batch: int,
        known: pa.Table | None = None,  # the fingerprints to start from (default: every stored order's)
    ) -> None:
        self.cfg = cfg
        self.rng = rng
        self.core = core
        self.batch_orders = batch
        self.connector: Connector = connector_for(cfg)
        self.finish = adjuster(self.connector)
        # The finishing step as the pages go through it (ingest wraps it); an order it refuses is set aside.
        self.adjust: Finish = self._finish_or_set_aside
        self.store_id = store.ensure_store(con, cfg.name, cfg.platform, cfg.url, cfg.timezone)
        self.catalog_synced = store.catalog_synced(con, self.store_id)
        self.run_id = store.begin_run(con, self.store_id, rng.mode, rng.start, rng.end)
        # Refunds fetched apart that a re-import reuses for orders listed as they were (refund_lines);
        # a ranged import recalls those of its range (orders handed over whole fetch none).
        self.remember = self.connector if isinstance(self.connector, Remembering) else None
        if known is None:
            known = store.fingerprints(con, self.store_id)
            if self.remember is not None:
                column = "created_at" if rng.field == "created" else "modified_at"
                self.remember.recall(store.fetched_refunds(con, self.store_id, column, rng.start, rng.end))
        self.dedup = core.Dedup()
        self.dedup.load(
            known.column("order_id").combine_chunks(),
            known.column("modified_at").combine_chunks(),
            known.column("content_hash").combine_chunks(),
        )
        self.lo_us = _micros(rng.start)
        self.hi_us = _micros(rng.end)
        self.range_column = "created_at" if rng.field == "created" else "modified_at"
        rehash = rehasher(self.connector)  # a re-import scans pages first (see rescan)
        self.rescan = (
            None
            if rehash is None or known.num_rows == 0
            else Rescan(core, self.connector.page_spec, rehash, self.range_column, self.lo_us, self.hi_us)
        )
        if self.rescan is None and isinstance(self.connector, Scanning):
            # No page will be settled on a scan (a first import): the pages held ahead for their refunds
            # need not carry theirs (each holds its page's raw JSON again: 22 MB traced at 100,000 orders).
            self.connector.keep_scans = False
        self.orders: list[pa.Table] = []
        self.lines: list[pa.Table] = []
        self.raws: list[pa.ChunkedArray] = []
        self.held = 0
        self.unchanged = 0
        self.repeated = 0
        self.pages = 0
        self.pages_unflushed = 0
        self.seen = 0
        self.max_modified: int | None = None
        self.stages = dict.fromkeys(STAGES, 0.0)
        self.fetcher: Fetcher | None = None
        self.set_aside: list[SetAside] = []
        self.started = self.finished = dt.datetime.now(dt.UTC)

    def feed(self, page: Page) -> bool:
        """Parse, dedup and pack one page (worker thread); True when a batch is ready to store."""
        t0 = time.perf_counter()
        if self.rescan is not None and self.rescan.ready:
            done = self.rescan.settle(page.body, self.dedup, page.scan)
            if done is not None:
                self.pages, self.pages_unflushed = self.pages + 1, self.pages_unflushed + 1
                self.seen += done.orders
                self.unchanged, self.repeated = self.unchanged + done.unchanged, self.repeated + done.repeated
                top = done.max_modified
                self.max_modified = top if self.max_modified is None else max(self.max_modified, top)
                self.stages["parse"] += time.perf_counter() - t0
                return self.held >= self.batch_orders
        try:
            parsed = self.core.parse_page(page.body, self.connector.page_spec)
        except ParseError as exc:
            salvaged = salvage(self.core, page.body, self.connector.page_spec)  # one bad order: set it aside
            if salvaged is None:
                raise ParseError(
                    f"store '{self.cfg.name}': page {page.number} of the orders could not be read: {exc.message}",
                    path=getattr(exc, "path", "$"),
                    page=page.number,
                ) from exc
            parsed, bad = salvaged
            self.set_aside.extend(bad)
        t1 = time.perf_counter()
        self.stages["parse"] += t1 - t0
        orders, lines = self.adjust(parsed.orders, parsed.lines)
        self.pages += 1
        self.pages_unflushed += 1
        if orders.num_rows == 0:
            return self.held >= self.batch_orders
        # Per-page pyarrow calls cost more than the work on 100 rows: test the common case
        # (whole page in range, every order new) with one call each, and do more only when needed.
        column = orders.column(self.range_column)
        bounds = pc.min_max(column).as_py()
        if bounds["min"] < self.lo_us or bounds["max"] >= self.hi_us:
            in_range = pc.and_(pc.greater_equal(column, self.lo_us), pc.less(column, self.hi_us))
            orders, lines = take_orders(orders, lines, pc.indices_nonzero(in_range))
            if orders.num_rows == 0:
                return self.held >= self.batch_orders
        ids, modified, hashes = (orders.column(c) for c in ("order_id", "modified_at", HASH_COLUMN))
        self.seen += orders.num_rows
        top = pc.max(modified).as_py()
        self.max_modified = top if self.max_modified is None else max(self.max_modified, top)
        # A re-import mostly meets orders stored as they are: one call counts such a page, nothing to hold.
        settled = self.dedup.settle(ids, modified, hashes)
        if settled is not None:
            self.unchanged, self.repeated = self.unchanged + settled[0], self.repeated + settled[1]
            if self.rescan is not None:
                self.rescan.ready = True
            self.stages["dedup"] += time.perf_counter() - t1
            return self.held >= self.batch_orders
        verdict = self.dedup.classify(ids, modified, hashes)
        worst = pc.max(verdict).as_py()
        wanted_mask = None if worst <= CHANGED else pc.less_equal(verdict, CHANGED)
        wanted = orders.num_rows if wanted_mask is None else pc.sum(wanted_mask).as_py() or 0
        if wanted < orders.num_rows:
            repeated = pc.sum(pc.equal(verdict, REPEAT)).as_py() or 0
            self.repeated += repeated
            self.unchanged += orders.num_rows - wanted - repeated
        t2 = time.perf_counter()
        if wanted:
            if wanted_mask is not None:
                kept = pc.indices_nonzero(wanted_mask)
                orders, lines = take_orders(orders, lines, kept)
                verdict = pc.take(verdict, kept)
            self._hold(orders.append_column("verdict", verdict), lines)
        self.stages["dedup"] += t2 - t1
        self.stages["store"] += time.perf_counter() - t2
        return self.held >= self.batch_orders

    def feed_pages(self, pages: list[Page]) -> tuple[list[Page], list[tuple[int, int]]]:
        """Feed pages in order (worker thread) until a batch is ready: the pages left for after it, and
        the (pages, orders seen) counts after each page fed, for the progress callback."""
        counts = []
        for fed, page in enumerate(pages, 1):
            ready = self.feed(page)
            counts.append((self.pages, self.seen))
            if ready:
                return pages[fed:], counts
        return [], counts

    def _finish_or_set_aside(self, orders: pa.Table, lines: pa.Table) -> tuple[pa.Table, pa.Table]:
        """The connector's finishing step; an order it refuses (a bad value in the refunds fetched for
        it) is set aside and the rest of the page goes on, as for an order the core refuses."""
        try:
            return self.finish(orders, lines)
        except ParseError:
            finished = finish_each(self.finish, orders, lines)
            if finished is None:
                raise
        orders, lines, bad = finished
        self.set_aside.extend(bad)
        return orders, lines

    def _hold(self, orders: pa.Table, lines: pa.Table) -> None:
        """Keep new and changed orders for the next batch; their payloads are compressed by the store thread."""
        local = len(self.raws)
        self.raws.append(orders.column(RAW_COLUMN))
        order_ids = orders.column("order_id").combine_chunks()
        line_index = lines.column(ORDER_INDEX_COLUMN)
        lines = lines.append_column("order_id", pc.take(order_ids, line_index))
        orders = orders.drop_columns([RAW_COLUMN])
        n = orders.num_rows
        orders = orders.append_column("line_count", line_counts(n, line_index)).append_column(
            "raw_chunk_local", pa.repeat(pa.scalar(local, pa.int64()), n)
        )
        self.orders.append(orders)
        self.lines.append(lines)
        self.held += n

    def take_batch(self) -> Batch:
        """Hand the held orders to the store stage; counts of unchanged orders ride along for the run log."""
        batch = Batch(
            orders=self.orders,
            lines=self.lines,
            raws=self.raws,
            unchanged=self.unchanged,
            pages=self.pages_unflushed,
        )
        self.orders, self.lines, self.raws = [], [], []
        self.held, self.pages_unflushed, self.unchanged = 0, 0, 0
        return batch

    def pack(self, batch: Batch) -> Packed | None:
        """Compress a batch's payloads a page at a time (pack thread): CPU work kept off parse and store."""
        t0 = time.perf_counter()
        if not batch.orders:
            return None
        sizes, datas, offsets, lengths = [], [], [], []
        for raws in batch.raws:
            chunk, size, page_offsets, page_lengths = raw_payloads.pack(raws)
            datas.append(chunk)
            sizes.append(size)
            offsets.append(pc.cast(page_offsets, pa.int32()))
            lengths.append(page_lengths)
        orders = pa.concat_tables(batch.orders)
        orders = orders.append_column("raw_offset", pa.chunked_array(offsets, pa.int32())).append_column(
            "raw_length", pa.chunked_array(lengths, pa.int32())
        )
        chunks = pa.table(
            {
                "chunk_local": pa.array(range(len(datas)), pa.int64()),
                "size": pa.array(sizes, pa.int32()),
                "data": pa.array(datas, pa.binary()),
            }
        )
        orders = last_version_only(orders)
        refunds = self.remember.remembered(orders) if self.remember is not None else None
        packed = Packed(orders, pa.concat_tables(batch.lines), chunks, refunds)
        self.stages["pack"] += time.perf_counter() - t0
        return packed

    def write(self, con: Connection, batch: Batch, packed: Packed | None) -> None:
        """Store one batch in one transaction (store thread)."""
        t0 = time.perf_counter()
        if packed is None:
            store.write_counts(con, self.run_id, batch.unchanged, batch.pages)
        else:
            store.write_batch(
                con,
                self.store_id,
                self.run_id,
                packed.orders,
                packed.lines,
                packed.chunks,
                batch.unchanged,
                batch.pages,
                echo=platform(self.cfg.platform).till_echo,
                refunds=packed.refunds,
            )
        self.stages["store"] += time.perf_counter() - t0

    async def pack_and_write(
        self,
        con: Connection,
        batch: Batch,
        pack_pool: ThreadPoolExecutor,
        store_pool: ThreadPoolExecutor,
        previous: asyncio.Future[None] | None,
    ) -> None:
        """Pack this batch while the previous one is written; write it after the previous one (in order)."""
        loop = asyncio.get_running_loop()
        packed = await loop.run_in_executor(pack_pool, self.pack, batch)
        if previous is not None:
            await previous
        await loop.run_in_executor(store_pool, self.write, con, batch, packed)


@dataclass(frozen=True, slots=True)
class Packed:
    """A batch ready for the store: one orders table, one lines table, the compressed payload chunks."""

    orders: pa.Table
    lines: pa.Table
    chunks: pa.Table
    refunds: pa.Table | None = None  # refunds fetched apart, remembered with their orders


@dataclass(frozen=True, slots=True)
class Batch:
    """What the parse stage hands to the store stage: plain columns, nothing shared."""

    orders: list[pa.Table]  # one table per page, payloads not yet compressed
    lines: list[pa.Table]
    raws: list[pa.ChunkedArray]  # each page's raw JSON, in the order of ``orders``
    unchanged: int
    pages: int


def _micros(moment: dt.datetime) -> int:
    delta = moment.astimezone(dt.UTC) - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


async def run_imports(
    con: Connection,
    jobs: Sequence[tuple[StoreConfig, ImportRange]],
    *,
    core: ModuleType | None = None,
    batch_orders: int = DEFAULT_BATCH_ORDERS,
    progress: ProgressCallback | None = None,
    max_stores: int | None = None,
) -> list[ImportReport]:
    """Import each (store, range) concurrently, ``max_stores`` at a time (default: all at once);
    one report per store, failures included: a store that fails never stops the others."""
    if core is None:
        from fastimport import core as selector

        core = selector.load_core(selector.CORE)
    from fastimport.core import name_of

    core_name = name_of(core)
    started = time.perf_counter()
    runs = [_StoreImport(con, cfg, rng, core, batch_orders) for cfg, rng in jobs]
    with ingest_settings(con), arrow_memory_pool():
        results = await _run_all(con, runs, jobs, progress, max_stores)
    reports = []
    for job, result in zip(runs, results, strict=True):
        if isinstance(result, BaseException) and not isinstance(result, Exception):
            raise result
        error, failed = explain(result) if isinstance(result, Exception) else (None, "")
        error = set_aside.close_run(con, job.store_id, job.run_id, job.cfg.name, job.set_aside, error)
        store.finish_run(
            con, job.run_id, job.store_id, ok=error is None, error=error, max_modified_us=job.max_modified
        )
        totals = store.run_totals(con, job.run_id)
        fetcher = job.fetcher
        reports.append(
            ImportReport(
                store=job.cfg.name,
                run_id=job.run_id,
                mode=job.rng.mode,
                range_start=job.rng.start.isoformat(),
                range_end=job.rng.end.isoformat(),
                ok=error is None,
                error=error,
                new=totals["new"],
                updated=totals["updated"],
                unchanged=totals["unchanged"],
                repeated=job.repeated,
                locked_changes=totals["locked"],
                unknown_articles=totals["unknown_articles"],
                unknown_customers=totals["unknown_customers"],
                catalog_synced=job.catalog_synced,
                pages=totals["pages"],
                requests=fetcher.stats.requests if fetcher else 0,
                retries=fetcher.stats.retries if fetcher else 0,
                seconds=round(time.perf_counter() - started, 3),
                core=core_name,
                stages={k: round(v, 3) for k, v in job.stages.items()},
                failed_stage=(failed or "parse") if error else "",  # set-aside orders: a parse failure
                started_at=job.started.isoformat(),
                finished_at=job.finished.isoformat(),
            )
        )
    return reports


async def _run_all(
    con: Connection,
    runs: list[_StoreImport],
    jobs: Sequence[tuple[StoreConfig, ImportRange]],
    progress: ProgressCallback | None,
    max_stores: int | None,
) -> list[Any]:
    gate = asyncio.Semaphore(max_stores or max(len(runs), 1))
    connector_limit = sum(cfg.concurrency for cfg, _ in jobs)
    connector = aiohttp.TCPConnector(limit=connector_limit, limit_per_host=0)
    with (
        ThreadPoolExecutor(1, "fastimport-parse") as parse_pool,
        ThreadPoolExecutor(1, "fastimport-pack") as pack_pool,
        ThreadPoolExecutor(1, "fastimport-store") as store_pool,
    ):
        async with aiohttp.ClientSession(connector=connector) as session:

            async def one(job: _StoreImport) -> None:
                async with gate:
                    job.started = dt.datetime.now(dt.UTC)
                    try:
                        await run_store(session, con, job, parse_pool, pack_pool, store_pool, progress)
                    finally:
                        job.finished = dt.datetime.now(dt.UTC)

            results = await asyncio.gather(*(one(job) for job in runs), return_exceptions=True)
    return results
