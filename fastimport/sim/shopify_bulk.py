"""Shopify GraphQL Bulk Operations for the simulated shop: run a query, poll it, download JSONL.

``bulkOperationRunQuery`` over ``orders(query: "created_at:>='…' AND created_at:<='…'")`` (or
``updated_at``) starts a job; one job at a time per shop (Shopify before 2026-01).  The job stays
RUNNING for ``seconds`` and then ends with ``outcome`` (COMPLETED, FAILED or EXPIRED).  The file has
one JSON object per line: orders, and their line items as separate objects with ``__parentId``.
With ``groupObjects: true`` (Shopify's default before 2026-01) each order comes followed by its
line items; otherwise (``groupObjects: false``, the default from 2026-01) the lines are shuffled, so
that children may come before their parent.

The download honours ``Range: bytes=N-`` (206), like the storage Shopify's links point to.  Faults:
``drop_after`` closes the connection after that many bytes on a file's first download (a retry
gets the rest); ``cut_at`` keeps only a file's first bytes (a file damaged at the source).
"""

from __future__ import annotations

import random
import re
import time
from typing import Any

import orjson
from aiohttp import web

from fastimport.sim.shopify_api import STATUS_GROUPS, ShopifyError, json_response, parse_instant
from fastimport.sim.shopify_orders import GID
from fastimport.sim.store import OrderStore

_RUN = re.compile(
    r'bulkOperationRunQuery\(query:\s*"""(.*)"""\s*(?:,\s*groupObjects:\s*(true|false)\s*)?\)', re.S
)
_RANGE = re.compile(r"bytes=(\d+)-$")
_SEARCH = re.compile(r"(created_at|updated_at):>='([^']+)' AND (?:created_at|updated_at):<='([^']+)'")
_NODE = re.compile(r'node\(id:\s*"([^"]+)"\)')


def _utc(stamp: str | None) -> str | None:
    if stamp is None:
        return None
    from datetime import UTC, datetime

    return datetime.fromisoformat(stamp).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _money(amount: str | None) -> dict[str, Any] | None:
    if amount is None:
        return None
    text = amount.rstrip("0")
    text = text + "0" if text.endswith(".") else text  # GraphQL Decimal: "82.6", "82.0"
    return {"shopMoney": {"amount": text, "currencyCode": "EUR"}}


def graphql_objects(order: dict[str, Any]) -> list[dict[str, Any]]:
    """One REST order -> its bulk JSONL objects (the order, then one object per line item)."""
    gid = f"{GID}Order/{order['id']}"
    bill, ship = order.get("billing_address"), order.get("shipping_address")
    line = order["shipping_lines"][0] if order["shipping_lines"] else None
    node = {
        "id": gid,
        "name": order["name"],
        "createdAt": _utc(order["created_at"]),
        "updatedAt": _utc(order["updated_at"]),
        "processedAt": _utc(order["processed_at"]),
        "cancelledAt": _utc(order["cancelled_at"]),
        "displayFinancialStatus": order["financial_status"].upper(),
        "displayFulfillmentStatus": (order["fulfillment_status"] or "unfulfilled").upper(),
        "currencyCode": order["currency"],
        "taxesIncluded": order["taxes_included"],
        "email": order["email"],
        "note": order["note"],
        "paymentGatewayNames": order["payment_gateway_names"],
        "currentTotalPriceSet": _money(order["current_total_price"]),
        "currentTotalTaxSet": _money(order["current_total_tax"]),
        "currentTotalDiscountsSet": _money(order["current_total_discounts"]),
        "totalShippingPriceSet": _money(order["total_shipping_price_set"]["shop_money"]["amount"]),
        "customer": {"id": f"{GID}Customer/{order['customer']['id']}"} if "customer" in order else None,
        "billingAddress": None
        if bill is None
        else {
            "firstName": bill["first_name"],
            "lastName": bill["last_name"],
            "company": bill["company"],
            "phone": bill["phone"],
        },
        "shippingAddress": None
        if ship is None
        else {
            "lastName": ship["last_name"],
            "address1": ship["address1"],
            "zip": ship["zip"],
            "city": ship["city"],
            "countryCodeV2": ship["country_code"],
        },
        "shippingLine": None if line is None else {"code": line["code"], "title": line["title"]},
    }
    out = [node]
    for li in order["line_items"]:
        out.append(
            {
                "id": f"{GID}LineItem/{li['id']}",
                "sku": li["sku"],
                "name": li["name"],
                "quantity": li["quantity"],
                "currentQuantity": li["current_quantity"],
                "variant": {"id": f"{GID}ProductVariant/{li['variant_id']}"} if li["variant_id"] else None,
                "product": {"id": f"{GID}Product/{li['product_id']}"} if li["product_id"] else None,
                "originalUnitPriceSet": _money(li["price"]),
                "discountAllocations": [
                    {"allocatedAmountSet": _money(d["amount"])} for d in li["discount_allocations"]
                ],
                "taxLines": [{"title": t["title"], "priceSet": _money(t["price"])} for t in li["tax_lines"]],
                "__parentId": gid,
            }
        )
    return out


def bulk_file(store: OrderStore, positions: list[int], shuffle: random.Random | None) -> tuple[bytes, int]:
    """The JSONL file of these orders and its object count: grouped (each order, then its lines),
    or every line shuffled with ``shuffle``."""
    objects = [obj for idx in positions for obj in graphql_objects(store.shaped(idx))]
    if shuffle is not None:
        shuffle.shuffle(objects)
    return b"".join(orjson.dumps(o) + b"\n" for o in objects), len(objects)


