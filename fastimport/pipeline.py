"""One store's import on the event loop: pages as they arrive -> the parse thread -> batches packed and written.

The parse thread reads the pages that arrived while it read the last ones, in one hand-off: a hand-off
per page costs a thread wake-up and a trip through the GIL each, as much as a page's scan on a re-import.
The event loop keeps fetching meanwhile; at most the store's ``concurrency`` pages wait for the parse
thread (the fan-out already in flight: the hand-off adds no read-ahead the shop's settings do not allow).
"""

from __future__ import annotations

import asyncio
import time
from asyncio import FIRST_COMPLETED
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import aiohttp

from fastimport.io.connector import Page, fetcher_for
from fastimport.store.db import Connection

if TYPE_CHECKING:
    from fastimport.importer import ProgressCallback, _StoreImport


async def run_store(
    session: aiohttp.ClientSession,
    con: Connection,
    job: _StoreImport,
    parse_pool: ThreadPoolExecutor,
    pack_pool: ThreadPoolExecutor,
    store_pool: ThreadPoolExecutor,
    progress: ProgressCallback | None,
) -> None:
    loop = asyncio.get_running_loop()
    cfg = job.cfg
    fetcher = fetcher_for(cfg, session)
    job.fetcher = fetcher
    # The last batch handed over (packing, then writing) and the one before it (writing).
    writing: asyncio.Future[None] | None = None
    waiting: asyncio.Future[None] | None = None
    pages = job.connector.pages(fetcher, job.rng)
    # The page being fetched, the pages handed to the parse thread, and those waiting for it.
    next_page: asyncio.Future[Page | None] | None = None
    parsing: asyncio.Future[tuple[list[Page], list[tuple[int, int]]]] | None = None
    queued: list[Page] = []
    most_queued = max(1, cfg.concurrency)
    more = True
    try:
        while True:
            if more and next_page is None and len(queued) < most_queued:
                next_page = asyncio.ensure_future(_next_page(pages))
            if parsing is None and queued:
                parsing, queued = loop.run_in_executor(parse_pool, job.feed_pages, queued), []
            if next_page is None and parsing is None:
                break
            t = time.perf_counter()
            await asyncio.wait(
                [f for f in (next_page, parsing) if f is not None], return_when=FIRST_COMPLETED
            )
            if parsing is None:  # "fetch" is the time the pipeline waited for the shop, and only for it
                job.stages["fetch"] += time.perf_counter() - t
            if next_page is not None and next_page.done():
                page, next_page = next_page.result(), None
                more = page is not None
                queued += [page] if page is not None else []
            if parsing is not None and parsing.done():
                rest, counts = parsing.result()
                queued, parsing = rest + queued, None  # pages after a full batch come back
                if progress is not None:
                    for pages_read, seen in counts:
                        progress(cfg.name, pages_read, seen)
                if job.held >= job.batch_orders:
                    if waiting is not None:
                        await waiting  # back-pressure: one batch packing while the one before is written
                    waiting, writing = (
                        writing,
                        asyncio.ensure_future(
                            job.pack_and_write(con, job.take_batch(), pack_pool, store_pool, writing)
                        ),
                    )
    finally:
        await _settle_handoff(next_page, parsing)
        await pages.aclose()  # type: ignore[attr-defined]
        # Whatever happened, the batches parsed so far are stored: nothing fetched is lost.
        if writing is not None:
            await asyncio.shield(writing)
        await job.pack_and_write(con, job.take_batch(), pack_pool, store_pool, None)


async def _next_page(pages: AsyncIterator[Page]) -> Page | None:
    try:
        return await anext(pages)
    except StopAsyncIteration:
        return None


async def _settle_handoff(
    next_page: asyncio.Future[Page | None] | None, parsing: asyncio.Future[Any] | None
) -> None:
    """After a failure: no page is being fetched and the parse thread is done before the last batch is taken."""
    if next_page is not None:
        next_page.cancel()
        await asyncio.wait([next_page])
    if parsing is not None:
        await asyncio.wait([parsing])  # a thread cannot be stopped mid-page
        if not parsing.cancelled():
            parsing.exception()  # its failure, if any, comes second to the one being raised
