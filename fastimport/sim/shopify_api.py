"""Shopify Admin REST (versioned path) for the simulated shop: orders, counts, the leaky bucket.

* ``X-Shopify-Access-Token`` or 401 ``{"errors": "[API] Invalid API key or access token ..."}``.
* Leaky bucket per shop: ``bucket`` calls, leaking ``leak`` per second; every answer carries
  ``X-Shopify-Shop-Api-Call-Limit: used/size``; a call into a full bucket gets 429 with
  ``Retry-After`` and Shopify's error body (and is counted in ``throttled``).
* ``orders.json``: ``status`` (default ``open``!), ``created_at_min/max``, ``updated_at_min/max``
  (inclusive), ``limit`` (default 50, at most 250), cursor pagination by ``Link`` + ``page_info``;
  with ``page_info`` only ``limit`` and ``fields`` may be passed.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import math
import time
from bisect import bisect_right
from datetime import datetime
from typing import Any

import orjson
from aiohttp import web

from fastimport.sim.store import ALL_STATUSES, CODE, OrderStore

JSON_TYPE = "application/json; charset=utf-8"
CALL_LIMIT = "X-Shopify-Shop-Api-Call-Limit"
STATUS_GROUPS: dict[str, frozenset[int]] = {
    "open": frozenset(CODE[s] for s in ("pending", "processing", "on-hold", "failed")),
    "closed": frozenset(CODE[s] for s in ("completed", "refunded", "cancelled")),
    "cancelled": frozenset({CODE["cancelled"]}),
    "any": frozenset(CODE[s] for s in ALL_STATUSES if s != "trash"),
}
_FILTERS = ("status", "created_at_min", "created_at_max", "updated_at_min", "updated_at_max")
_CURSOR_COMPANIONS = frozenset({"limit", "fields", "page_info"})


class ShopifyError(Exception):
    def __init__(self, status: int, errors: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(str(errors))
        self.status, self.errors, self.headers = status, errors, headers or {}

    def response(self) -> web.Response:
        return json_response(orjson.dumps({"errors": self.errors}), self.status, self.headers)


def json_response(body: bytes, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    resp = web.Response(body=body, status=status, headers=headers)
    resp.headers["Content-Type"] = JSON_TYPE
    return resp


class LeakyBucket:
    """Shopify's REST limiter: ``size`` calls, ``leak`` per second, per app and shop."""

    def __init__(self, size: int, leak: float) -> None:
        self.size, self.leak = size, leak
        self.level = 0.0
        self.at = time.monotonic()
        self.throttled = 0
        self.calls = 0
        self.first_at: float | None = None  # monotonic arrival of the first and last accepted calls
        self.last_at: float | None = None

    def take(self) -> tuple[bool, str]:
        now = time.monotonic()
        self.level = max(0.0, self.level - (now - self.at) * self.leak)
        self.at = now
        if self.level + 1 > self.size:
            self.throttled += 1
            return False, f"{self.size}/{self.size}"
        self.level += 1
        self.calls += 1
        self.first_at = now if self.first_at is None else self.first_at
        self.last_at = now
        return True, f"{math.ceil(self.level - 1e-9)}/{self.size}"


def parse_instant(text: str) -> int:
    """An ISO-8601 query date (offset optional: then the shop's zone... taken as UTC here) -> epoch."""
    value = text.strip().replace(" ", "T")
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError("no offset")
    return int(parsed.timestamp())


def encode_cursor(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(data)).decode().rstrip("=")


def decode_cursor(text: str) -> dict[str, Any]:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        data = orjson.loads(raw)
    except (binascii.Error, orjson.JSONDecodeError, ValueError):
        raise ShopifyError(400, {"page_info": ["Invalid value."]}) from None
    if not isinstance(data, dict):
        raise ShopifyError(400, {"page_info": ["Invalid value."]})
    return data


