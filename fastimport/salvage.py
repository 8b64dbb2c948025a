"""One bad order never blocks the others: a page the core cannot read whole is read order by order.

When :func:`fastimport.core` ``parse_page`` refuses a page (a field of the wrong type, a malformed
value), the page's JSON is split into its orders, each is parsed alone, and the page is parsed again
made of the good ones only; the bad ones are set aside with their JSON and the reason (see
:mod:`fastimport.store.set_aside`).  A page that is not JSON at all (truncated, an HTML error page)
stays a page-level error, retried as before.  Only the failure path comes here: the import's hot path
is unchanged.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import orjson

from fastimport.columns import PageSpec
from fastimport.errors import ParseError

SetAside = tuple[int | None, bytes, str]  # (shop order id if readable, the order's JSON, why)


def salvage(core: ModuleType, body: bytes, spec: PageSpec) -> tuple[Any, list[SetAside]] | None:
    """(the page parsed without its bad orders, the bad orders); None if the page is not a JSON list of
    orders where ``spec`` expects one."""
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    path = spec.orders_path
    items: Any = doc
    for key in path:
        items = items.get(key) if isinstance(items, dict) and isinstance(key, str) else None
    if not isinstance(items, list) or len(path) > 1:
        return None

    def page(orders: list[Any]) -> bytes:
        return orjson.dumps(orders if not path else {**doc, str(path[0]): orders})

    good: list[Any] = []
    bad: list[SetAside] = []
    for order in items:
        try:
            core.parse_page(page([order]), spec)
        except ParseError as exc:
            oid = order.get("id") if isinstance(order, dict) else None
            bad.append((int(oid) if isinstance(oid, int | str) and str(oid).isdigit() else None,
                        orjson.dumps(order), exc.message))  # fmt: skip
            continue
        good.append(order)
    if not bad:
        return None  # the page fails as a whole, not because of one order
    return core.parse_page(page(good), spec), bad
