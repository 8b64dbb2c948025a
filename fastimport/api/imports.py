"""Import side of the library API: open the store, plan ranges per store, import, list orders."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from fastimport.config import Config, StoreConfig
from fastimport.errors import ConfigError, FastImportError
from fastimport.ranges import ImportRange, RangeRequest, parse_bound
from fastimport.store.db import Connection

if TYPE_CHECKING:  # imported when used: `fastimport pending` needs neither aiohttp nor pyarrow
    from fastimport.api.locks import StoreLeases
    from fastimport.catalog import CatalogReport
    from fastimport.importer import ImportReport, ProgressCallback


def connect(config: Config) -> Connection:
    """Open the configured store (creating and migrating it if needed); close it when done."""
    from fastimport.store import connect as open_store
    from fastimport.store.db import set_till

    till = config.till
    witness = config.till_anchors
    con = open_store(config.target)
    set_till(con, till)
    try:
        from fastimport.fiscal import anchors
        from fastimport.fiscal.integrity import witness as observe

        if witness is not None:
            anchors.use_witness(con, witness)
        observe(con)  # on PostgreSQL, this till witnesses the chain heads it finds
    except BaseException:
        con.close()
        raise
    return con


def selected_stores(config: Config, names: Sequence[str] | None = None) -> list[StoreConfig]:
    """The named stores (every configured store when ``names`` is empty), or a ConfigError."""
    return [config.store(n) for n in names] if names else list(config.stores)


def plan_imports(
    config: Config,
    con: Connection,
    request: RangeRequest,
    stores: Sequence[str] | None = None,
    *,
    now: dt.datetime | None = None,
) -> list[tuple[StoreConfig, ImportRange]]:
    """Each store with its exact range: local days in its time zone, or its own incremental watermark."""
    from fastimport.store import imports

    planned = []
    for cfg in selected_stores(config, stores):
        watermark = None
        if request.kind == "incremental":
            store_id = imports.ensure_store(con, cfg.name, cfg.platform, cfg.url, cfg.timezone)
            watermark = imports.watermark(con, store_id)
        rng = request.resolve(
            cfg.zone, watermark=watermark, overlap=dt.timedelta(minutes=cfg.overlap_minutes), now=now
        )
        planned.append((cfg, rng))
    return planned


async def import_stores_async(
    config: Config,
    con: Connection,
    request: RangeRequest | Sequence[tuple[StoreConfig, ImportRange]],
    *,
    stores: Sequence[str] | None = None,
    progress: ProgressCallback | None = None,
    batch_orders: int | None = None,
    max_stores: int | None = None,
    leases: StoreLeases | None = None,
) -> list[ImportReport]:
    """Import the requested range from the selected stores, ``max_stores`` at once (default: the
    configuration's ``[import] max_stores``, else every store at once); one report per store.

    A store that fails (shop down, bad credentials) has ``ok=False`` and a plain-words ``error``;
    the others carry on, and whatever was stored before a failure is kept.  Each store's lock is
    taken first (or ``leases``, taken by the caller with :func:`~fastimport.api.locks.lock_stores`,
    are used and left to the caller to release): a store another run holds is skipped, its report
    has ``locked=True``.
    """
    from fastimport.api.locks import lock_stores, skipped_report
    from fastimport.api.locks import max_stores as configured_max_stores
    from fastimport.api.runlog import log_reports
    from fastimport.importer import DEFAULT_BATCH_ORDERS, run_imports

    if isinstance(request, RangeRequest):
        wanted = [cfg.name for cfg in selected_stores(config, stores)]
        mode: str = request.kind
    else:
        wanted = [cfg.name for cfg, _ in request]
        mode = request[0][1].mode if request else "between"
    own = leases is None
    taken = lock_stores(config, wanted) if leases is None else leases
    try:
        if isinstance(request, RangeRequest):
            free = [n for n in wanted if n in taken.held]
            jobs = plan_imports(config, con, request, free) if free else []
        else:
            jobs = [(cfg, rng) for cfg, rng in request if cfg.name in taken.held]
        jobs, refused = _usable(jobs)
        if batch_orders is None:
            batch_orders = int(os.environ.get("FASTIMPORT_BATCH_ORDERS", DEFAULT_BATCH_ORDERS))
        if max_stores is None:
            max_stores = configured_max_stores(config)
        ran = (
            await run_imports(con, jobs, progress=progress, batch_orders=batch_orders, max_stores=max_stores)
            if jobs
            else []
        )
        _journal_runs(config, con, ran)
    finally:
        if own:
            taken.release()
    by_store = {r.store: r for r in ran}
    skipped: dict[str, FastImportError] = {**taken.locked, **refused}
    reports = [by_store[n] if n in by_store else skipped_report(n, mode, skipped[n]) for n in wanted]
    log_reports(taken.run, reports)
    return reports


def _usable(
    jobs: Sequence[tuple[StoreConfig, ImportRange]],
) -> tuple[list[tuple[StoreConfig, ImportRange]], dict[str, FastImportError]]:
    """The jobs whose store can start (its credentials are set), and why the others cannot: one
    store's missing variable must not stop the others."""
    from fastimport.io.registry import connector_for

    usable: list[tuple[StoreConfig, ImportRange]] = []
    refused: dict[str, FastImportError] = {}
    for cfg, rng in jobs:
        try:
            connector_for(cfg)
        except ConfigError as exc:
            refused[cfg.name] = exc
        else:
            usable.append((cfg, rng))
    return usable, refused


def _journal_runs(config: Config, con: Connection, reports: Sequence[ImportReport]) -> None:
    """Each import run is a journal event (kept until the next signature on a till without a key)."""
    from fastimport.api.fiscal import record_event

    for r in reports:
        record_event(
            config, con, "import_run", r.store,
            {"run": r.run_id, "mode": r.mode, "from": r.range_start, "to": r.range_end, "ok": r.ok, "error": r.error,
             "new": r.new, "updated": r.updated, "unchanged": r.unchanged},
        )  # fmt: skip


def import_stores(
    config: Config,
    con: Connection,
    request: RangeRequest | Sequence[tuple[StoreConfig, ImportRange]],
    *,
    stores: Sequence[str] | None = None,
    progress: ProgressCallback | None = None,
    batch_orders: int | None = None,
    max_stores: int | None = None,
    leases: StoreLeases | None = None,
) -> list[ImportReport]:
    """:func:`import_stores_async` for code without an event loop (scripts, the command line)."""
    _no_running_loop("import_stores", "import_stores_async")
    return asyncio.run(
        import_stores_async(
            config, con, request, stores=stores, progress=progress, batch_orders=batch_orders,
            max_stores=max_stores, leases=leases,
        )
    )  # fmt: skip


def sync_catalog(config: Config, con: Connection, stores: Sequence[str] | None = None) -> list[CatalogReport]:
    """Pull each store's products (with variations) and customers, to flag unknown ones."""
    _no_running_loop("sync_catalog", "sync_catalog_async")
    return asyncio.run(sync_catalog_async(config, con, stores))


async def sync_catalog_async(
    config: Config, con: Connection, stores: Sequence[str] | None = None
) -> list[CatalogReport]:
    from fastimport.catalog import sync_catalog as sync_one

    return [await sync_one(con, cfg) for cfg in selected_stores(config, stores)]


def pending_orders(
    config: Config,
    con: Connection,
    stores: Sequence[str] | None = None,
    *,
    limit: int | None = None,
    offset: int = 0,
    newest_first: bool = False,
) -> list[dict[str, Any]]:
    """Orders awaiting processing (local state pending or prepared, shop status pending), oldest first.

    ``limit``/``offset`` give one page of the table (the objects of ``pending --json``).
    """
    from fastimport.store.queries import list_orders

    chosen = selected_stores(config, stores)
    return list_orders(
        con,
        stores=[s.name for s in chosen],
        pending_statuses={s.name: s.pending_statuses for s in chosen},
        limit=limit,
        offset=offset,
        newest_first=newest_first,
    )


def iter_pending_orders(
    config: Config, con: Connection, stores: Sequence[str] | None = None, *, newest_first: bool = False
) -> Iterator[dict[str, Any]]:
    """Every row of :func:`pending_orders`, one at a time (read a few thousand at a time from the store).

    Memory stays flat with the number of pending orders: ``pending --json`` streams with it.
    """
    from fastimport.store.queries import iter_orders

    chosen = selected_stores(config, stores)
    return iter_orders(
        con,
        stores=[s.name for s in chosen],
        pending_statuses={s.name: s.pending_statuses for s in chosen},
        newest_first=newest_first,
    )


def count_pending(config: Config, con: Connection, stores: Sequence[str] | None = None) -> int:
    """How many orders the pending table holds (for "… N more" and page counts)."""
    from fastimport.store.queries import count_orders

    chosen = selected_stores(config, stores)
    return count_orders(
        con, stores=[s.name for s in chosen], pending_statuses={s.name: s.pending_statuses for s in chosen}
    )


def stored_orders(
    config: Config,
    con: Connection,
    stores: Sequence[str] | None = None,
    *,
    since: str | None = None,
    until: str | None = None,
) -> list[dict[str, Any]]:
    """Every stored order, whatever its state; ``since``/``until`` are dates local to the first store."""
    return list(iter_stored_orders(config, con, stores, since=since, until=until))


def iter_stored_orders(
    config: Config,
    con: Connection,
    stores: Sequence[str] | None = None,
    *,
    since: str | None = None,
    until: str | None = None,
) -> Iterator[dict[str, Any]]:
    """Every row of :func:`stored_orders`, one at a time: memory stays flat (``orders --json`` streams with it)."""
    from fastimport.store.queries import iter_orders

    chosen = selected_stores(config, stores)
    zone = chosen[0].zone
    return iter_orders(
        con,
        stores=[s.name for s in chosen],
        since=parse_bound(since, zone, is_end=False) if since else None,
        until=parse_bound(until, zone, is_end=True) if until else None,
    )


def _no_running_loop(name: str, instead: str) -> None:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return
    raise FastImportError(f"{name}() cannot run inside an event loop: await {instead}() there")


def set_aside_orders(con: Connection) -> list[dict[str, Any]]:
    """Orders an import could not read and set aside (store, id, reason, first_seen, last_seen, run_id,
    raw), until a later import reads them cleanly."""
    from fastimport.store.set_aside import open_rows

    return open_rows(con)
