"""WooCommerce refunds read apart from their orders: which to ask for, the two endpoints' answers, one form.

The order listing gives each order's refunds as a summary (``id``, ``reason``, ``total``); their lines are
only in the refund objects.  Two endpoints serve those objects:

- ``GET /orders/<id>/refunds`` (every version): the order's refunds, newest first;
- ``GET /refunds?include=<refund ids>`` (WooCommerce 9.0+, ``WC_REST_Refunds_Controller``): any refunds
  by id, so the refunds of many orders in one request.  It ignores ``parent`` (it unsets
  ``post_parent__in``), hence the refund ids.  Its objects are the per-order endpoint's plus a
  ``parent_id`` member after ``id`` and a ``refunded_by`` entry in ``_links``.

What is laid onto an order, hashed and remembered is the per-order endpoint's form (:func:`per_order_form`,
applied to both answers), so the endpoint that fetched an order never shows as a change of the order; and
the bytes remembered before the listing came (fetched per order) keep their hash.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import orjson
import pyarrow as pa

from fastimport import core
from fastimport.columns import HASH_COLUMN, ORDER_INDEX_COLUMN, RAW_COLUMN, FieldSpec, PageSpec
from fastimport.errors import ParseError
from fastimport.io.payload import Node
from fastimport.io.woocommerce.spec import WOOCOMMERCE_PAGE

# A /refunds request names at most this many refund ids (and asks for as many a page: one page an answer).
MAX_IDS = 100
# What is read of a page of orders: which list refunds, their status, and the ids of their refunds; and the
# dates a re-import settles an unchanged page on (rescan), read as the page spec reads them, so one scan of
# the page serves both (its ids, dates, raw bytes and hashes are the whole parse's).
_SETTLE_FIELDS = ("order_id", "created_at", "modified_at")
_ORDERS_SCAN = PageSpec(
    orders_path=WOOCOMMERCE_PAGE.orders_path,
    order_fields=(
        *(f for f in WOOCOMMERCE_PAGE.order_fields if f.name in _SETTLE_FIELDS),
        FieldSpec("status", ("status",), "str"),
    ),
    lines_path=("refunds",),
    line_fields=(FieldSpec("refund_id", ("id",), "int"),),
)
# What is read of a /refunds answer: each refund's id, its order, and its bytes (the raw column).
_REFUNDS_SPLIT = PageSpec(
    orders_path=(),
    order_fields=(
        FieldSpec("refund_id", ("id",), "int", required=True),
        FieldSpec("parent_id", ("parent_id",), "int"),
        FieldSpec("up", ("_links", "up", 0, "href"), "str"),
    ),
    lines_path=("line_items",),
    line_fields=(FieldSpec("line_id", ("id",), "int"),),
)
_HAS_REFUNDS = re.compile(rb'"refunds"\s*:\s*\[\s*\{')
_LISTED_REFUND = b'"refunds":[{'  # how WooCommerce writes it (the pattern above allows any spacing)
_ORDER_URL = re.compile(r"/orders/(\d+)/?$")
# JSON tokens that matter to find a member: strings (keys and values), brackets, commas and colons.
_TOKEN = re.compile(rb'"(?:[^"\\]|\\.)*"|[{}\[\],:]')
# The members the /refunds endpoint adds to the per-order endpoint's objects (paths from a refund object).
_LISTING_ONLY = frozenset({(b"parent_id",), (b"_links", b"refunded_by")})


@dataclass(frozen=True, slots=True)
class Wanted:
    """An order whose refund objects are to be read, with the refund ids its listing names (newest first)."""

    order_id: int
    refund_ids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Scanned:
    """What :func:`scan` read of a page: its order columns (None when not scanned), for a re-import to settle
    the page on, and the orders whose refunds are to be read, each with its content hash as listed (to recall
    remembered refunds; None when the core could not read the page)."""

    orders: pa.Table | None
    wanted: list[tuple[Wanted, int | None]]


def scan(page: bytes) -> Scanned:
    """Which orders of a page of orders have refunds to read: those listing refunds and not refunded in full
    (nothing is left to invoice or credit line by line).  Pure and thread-safe: the connector runs it off
    the event loop."""
    if _LISTED_REFUND not in page and not _HAS_REFUNDS.search(page):  # a bytes search is 5x the regex's speed
        return Scanned(None, [])
    try:  # the core scans the page (parsing it whole with orjson would be slower)
        parsed = core.parse_page(page, _ORDERS_SCAN)
    except ParseError:  # an order the core cannot read: the import sets it aside; read the others
        return Scanned(None, [(w, None) for w in _scan_loosely(page)])
    orders, refunds = parsed.orders, parsed.lines
    ids: dict[int, list[int]] = {}
    for at, rid in zip(
        *(refunds.column(c).to_pylist() for c in (ORDER_INDEX_COLUMN, "refund_id")), strict=True
    ):
        if rid is not None:
            ids.setdefault(int(at), []).append(int(rid))
    # plain lists: for 100 orders, cheaper than pyarrow's filter and take (measured, about half the time)
    columns = (orders.column(c).to_pylist() for c in ("order_id", "status", HASH_COLUMN))
    return Scanned(
        orders,
        [
            (Wanted(int(oid), tuple(ids[at])), int(listed))
            for at, (oid, status, listed) in enumerate(zip(*columns, strict=True))
            if at in ids and status != "refunded"
        ],
    )


def _scan_loosely(page: bytes) -> Iterator[Wanted]:
    """The orders of a page the core could not read whose refunds are to be read, as far as can be told (ids
    read as the core reads them, :class:`Node`): an order whose id is unreadable is skipped (the import sets
    it aside), one listing an unreadable refund is asked alone (``/orders/<id>/refunds``), a page that is no
    JSON names none (the import says so)."""
    try:
        orders = orjson.loads(page)
    except orjson.JSONDecodeError:
        return
    for o in orders if isinstance(orders, list) else ():
        if not (isinstance(o, dict) and o.get("refunds") and o.get("status") != "refunded"):
            continue
        order = Node(o)
        try:
            order_id = order["id"].integer(required=True) or 0
        except ParseError:
            continue
        try:
            ids = tuple(
                r["id"].integer(required=True) or 0
                for r in order["refunds"].objects()
                if not r["id"].absent()
            )
        except ParseError:
            ids = ()
        yield Wanted(order_id, ids)


def batches(wanted: Iterable[Wanted]) -> tuple[list[list[Wanted]], list[Wanted]]:
    """The orders split into /refunds requests of at most :data:`MAX_IDS` refund ids (an order whole in one),
    and those to ask one by one (more refunds than one request names, or a listing without ids)."""
    out: list[list[Wanted]] = []
    alone: list[Wanted] = []
    count = MAX_IDS + 1
    for w in wanted:
        if not w.refund_ids or len(w.refund_ids) > MAX_IDS:
            alone.append(w)
            continue
        if count + len(w.refund_ids) > MAX_IDS:
            out.append([])
            count = 0
        out[-1].append(w)
        count += len(w.refund_ids)
    return out, alone


@dataclass(slots=True)
class ListingAnswer:
    """A /refunds answer read for the orders asked: each complete order's refunds (per-order form), the
    orders to ask one by one, and whether the shop showed it ignores ``include``."""

    laid: dict[int, bytes] = field(default_factory=dict)
    one_by_one: list[int] = field(default_factory=list)
    ignores_include: bool = False


def read_listing(body: bytes, asked: list[Wanted], pages: int) -> ListingAnswer:
    """Sort a /refunds answer to the orders asked.  An order goes one by one when a refund of its listing is
    missing or belongs to another order; every order does when the answer cannot be read, or holds a refund
    not asked for or spans several pages (a shop that ignores ``include`` lists every refund it has)."""
    everyone = [w.order_id for w in asked]
    if pages > 1:  # at most 100 ids asked, 100 a page: more pages is a shop listing more than asked
        return ListingAnswer(one_by_one=everyone, ignores_include=True)
    try:
        found = core.parse_page(body, _REFUNDS_SPLIT).orders
    except ParseError:
        return ListingAnswer(one_by_one=everyone)
    owner = {rid: w.order_id for w in asked for rid in w.refund_ids}
    objects: dict[int, tuple[int | None, bytes]] = {}
    columns = (found.column(c).to_pylist() for c in ("refund_id", "parent_id", "up", RAW_COLUMN))
    for rid, parent, up, raw in zip(*columns, strict=True):
        if rid not in owner or rid in objects:
            return ListingAnswer(one_by_one=everyone, ignores_include=True)
        objects[rid] = (parent if parent is not None else _order_of(up), raw)
    answer = ListingAnswer()
    order_in_answer = {rid: at for at, rid in enumerate(objects)}  # the shop's order: newest first
    for w in asked:
        mine = [objects.get(rid) for rid in w.refund_ids]
        if any(o is None or o[0] != w.order_id for o in mine):
            answer.one_by_one.append(w.order_id)
            continue
        ranked = sorted(w.refund_ids, key=order_in_answer.__getitem__)
        answer.laid[w.order_id] = per_order_form(b"[" + b",".join(objects[rid][1] for rid in ranked) + b"]")
    return answer


def per_order_form(refunds: bytes) -> bytes:
    """A JSON array of refund objects as ``/orders/<id>/refunds`` gives it: the members only /refunds adds
    (``parent_id``, ``_links.refunded_by``) taken out, every other byte kept (the per-order answer itself
    comes out unchanged, so what was remembered from it keeps its hash)."""
    cuts = list(_listing_only_members(refunds))
    if not cuts:
        return refunds
    out, at = [], 0
    for start, end in cuts:
        out.append(refunds[at:start])
        at = end
    out.append(refunds[at:])
    return b"".join(out)


def _listing_only_members(array: bytes) -> Iterator[tuple[int, int]]:
    """(start, end) of each :data:`_LISTING_ONLY` member of the array's objects, with one comma beside it."""
    # per open container: (is an object, the key it is the value of, or None)
    stack: list[tuple[bool, bytes | None]] = []
    tokens = list(_TOKEN.finditer(array))
    key: bytes | None = None  # the member whose value comes next
    start = -1  # where the member being cut began (its key, or the comma before it)
    cut_depth = -1
    for i, token in enumerate(tokens):
        text = token.group()
        if text in (b"{", b"["):
            stack.append((text == b"{", key))
            key = None
        elif text in (b"}", b"]"):
            if cut_depth == len(stack) and start >= 0:  # the cut member was the object's last
                yield start, token.start()
                start, cut_depth = -1, -1
            stack.pop()
            key = None
        elif text == b",":
            key = None
            if cut_depth == len(stack) and start >= 0:
                yield start, token.end()
                start, cut_depth = -1, -1
        elif (
            text != b":" and stack and stack[-1][0] and i + 1 < len(tokens) and tokens[i + 1].group() == b":"
        ):
            key = text[1:-1]
            path = (*(k for _, k in stack[2:]), key)  # the keys from the refund object down
            if len(stack) >= 2 and start < 0 and path in _LISTING_ONLY:
                before = i - 1  # the member before it, if any, keeps its comma only if one follows ours
                start = token.start()
                if tokens[before].group() == b"," and _is_last(tokens, i, len(stack)):
                    start = tokens[before].start()
                cut_depth = len(stack)


def _is_last(tokens: list[re.Match[bytes]], at: int, depth: int) -> bool:
    """Whether the member whose key is ``tokens[at]`` is the last of its object (at container ``depth``)."""
    level = depth
    for token in tokens[at + 1 :]:
        text = token.group()
        if text in (b"{", b"["):
            level += 1
        elif text in (b"}", b"]"):
            if level == depth:
                return True
            level -= 1
        elif text == b"," and level == depth:
            return False
    return True


def _order_of(up: str | None) -> int | None:
    """The order a refund belongs to, from its ``_links.up`` (``.../wc/v3/orders/<id>``)."""
    found = _ORDER_URL.search(up or "")
    return int(found.group(1)) if found else None
