"""One bad order never blocks the others: a page the core cannot read whole is read order by order.

When :func:`fastimport.core` ``parse_page`` refuses a page (a field of the wrong type, a malformed
value), the page's JSON is split into its orders, each is parsed alone, and the page is parsed again
made of the good ones only; the bad ones are set aside with their JSON and the reason (see
:mod:`fastimport.store.set_aside`).  A page that is not JSON at all (truncated, an HTML error page)
stays a page-level error, retried as before.  Likewise when the connector's finishing step refuses a
parsed page (a bad value in the refunds it fetched for one order, :func:`finish_each`).  Only the
failure path comes here: the import's hot path is unchanged.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from types import ModuleType
from typing import Any

import pyarrow as pa

from fastimport.batch_columns import take_orders
from fastimport.columns import RAW_COLUMN, PageSpec
from fastimport.errors import ParseError

SetAside = tuple[int | None, bytes, str]  # (shop order id if readable, the order's JSON, why)


# The readers start a reason with "order N: " (N the position on the page, or the shop's id); the
# set-aside list names each order itself, so that prefix would only say it twice (or wrongly: "order 0").
_ORDER_PREFIX = re.compile(r"^order [^:\s]*: ")


def _reason(message: str) -> str:
    return _ORDER_PREFIX.sub("", message, count=1)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")  # NaN, Infinity: the page is not JSON, not one bad order


_DECODER = json.JSONDecoder(parse_constant=_refuse_constant)


def _ws(s: str, pos: int) -> int:
    while s[pos : pos + 1] in (" ", "\t", "\n", "\r"):
        pos += 1
    return pos


def _orders_at(s: str, path: tuple[Any, ...]) -> int | None:
    """Where the orders array starts: the page itself, or the last ``path[0]`` key at its top level."""
    pos = _ws(s, 0)
    if not path:
        return pos
    if s[pos : pos + 1] != "{":
        return None
    found = None
    pos = _ws(s, pos + 1)
    while s[pos : pos + 1] != "}":
        key, pos = _DECODER.raw_decode(s, pos)
        pos = _ws(s, pos)
        if not isinstance(key, str) or s[pos : pos + 1] != ":":
            return None
        pos = _ws(s, pos + 1)
        if key == path[0]:
            found = pos  # the last one wins, as in the core
        pos = _ws(s, _DECODER.raw_decode(s, pos)[1])
        if s[pos : pos + 1] == ",":
            pos = _ws(s, pos + 1)
        elif s[pos : pos + 1] != "}":
            return None
    return found


def _orders(body: bytes, path: tuple[Any, ...]) -> list[str] | None:
    """Each order's own text in the page (sliced, not re-encoded: a number beyond a double or an
    unpaired surrogate escape that orjson would refuse stays as the shop wrote it); None if the page
    is not JSON with a list of orders where ``path`` expects one."""
    try:
        s = body.decode("utf-8")
        pos = _orders_at(s, path)
        if pos is None or s[pos : pos + 1] != "[":
            return None
        out: list[str] = []
        pos = _ws(s, pos + 1)
        if s[pos : pos + 1] == "]":
            return out
        while True:
            end = _DECODER.raw_decode(s, pos)[1]
            out.append(s[pos:end])
            pos = _ws(s, end)
            if s[pos : pos + 1] == "]":
                return out
            if s[pos : pos + 1] != ",":
                return None
            pos = _ws(s, pos + 1)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None


def _order_id(text: str) -> int | None:
    try:
        oid = json.loads(text).get("id")
    except (ValueError, RecursionError, AttributeError):
        return None
    if isinstance(oid, str) and oid.isascii() and oid.isdigit() and len(oid) < 20:
        oid = int(oid)
    return oid if type(oid) is int and 0 <= oid < 2**63 else None


def salvage(core: ModuleType, body: bytes, spec: PageSpec) -> tuple[Any, list[SetAside]] | None:
    """(the page parsed without its bad orders, the bad orders); None if the page is not a JSON list of
    orders where ``spec`` expects one."""
    path = spec.orders_path
    if len(path) > 1:
        return None
    items = _orders(body, path)
    if items is None:
        return None

    def page(orders: list[str]) -> bytes:
        listed = "[" + ",".join(orders) + "]"
        return (listed if not path else "{" + json.dumps(path[0]) + ":" + listed + "}").encode("utf-8")

    good: list[str] = []
    bad: list[SetAside] = []
    for order in items:
        try:
            core.parse_page(page([order]), spec)
        except ParseError as exc:
            bad.append((_order_id(order), order.encode("utf-8"), _reason(exc.message)))
            continue
        good.append(order)
    if not bad:
        return None  # the page fails as a whole, not because of one order
    return core.parse_page(page(good), spec), bad


Finish = Callable[[pa.Table, pa.Table], tuple[pa.Table, pa.Table]]


def finish_each(
    finish: Finish, orders: pa.Table, lines: pa.Table
) -> tuple[pa.Table, pa.Table, list[SetAside]] | None:
    """(``finish`` over the good orders, the orders it refuses when given alone) for a parsed page
    ``finish`` (a connector's finishing step) refused; None if it refuses none alone."""
    ids = orders.column("order_id").to_pylist()
    raws = orders.column(RAW_COLUMN)
    good: list[int] = []
    bad: list[SetAside] = []
    for i, oid in enumerate(ids):
        try:
            finish(*take_orders(orders, lines, pa.array([i], pa.int64())))
        except ParseError as exc:
            bad.append((oid, raws[i].as_py(), _reason(exc.message)))
            continue
        good.append(i)
    if not bad:
        return None  # the page fails as a whole, not because of one order
    return (*finish(*take_orders(orders, lines, pa.array(good, pa.int64()))), bad)