class BulkOperations:
    def __init__(
        self,
        store: OrderStore,
        seconds: float,
        outcome: str,
        seed: int,
        drop_after: int = 0,
        cut_at: int = 0,
    ) -> None:
        self.store = store
        self.drop_after = drop_after
        self.cut_at = cut_at
        self.downloads: dict[str, int] = {}  # downloads started, per file
        self.seconds = seconds
        self.outcome = outcome
        self.rng = random.Random(seed)
        self.jobs: dict[str, dict[str, Any]] = {}
        self.files: dict[str, bytes] = {}
        self.base_url = ""

    def routes(self, app: web.Application, base: str) -> None:
        app.router.add_post(base + "/graphql.json", self.graphql)
        app.router.add_get("/_sim/bulk/{name}.jsonl", self.download)

    def _running(self) -> dict[str, Any] | None:
        for job in self.jobs.values():
            self._advance(job)
            if job["status"] in ("CREATED", "RUNNING"):
                return job
        return None

    def _advance(self, job: dict[str, Any]) -> None:
        if job["status"] in ("CREATED", "RUNNING"):
            job["status"] = "RUNNING"
            if time.monotonic() - job["_started"] >= self.seconds:
                job["status"] = self.outcome
                if self.outcome == "FAILED":
                    job["errorCode"] = "INTERNAL_SERVER_ERROR"
                if self.outcome == "COMPLETED":
                    job["url"] = f"{self.base_url}/_sim/bulk/{job['_n']}.jsonl"

    async def graphql(self, request: web.Request) -> web.Response:
        body = orjson.loads(await request.read() or b"{}")
        query = str(body.get("query", ""))
        run = _RUN.search(query)
        if run is not None:
            grouped = run.group(2)
            if grouped is None:  # the version's default
                version = request.match_info.get("version", "unstable")
                grouped = "true" if version != "unstable" and version < "2026-01" else "false"
            return self._start(run.group(1), grouped == "true", request)
        node = _NODE.search(query)
        if node is not None:
            job = self.jobs.get(node.group(1))
            if job is not None:
                self._advance(job)
            public = None if job is None else {k: v for k, v in job.items() if not k.startswith("_")}
            return json_response(orjson.dumps({"data": {"node": public}}))
        raise ShopifyError(400, [{"message": "The simulated shop only runs bulk operations"}])

    def _start(self, inner: str, grouped: bool, request: web.Request) -> web.Response:
        running = self._running()
        if running is not None:
            errors = [
                {
                    "field": None,
                    "message": f"A bulk query operation for this app and shop is already in progress: {running['id']}.",
                }
            ]
            return json_response(
                orjson.dumps(
                    {"data": {"bulkOperationRunQuery": {"bulkOperation": None, "userErrors": errors}}}
                )
            )
        search = _SEARCH.search(inner)
        bounds: list[tuple[str, int, int]] = []
        if search is not None:
            column = "created" if search.group(1) == "created_at" else "modified"
            bounds.append((column, parse_instant(search.group(2)) - 1, parse_instant(search.group(3)) + 1))
        positions = self.store.listing(STATUS_GROUPS["any"], tuple(bounds), "id", False)
        n = len(self.jobs) + 1
        self.base_url = f"{request.scheme}://{request.host}"
        self.files[str(n)], count = bulk_file(self.store, positions, None if grouped else self.rng)
        if self.cut_at:
            self.files[str(n)] = self.files[str(n)][: self.cut_at]
        gid = f"{GID}BulkOperation/{7_000_000 + n}"
        self.jobs[gid] = {
            "id": gid,
            "status": "CREATED",
            "errorCode": None,
            "createdAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "completedAt": None,
            "objectCount": str(count),
            "rootObjectCount": str(len(positions)),
            "fileSize": str(len(self.files[str(n)])),
            "url": None,
            "partialDataUrl": None,
            "_started": time.monotonic(),
            "_n": n,
            "_grouped": grouped,
        }
        op = {"id": gid, "status": "CREATED"}
        return json_response(
            orjson.dumps({"data": {"bulkOperationRunQuery": {"bulkOperation": op, "userErrors": []}}})
        )

    async def download(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        data = self.files.get(name)
        if data is None:
            return web.Response(status=404, text="NoSuchKey")
        self.downloads[name] = self.downloads.get(name, 0) + 1
        start, status = 0, 200
        wanted = _RANGE.match(request.headers.get("Range", ""))
        if wanted is not None:
            start, status = int(wanted.group(1)), 206
            if start >= len(data):
                return web.Response(status=416, headers={"Content-Range": f"bytes */{len(data)}"})
        headers = {"Content-Type": "application/jsonl", "Accept-Ranges": "bytes"}
        if status == 206:
            headers["Content-Range"] = f"bytes {start}-{len(data) - 1}/{len(data)}"
        response = web.StreamResponse(status=status, headers=headers)
        response.content_length = len(data) - start
        await response.prepare(request)
        body = memoryview(data)[start:]
        if self.drop_after and self.downloads[name] == 1 and self.drop_after < len(body):
            # The connection breaks mid-file: the client holds fewer bytes than Content-Length.
            await response.write(body[: self.drop_after])
            assert request.transport is not None
            request.transport.close()
            return response
        for k in range(0, len(body), 1 << 16):
            await response.write(body[k : k + (1 << 16)])
        await response.write_eof()
        return response
