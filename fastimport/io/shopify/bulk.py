"""Shopify GraphQL Bulk Operations: one job for a very large range, its JSONL streamed into REST-shaped pages.

Start ``bulkOperationRunQuery``, poll the operation until it leaves CREATED/RUNNING, download the
JSONL file.  Each line is one object; an order's line items come as lines of their own carrying
``__parentId``.  The job is asked for the grouped layout (each order's lines right below it), so
the download is read as it arrives (:class:`BulkReader`): each order is rebuilt with its lines and
pages of ``{"orders": [...]}`` in the REST shape the page spec reads leave as soon as they are
complete, in memory that does not grow with the file.  The same parser, dedup and store take them:
a bulk import stores the same rows as a REST import (the ``raw`` column then holds the REST-shaped
rebuild, not the GraphQL objects).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Callable
from contextlib import aclosing
from typing import TYPE_CHECKING, Any

import orjson

from fastimport.errors import FetchError, ParseError
from fastimport.io.connector import Page
from fastimport.io.fetcher import Fetcher, Request, Response
from fastimport.ranges import ImportRange

if TYPE_CHECKING:
    from fastimport.io.shopify.connector import ShopifyConnector

POLL_SECONDS = 1.0
MAX_WAIT_SECONDS = 6 * 3600.0
_MONEY = "{ shopMoney { amount } }"
ORDER_FIELDS = (
    "id name createdAt updatedAt processedAt cancelledAt displayFinancialStatus displayFulfillmentStatus "
    f"currencyCode taxesIncluded email note paymentGatewayNames currentTotalPriceSet {_MONEY} "
    f"currentTotalTaxSet {_MONEY} currentTotalDiscountsSet {_MONEY} totalShippingPriceSet {_MONEY} "
    "customer { id } billingAddress { firstName lastName company phone } "
    "shippingAddress { lastName address1 zip city countryCodeV2 } shippingLine { code title }"
)
LINE_FIELDS = (
    "id sku name quantity currentQuantity variant { id } product { id } "
    f"originalUnitPriceSet {_MONEY} discountAllocations {{ allocatedAmountSet {_MONEY} }} "
    f"taxLines {{ title priceSet {_MONEY} }}"
)


# ``groupObjects`` exists from 2025-07 (default true until 2026-01, false from then); before 2025-07
# every bulk file is grouped and the argument is refused.
GROUP_OBJECTS_FROM = "2025-07"


def bulk_query(rng: ImportRange, api_version: str = GROUP_OBJECTS_FROM) -> str:
    """The mutation that starts the job, asking for the grouped layout the streamed reader needs."""
    field = "created_at" if rng.field == "created" else "updated_at"
    lo = rng.start.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    hi = rng.end.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    search = f"{field}:>='{lo}' AND {field}:<='{hi}'"
    inner = (
        f'{{ orders(query: "{search}", sortKey: ID) {{ edges {{ node {{ {ORDER_FIELDS} '
        f"lineItems {{ edges {{ node {{ {LINE_FIELDS} }} }} }} }} }} }} }}"
    )
    grouped = ", groupObjects: true" if api_version == "unstable" or api_version >= GROUP_OBJECTS_FROM else ""
    return (
        f'mutation {{ bulkOperationRunQuery(query: """{inner}"""{grouped}) '
        "{ bulkOperation { id status } userErrors { field message } } }"
    )


def poll_query(operation_id: str) -> str:
    return (
        f'query {{ node(id: "{operation_id}") {{ ... on BulkOperation {{ id status errorCode createdAt '
        "completedAt objectCount rootObjectCount fileSize url partialDataUrl } } }"
    )


def _gid(value: Any) -> int | None:
    if not isinstance(value, str):
        return None
    return int(value.rsplit("/", 1)[1].split("?", 1)[0])


def _amount(obj: Any) -> str | None:
    if not isinstance(obj, dict):
        return None
    money = obj.get("shopMoney")
    return money.get("amount") if isinstance(money, dict) else None


def rest_line(node: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": _gid(node["id"]),
        "product_id": _gid((node.get("product") or {}).get("id")),
        "variant_id": _gid((node.get("variant") or {}).get("id")),
        "sku": node.get("sku"),
        "name": node.get("name"),
        "quantity": node.get("quantity"),
        "current_quantity": node.get("currentQuantity"),
        "price": _amount(node.get("originalUnitPriceSet")),
        "discount_allocations": [
            {"amount": _amount(d.get("allocatedAmountSet"))} for d in node.get("discountAllocations") or []
        ],
        "tax_lines": [
            {"price": _amount(t.get("priceSet")), "title": t.get("title")} for t in node.get("taxLines") or []
        ],
    }


def rest_order(node: dict[str, Any], lines: list[dict[str, Any]]) -> dict[str, Any]:
    """A bulk order object and its line objects -> the REST fields the page spec reads."""
    fulfillment = (node.get("displayFulfillmentStatus") or "").lower()
    billing = node.get("billingAddress") or None
    shipping = node.get("shippingAddress") or None
    line = node.get("shippingLine") or None
    order: dict[str, Any] = {
        "id": _gid(node["id"]),
        "name": node.get("name"),
        "financial_status": (node.get("displayFinancialStatus") or "").lower() or None,
        "fulfillment_status": fulfillment if fulfillment and fulfillment != "unfulfilled" else None,
        "cancelled_at": node.get("cancelledAt"),
        "currency": node.get("currencyCode"),
        "created_at": node.get("createdAt"),
        "updated_at": node.get("updatedAt"),
        "processed_at": node.get("processedAt"),
        "current_total_price": _amount(node.get("currentTotalPriceSet")),
        "current_total_tax": _amount(node.get("currentTotalTaxSet")),
        "total_shipping_price_set": {"shop_money": {"amount": _amount(node.get("totalShippingPriceSet"))}},
        "current_total_discounts": _amount(node.get("currentTotalDiscountsSet")),
        "taxes_included": node.get("taxesIncluded"),
        "email": node.get("email"),
        "billing_address": None
        if billing is None
        else {
            "first_name": billing.get("firstName"),
            "last_name": billing.get("lastName"),
            "company": billing.get("company"),
            "phone": billing.get("phone"),
        },
        "shipping_address": None
        if shipping is None
        else {
            "last_name": shipping.get("lastName"),
            "address1": shipping.get("address1"),
            "zip": shipping.get("zip"),
            "city": shipping.get("city"),
            "country_code": shipping.get("countryCodeV2"),
        },
        "shipping_lines": [] if line is None else [{"code": line.get("code"), "title": line.get("title")}],
        "payment_gateway_names": node.get("paymentGatewayNames") or [],
        "note": node.get("note"),
        "line_items": lines,
    }
    if node.get("customer"):
        order["customer"] = {"id": _gid(node["customer"].get("id"))}
    return order


class JsonlLines:
    """Bytes in chunks of any size -> whole lines (without their newline), a line cut across chunks rejoined."""

    def __init__(self) -> None:
        self._tail: list[bytes] = []  # the pieces of a line whose newline has not come yet

    def feed(self, chunk: bytes) -> list[bytes]:
        if b"\n" not in chunk:
            if chunk:
                self._tail.append(chunk)
            return []
        lines = chunk.split(b"\n")
        if self._tail:
            lines[0] = b"".join([*self._tail, lines[0]])
            self._tail = []
        last = lines.pop()
        if last:
            self._tail.append(last)
        return lines

    def close(self) -> bytes:
        """What follows the last newline: a last line without one, or the start of a cut line."""
        rest = b"".join(self._tail)
        self._tail = []
        return rest


class BulkReader:
    """The bulk JSONL, fed chunk by chunk -> pages of ``per_page`` REST-shaped orders.

    It relies on the grouped layout (``groupObjects: true``, see ``bulk_query``): every line item
    comes right below its order, so an order is complete when the next order's line (or the end of
    the file) arrives, and a page leaves as soon as it holds ``per_page`` complete orders.  Memory is
    one page, the order being read and one chunk, whatever the size of the file.  A line item away
    from its order (an ungrouped file) stops the import: its order may already be stored without it.

    Order of what comes out: orders in the file's order (Shopify writes them by the query's
    ``sortKey: ID``, but nothing relies on it), each order's lines sorted by id as a REST answer
    has them.  The old reader sorted the whole file by id; the importer never needed it: it takes
    the REST fan-out's pages in any order too, and dedups by id, modification date and content hash.
    """

    def __init__(self, per_page: int, expected_objects: int | None = None) -> None:
        self.per_page = per_page
        self.expected_objects = expected_objects  # the job's objectCount: a file cut short is caught
        self.objects = 0
        self._lines = JsonlLines()
        self._order: dict[str, Any] | None = None
        self._order_line = 0
        self._children: list[dict[str, Any]] = []
        self._page: list[dict[str, Any]] = []

    def feed(self, chunk: bytes) -> list[bytes]:
        pages: list[bytes] = []
        for raw in self._lines.feed(chunk):
            self._line(raw, pages)
        return pages

    def close(self) -> list[bytes]:
        """The end of the file: checks it is whole, then the last order and page."""
        pages: list[bytes] = []
        self._line(self._lines.close(), pages)
        if self.expected_objects is not None and self.objects != self.expected_objects:
            raise FetchError(
                f"the Shopify bulk file ended after {self.objects} of its {self.expected_objects} objects "
                "(a download cut short?): the rest of the range was not stored; run the import again",
                objects=self.objects,
                expected=self.expected_objects,
            )
        self._close_order(pages)
        if self._page:
            pages.append(orjson.dumps({"orders": self._page}))
            self._page = []
        return pages

    def _line(self, raw: bytes, pages: list[bytes]) -> None:
        if not raw.strip():
            return
        self.objects += 1
        number = self.objects
        try:
            obj = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise ParseError(
                f"the Shopify bulk file has a damaged line {number} ({exc}; it starts {raw[:60]!r}): "
                "the file is cut short or garbled; run the import again",
                path=f"line {number}",
            ) from exc
        if not isinstance(obj, dict) or not isinstance(obj.get("id"), str):
            raise ParseError(
                f"the Shopify bulk file's line {number} is not an object with an id (it starts {raw[:60]!r})",
                path=f"line {number}.id",
            )
        parent = obj.get("__parentId")
        if parent is None:
            self._close_order(pages)
            self._order, self._order_line = obj, number
            return
        if self._order is None or parent != self._order["id"]:
            raise FetchError(
                f"the Shopify bulk file's line {number} is a line item of {parent} away from its order "
                "(the file is not grouped): orders read before it may lack lines; "
                'set mode = "rest" for this store and run the import again',
                path=f"line {number}.__parentId",
            )
        self._children.append(self._shaped(rest_line, obj, number))

    def _close_order(self, pages: list[bytes]) -> None:
        if self._order is None:
            return
        lines = sorted(self._children, key=lambda li: li["id"] or 0)
        self._page.append(self._shaped(lambda node: rest_order(node, lines), self._order, self._order_line))
        self._order, self._children = None, []
        if len(self._page) >= self.per_page:
            pages.append(orjson.dumps({"orders": self._page}))
            self._page = []

    @staticmethod
    def _shaped(
        build: Callable[[dict[str, Any]], dict[str, Any]], obj: dict[str, Any], number: int
    ) -> dict[str, Any]:
        try:
            return build(obj)
        except (AttributeError, IndexError, KeyError, TypeError, ValueError) as exc:
            raise ParseError(
                f"the Shopify bulk file's line {number} has a field of an unexpected shape ({exc!r})",
                path=f"line {number}",
            ) from exc


async def _graphql(connector: ShopifyConnector, fetcher: Fetcher, query: str) -> dict[str, Any]:
    response = await connector.call(fetcher, connector.request("/graphql.json", body={"query": query}))
    body = orjson.loads(response.body)
    if body.get("errors"):
        raise FetchError(
            f"store '{connector.store.name}': Shopify GraphQL refused the query: {body['errors']}"
        )
    data: dict[str, Any] = body["data"]
    return data


def _check_file(response: Response) -> None:
    if response.status >= 400:
        raise FetchError(
            f"the Shopify bulk result could not be downloaded (HTTP {response.status}): the link expires "
            "7 days after the job; run the import again"
        )


async def bulk_pages(connector: ShopifyConnector, fetcher: Fetcher, rng: ImportRange) -> AsyncIterator[Page]:
    where = f"store '{connector.store.name}'"
    data = await _graphql(connector, fetcher, bulk_query(rng, connector.store.api_version))
    started = data["bulkOperationRunQuery"]
    if started.get("userErrors"):
        messages = "; ".join(str(e.get("message")) for e in started["userErrors"])
        raise FetchError(f"{where}: Shopify would not start the bulk export: {messages}")
    operation = started["bulkOperation"]
    waited = 0.0
    poll = getattr(connector, "poll_seconds", POLL_SECONDS)
    while operation["status"] in ("CREATED", "RUNNING", "CANCELING"):
        if waited > MAX_WAIT_SECONDS:
            raise FetchError(
                f"{where}: the Shopify bulk export {operation['id']} still runs after {waited:.0f} s"
            )
        await asyncio.sleep(poll)
        waited += poll
        operation = (await _graphql(connector, fetcher, poll_query(operation["id"])))["node"]
    status = operation["status"]
    if status != "COMPLETED":
        reasons = {
            "FAILED": f"failed ({operation.get('errorCode') or 'no error code'})",
            "EXPIRED": "expired before it could be read (a bulk job must finish within 10 days and its file "
            "is kept 7 days)",
            "CANCELED": "was cancelled on the shop",
        }
        raise FetchError(
            f"{where}: the Shopify bulk export {operation['id']} {reasons.get(status, status.lower())}; nothing "
            'from it was stored: run the import again, or set mode = "rest" for this store',
            status=status,
        )
    url = operation.get("url")
    if not url:  # a job that matched nothing has no file
        return
    count = str(operation.get("objectCount") or "")  # UnsignedInt64: a string of digits
    reader = BulkReader(connector.store.per_page, int(count) if count.isdigit() else None)
    number = 0
    # Streamed: each page leaves while the rest of the file is still on the wire.
    async with aclosing(fetcher.stream(Request("GET", url), _check_file)) as chunks:
        async for chunk in chunks:
            for body in reader.feed(chunk):
                number += 1
                yield Page(body, number, 1)
    for body in reader.close():
        number += 1
        yield Page(body, number, 1)
