"""Shopify GraphQL Bulk Operations: one job for a very large range, its JSONL read into REST-shaped pages.

Start ``bulkOperationRunQuery``, poll the operation until it leaves CREATED/RUNNING, download the
JSONL file.  Each line is one object; an order's line items come as lines of their own carrying
``__parentId``, in any order (before or after their order).  The connector reassembles each order
with its lines and writes pages of ``{"orders": [...]}`` in the REST shape the page spec reads, so
the same parser, dedup and store take them: a bulk import stores the same rows as a REST import
(the ``raw`` column then holds the REST-shaped rebuild, not the GraphQL objects).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import orjson

from fastimport.errors import FetchError
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


def bulk_query(rng: ImportRange) -> str:
    field = "created_at" if rng.field == "created" else "updated_at"
    lo = rng.start.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    hi = rng.end.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    search = f"{field}:>='{lo}' AND {field}:<='{hi}'"
    inner = (
        f'{{ orders(query: "{search}", sortKey: ID) {{ edges {{ node {{ {ORDER_FIELDS} '
        f"lineItems {{ edges {{ node {{ {LINE_FIELDS} }} }} }} }} }} }} }}"
    )
    return (
        f'mutation {{ bulkOperationRunQuery(query: """{inner}""") '
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


def reassemble(jsonl: bytes) -> list[dict[str, Any]]:
    """JSONL objects (children anywhere, linked by ``__parentId``) -> REST-shaped orders in id order."""
    orders: dict[str, dict[str, Any]] = {}
    children: dict[str, list[dict[str, Any]]] = {}
    for raw in jsonl.splitlines():
        if not raw.strip():
            continue
        obj = orjson.loads(raw)
        parent = obj.get("__parentId")
        if parent is None:
            orders[obj["id"]] = obj
        else:
            children.setdefault(parent, []).append(obj)
    orphans = set(children) - set(orders)
    if orphans:
        raise FetchError(
            f"the Shopify bulk file has line items for {len(orphans)} orders it does not contain "
            "(a partial file?): the import stops rather than store orders without their lines"
        )
    out = []
    for gid, node in orders.items():
        lines = sorted((rest_line(c) for c in children.get(gid, [])), key=lambda li: li["id"] or 0)
        out.append(rest_order(node, lines))
    out.sort(key=lambda o: o["id"] or 0)
    return out


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
    data = await _graphql(connector, fetcher, bulk_query(rng))
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
    response = await fetcher.fetch(Request("GET", url), _check_file)
    orders = reassemble(response.body)
    size = connector.store.per_page
    for k in range(0, len(orders), size):
        yield Page(orjson.dumps({"orders": orders[k : k + size]}), k // size + 1, 1)
