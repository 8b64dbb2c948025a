"""Refunds a platform keeps apart from the order (WooCommerce's ``/orders/<id>/refunds``, PrestaShop's
``order_slip``), fetched by the connector and laid onto the order it belongs to.

The refunds fetched are appended to the order's JSON under :data:`FETCHED_REFUNDS_KEY` (the shop's
bytes stay a prefix, so nothing it sent is lost or reformatted), and its content hash follows, so a
new refund is a new version of the order.  The order's lines then show what is still owed, as
Shopify's ``current_quantity`` does: each refunded line loses the refunded quantity and amounts, and
the order's total and tax lose the refunded lines' amounts.  Money beyond the lines (a gesture, the
shipping) stays for invoicing to take off (``Buyer.refunded``).

Refunds fetched are remembered (:class:`FetchedRefunds`): the store keeps, beside each order written
with refunds laid on it, the XXH3 of the shop's listing bytes of that order (``content_hash``, as the
core computes it before the refunds are appended) and the refunds' bytes, in the batch's transaction.
A re-import that meets the order listed byte for byte as then lays the remembered bytes instead of
asking the shop again: the order comes out byte-identical, so its content hash is the stored one and
the dedup counts it unchanged, at no request.  Why the listing's bytes are the key: a refund made on
the shop changes the order as listed (WooCommerce adds it to the order's ``refunds`` summary and moves
``date_modified``; PrestaShop moves ``date_upd``), and those bytes are in the hash, so the modification
date needs no comparison of its own (it is kept beside, for whoever reads the table).  A listing that
differs in any byte is fetched as before.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import TypeVar

import pyarrow as pa

from fastimport._core_shared import content_hash
from fastimport.columns import HASH_COLUMN, ORDER_INDEX_COLUMN, RAW_COLUMN
from fastimport.io.connector import Page

T = TypeVar("T")

FETCHED_REFUNDS_KEY = "fastimport_refunds"
# Pages whose wants (with_batched) are worked out at once: 2 cores, and a scan is short.
WANTED_AHEAD = 4
_CENT = Decimal("0.01")
# The columns of remembered refunds, as the store reads and writes them (order_id, listing_hash, refunds).
REMEMBERED_SCHEMA = pa.schema(
    [
        pa.field("order_id", pa.int64()),
        pa.field("listing_hash", pa.int64()),
        pa.field("modified_at", pa.int64()),  # UTC microseconds, the order's as stored with these refunds
        pa.field("refunds", pa.binary()),
    ]
)


@dataclass(frozen=True, slots=True)
class LineRefund:
    """One order line's part of a refund: units and amounts in cents (positive)."""

    line_id: int
    quantity: int
    net: int  # excl. tax
    tax: int


def cents(value: object) -> int:
    """A shop's decimal text or number -> integer cents, half up (``"-9.000000"`` -> -900)."""
    return int((Decimal(str(value or 0)) * 100).quantize(Decimal(1), ROUND_HALF_UP))


def money(value: int) -> str:
    return f"{Decimal(value) / 100:.2f}"


async def with_fetched(
    pages: AsyncIterator[Page], fetch: Callable[[bytes], Awaitable[None]], ahead: int
) -> AsyncIterator[Page]:
    """``pages`` in order, each once ``fetch(page body)`` (its refunds) is done; the refunds of up to
    ``ahead`` pages are read while the next pages arrive, so they never hold the listing back."""
    waiting: deque[tuple[Page, asyncio.Future[None]]] = deque()
    try:
        async for page in pages:
            waiting.append((page, asyncio.ensure_future(fetch(page.body))))
            while waiting and (waiting[0][1].done() or len(waiting) > ahead):
                first, task = waiting.popleft()
                await task
                yield first
        while waiting:
            first, task = waiting.popleft()
            await task
            yield first
    finally:
        await _cancelled([t for _, t in waiting])