class ShopifyOrdersApi:
    """orders.json, orders/count.json and orders/{id}.json over the shop's OrderStore."""

    def __init__(self, store: OrderStore, create_during: int, modify_during: int) -> None:
        self.store = store
        self.create_during = create_during
        self.modify_during = modify_during

    def _filters(self, query: Any) -> dict[str, str]:
        return {k: query[k] for k in _FILTERS if k in query}

    def _positions(self, filters: dict[str, str]) -> list[int]:
        status = filters.get("status", "open")
        if status not in STATUS_GROUPS:
            raise ShopifyError(400, {"status": ["is not included in the list"]})
        bounds = []
        for column, low_name, high_name in (
            ("created", "created_at_min", "created_at_max"),
            ("modified", "updated_at_min", "updated_at_max"),
        ):
            low, high = -(2**62), 2**62
            try:
                if low_name in filters:
                    low = (
                        parse_instant(filters[low_name]) - 1
                    )  # inclusive bounds over the store's exclusive ones
                if high_name in filters:
                    high = parse_instant(filters[high_name]) + 1
            except ValueError:
                name = low_name if low_name in filters else high_name
                raise ShopifyError(400, {name: ["is not a valid date"]}) from None
            if low_name in filters or high_name in filters:
                bounds.append((column, low, high))
        return self.store.listing(STATUS_GROUPS[status], tuple(bounds), "id", False)

    async def listing(self, request: web.Request) -> web.Response:
        query = request.query
        try:
            limit = int(query.get("limit", "50"))
        except ValueError:
            raise ShopifyError(400, {"limit": ["is not a number"]}) from None
        if not 1 <= limit <= 250:
            raise ShopifyError(400, {"limit": ["must be less than or equal to 250"]})
        after = 0
        if "page_info" in query:
            extra = sorted(set(query) - _CURSOR_COMPANIONS)
            if extra:
                raise ShopifyError(
                    400, {extra[0]: [f"{extra[0]} cannot be passed when page_info is present"]}
                )
            cursor = decode_cursor(query["page_info"])
            filters = {str(k): str(v) for k, v in dict(cursor.get("filters", {})).items()}
            after = int(cursor.get("last_id", 0))
        else:
            filters = self._filters(query)
        positions = self._positions(filters)
        ids = self.store.ids
        start = bisect_right(positions, after, key=ids.__getitem__) if after else 0
        chosen = positions[start : start + limit]
        headers: dict[str, str] = {}
        if start + limit < len(positions):
            token = encode_cursor({"filters": filters, "last_id": ids[chosen[-1]], "direction": "next"})
            url = request.url.with_query([("limit", str(limit)), ("page_info", token)])
            headers["Link"] = f'<{url}>; rel="next"'
        body = self.store.page(chosen)
        if "page_info" not in query:
            self.store.drift(positions, self.create_during, self.modify_during)
        return json_response(b'{"orders":' + body + b"}", headers=headers)

    async def count(self, request: web.Request) -> web.Response:
        filters = self._filters(request.query)
        return json_response(orjson.dumps({"count": len(self._positions(filters))}))

    async def get(self, request: web.Request) -> web.Response:
        idx = self.store.find(int(request.match_info["oid"]))
        if idx < 0:
            raise ShopifyError(404, "Not Found")
        return json_response(b'{"order":' + self.store.blob(idx) + b"}")


class ShopifyAuth:
    def __init__(self, token: str) -> None:
        self.token = token

    def check(self, request: web.Request) -> web.Response | None:
        given = request.headers.get("X-Shopify-Access-Token", "")
        if not given or not hmac.compare_digest(given, self.token):
            return ShopifyError(
                401, "[API] Invalid API key or access token (unrecognized login or wrong password)"
            ).response()
        return None


def throttled_response(bucket: LeakyBucket, header: str) -> web.Response:
    return ShopifyError(
        429,
        f"Exceeded {bucket.leak:g} calls per second for api client. Reduce request rates to resume "
        "uninterrupted service.",
        {"Retry-After": "1.0", CALL_LIMIT: header},
    ).response()