async def with_batched(
    pages: AsyncIterator[Page],
    wanted: Callable[[Page], Awaitable[tuple[Page, list[T]]]],
    fetch: Callable[[list[T]], Awaitable[None]],
    ahead: int,
    batch: int,
    weight: Callable[[T], int] = lambda _: 1,
) -> AsyncIterator[Page]:
    """``pages`` in order, each once what ``wanted(page)`` names (its refunds) is fetched; each page as
    ``wanted`` hands it back (with what it scanned of it).

    What several pages want goes into one ``fetch`` (one request where the shop answers for many orders at
    once): a group is sent once it spans ``ahead // 2`` pages or weighs ``batch``, so one group fills while
    the one before is on its way; at most ``ahead`` pages are held.
    """
    done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    done.set_result(None)  # a page with nothing to fetch, and nothing before it waiting
    waiting: deque[tuple[Page, asyncio.Future[None]]] = deque()
    group: list[Page] = []  # pages whose wants are gathered but not yet asked for
    items: list[T] = []
    load = 0
    span = max(1, ahead // 2)

    def send() -> None:
        nonlocal load
        task = asyncio.ensure_future(fetch(list(items)))
        waiting.extend((page, task) for page in group)
        group.clear()
        items.clear()
        load = 0

    scanned = _wanted_ahead(pages, wanted)
    try:
        async for page, more in scanned:
            if more or group:  # a page after the group's first one waits for the group anyway
                group.append(page)
                items.extend(more)
                load += sum(weight(item) for item in more)
            else:
                waiting.append((page, done))
            if group and (load >= batch or len(group) >= span):
                send()
            while waiting and (waiting[0][1].done() or len(waiting) + len(group) > ahead):
                first, task = waiting.popleft()
                await task
                yield first
        if group:
            send()
        while waiting:
            first, task = waiting.popleft()
            await task
            yield first
    finally:
        await scanned.aclose()  # its scans under way end with us, not when it is collected
        await _cancelled([t for _, t in waiting])


async def _wanted_ahead(
    pages: AsyncIterator[Page], wanted: Callable[[Page], Awaitable[tuple[Page, list[T]]]]
) -> AsyncGenerator[tuple[Page, list[T]], None]:
    """``wanted(page)`` of each page, in order; that of the next pages is under way meanwhile (a connector
    scans its pages in worker threads: a page arriving while the last one is scanned need not wait)."""
    underway: deque[asyncio.Future[tuple[Page, list[T]]]] = deque()
    try:
        async for page in pages:
            underway.append(asyncio.ensure_future(wanted(page)))
            while underway and (underway[0].done() or len(underway) > WANTED_AHEAD):
                yield await underway.popleft()
        while underway:
            yield await underway.popleft()
    finally:
        await _cancelled(list(underway))


async def _cancelled(tasks: list[asyncio.Future[T]]) -> None:
    """Stop the requests or scans still under way and wait until they have ended (their errors come
    second to whatever stopped the pages)."""
    for task in tasks:
        task.cancel()
    if tasks:
        await asyncio.gather(*tasks, return_exceptions=True)


def append_fetched(raw: bytes, fetched: bytes) -> bytes:
    """The order's JSON with the fetched refunds added as its last key."""
    body = raw.rstrip()
    return body[:-1] + b',"' + FETCHED_REFUNDS_KEY.encode() + b'":' + fetched + b"}"


def rehash(orders: pa.Table, fetched: dict[int, bytes]) -> pa.Array | pa.ChunkedArray:
    """The content hashes :func:`lay_refunds` gives a page's orders (those with fetched refunds change)."""
    hashes = orders.column(HASH_COLUMN)
    if not fetched:
        return hashes
    ids = orders.column("order_id").to_pylist()
    rows = [i for i, oid in enumerate(ids) if oid in fetched]
    if not rows:
        return hashes
    values, raws = hashes.to_pylist(), orders.column(RAW_COLUMN)
    for i in rows:
        values[i] = content_hash(append_fetched(raws[i].as_py(), fetched[ids[i]]))
    return pa.array(values, pa.int64())


def lay_refunds(
    orders: pa.Table,
    lines: pa.Table,
    fetched: dict[int, bytes],
    line_refunds: Callable[[bytes, int], Iterable[LineRefund]],
) -> tuple[pa.Table, pa.Table]:
    """Orders of a parsed page with their fetched refunds (see the module); others are left as they are."""
    ids = orders.column("order_id").to_pylist()
    rows = [i for i, oid in enumerate(ids) if oid in fetched]
    if not rows:
        return orders, lines
    raws = orders.column(RAW_COLUMN).to_pylist()
    hashes = orders.column(HASH_COLUMN).to_pylist()
    totals = orders.column("total").to_pylist()
    taxes = orders.column("total_tax").to_pylist()
    gone: dict[tuple[int, int], LineRefund] = {}
    for i in rows:
        raws[i] = append_fetched(raws[i], fetched[ids[i]])
        hashes[i] = content_hash(raws[i])
        for part in line_refunds(fetched[ids[i]], ids[i]):
            key = (i, part.line_id)
            was = gone.get(key)
            gone[key] = (
                part
                if was is None
                else LineRefund(
                    part.line_id, was.quantity + part.quantity, was.net + part.net, was.tax + part.tax
                )
            )
            if totals[i] is not None:
                totals[i] -= part.net + part.tax
            if taxes[i] is not None:
                taxes[i] -= part.tax
    for name, values in ((RAW_COLUMN, raws), (HASH_COLUMN, hashes), ("total", totals), ("total_tax", taxes)):
        at = orders.schema.get_field_index(name)
        orders = orders.set_column(
            at, orders.schema.field(at), pa.array(values, orders.schema.field(at).type)
        )
    return orders, _less_lines(lines, gone)


class FetchedRefunds:
    """One run's refunds of one store's orders: fetched from the shop or recalled from the store, laid onto
    their orders, and handed back to be remembered with the orders written.

    Filled on the event loop (:meth:`reuse`, :meth:`fetched`), read on the parse thread (:meth:`lay`,
    :meth:`rehash`) and the pack thread (:meth:`remembered`): single dict operations, atomic under the GIL.
    """

    def __init__(self) -> None:
        self.by_order: dict[int, bytes] = {}  # order id -> the refunds laid on it this run
        self.recalled: dict[int, tuple[int, bytes]] = {}  # order id -> (listing hash, refunds) as stored
        # (order id, content hash once laid) -> (listing hash, refunds): what the store is to remember
        self.laid: dict[tuple[int, int], tuple[int, bytes]] = {}
        self.requested = 0  # orders whose refunds were asked of the shop
        self.reused = 0  # orders whose refunds were recalled instead

    def recall(self, known: pa.Table) -> None:
        """Start from the store's remembered refunds (columns of :data:`REMEMBERED_SCHEMA`)."""
        ids, hashes, blobs = (known.column(c).to_pylist() for c in ("order_id", "listing_hash", "refunds"))
        self.recalled = {int(o): (int(h), bytes(b)) for o, h, b in zip(ids, hashes, blobs, strict=True)}

    def reuse(self, order_id: int, listing_hash: int) -> bool:
        """Lay the remembered refunds of an order listed exactly as when they were fetched; False: ask the shop."""
        known = self.recalled.get(order_id)
        if known is None or known[0] != listing_hash:
            return False
        self.by_order[order_id] = known[1]
        self.reused += 1
        return True

    def fetched(self, order_id: int, refunds: bytes) -> None:
        self.by_order[order_id] = refunds
        self.requested += 1

    def lay(
        self, orders: pa.Table, lines: pa.Table, line_refunds: Callable[[bytes, int], Iterable[LineRefund]]
    ) -> tuple[pa.Table, pa.Table]:
        """:func:`lay_refunds` with this run's refunds, noting each laid version for :meth:`remembered`."""
        if not self.by_order:
            return orders, lines
        ids = orders.column("order_id").to_pylist()
        listed = orders.column(HASH_COLUMN).to_pylist()
        laid, lines = lay_refunds(orders, lines, self.by_order, line_refunds)
        for oid, before, after in zip(ids, listed, laid.column(HASH_COLUMN).to_pylist(), strict=True):
            refunds = self.by_order.get(oid)
            if refunds is not None and before != after:
                self.laid[(oid, after)] = (before, refunds)
        return laid, lines

    def rehash(self, orders: pa.Table) -> pa.Array | pa.ChunkedArray:
        return rehash(orders, self.by_order)

    def remembered(self, orders: pa.Table) -> pa.Table | None:
        """The refunds to remember with a batch's orders (``order_id``, ``modified_at``, ``content_hash``):
        one row per order written with refunds laid on it; None when there is none."""
        if not self.laid:
            return None
        rows: list[tuple[int, int, int, bytes]] = []
        columns = (orders.column(c).to_pylist() for c in ("order_id", "modified_at", HASH_COLUMN))
        for oid, modified, digest in zip(*columns, strict=True):
            found = self.laid.pop((oid, digest), None)  # written once: forgotten here, memory stays flat
            if found is not None:
                rows.append((oid, found[0], modified, found[1]))
        if not rows:
            return None
        return pa.Table.from_arrays(
            [pa.array([r[k] for r in rows], REMEMBERED_SCHEMA.field(k).type) for k in range(4)],
            schema=REMEMBERED_SCHEMA,
        )


def _less_lines(lines: pa.Table, gone: dict[tuple[int, int], LineRefund]) -> pa.Table:
    if not gone or lines.num_rows == 0:
        return lines
    index = lines.column(ORDER_INDEX_COLUMN).to_pylist()
    line_ids = lines.column("line_id").to_pylist()
    cols = {
        n: lines.column(n).to_pylist()
        for n in ("quantity", "total", "total_tax", "subtotal")
        if n in lines.column_names
    }
    for r, key in enumerate(zip(index, line_ids, strict=True)):
        part = gone.get(key)
        if part is None:
            continue
        qty = cols["quantity"][r] or 0
        left = max(0, qty - part.quantity)
        cols["quantity"][r] = left
        if cols.get("subtotal") is not None and cols["subtotal"][r] is not None and qty:
            cols["subtotal"][r] = int(
                (Decimal(cols["subtotal"][r]) * left / qty).quantize(Decimal(1), ROUND_HALF_UP)
            )
        if cols["total"][r] is not None:
            cols["total"][r] -= part.net
        if cols.get("total_tax") is not None and cols["total_tax"][r] is not None:
            cols["total_tax"][r] -= part.tax
    for name, values in cols.items():
        at = lines.schema.get_field_index(name)
        lines = lines.set_column(at, lines.schema.field(at), pa.array(values, lines.schema.field(at).type))
    return lines
