"""Writes the till makes to tell a shop about an order, beyond statuses and stock.

- Shopify ``PUT /admin/api/{version}/orders/{id}.json``: ``tags`` (a comma-separated list, replaced
  whole), ``note`` and ``note_attributes`` (replaced whole), as the Admin REST API takes them;
- PrestaShop ``POST /api/messages``: a message on the order (``id_order``, ``message``, ``private``).

Each accepted write is kept on the order (it shows in later reads, and the order counts as modified,
as on a real shop) and recorded in ``/_sim/received`` by the server.
"""

from __future__ import annotations

import time
from typing import Any

import orjson
from aiohttp import web

from fastimport.sim.prestashop_api import PSError, parse_xml, xml_response
from fastimport.sim.shopify_api import ShopifyError, json_response
from fastimport.sim.store import OrderStore

_SHOPIFY_FIELDS = ("tags", "note", "note_attributes")


class ShopifyOrderWrites:
    def __init__(self, store: OrderStore) -> None:
        self.store = store

    def routes(self, app: web.Application, base: str) -> None:
        app.router.add_put(base + "/orders/{oid:\\d+}.json", self.update)

    async def update(self, request: web.Request) -> web.Response:
        idx = self.store.find(int(request.match_info["oid"]))
        if idx < 0:
            raise ShopifyError(404, "Not Found")
        try:
            body = orjson.loads(await request.read())
        except orjson.JSONDecodeError:
            raise ShopifyError(400, "Bad Request") from None
        order = body.get("order") if isinstance(body, dict) else None
        if not isinstance(order, dict):
            raise ShopifyError(400, {"order": "Required parameter missing or invalid"})
        fields = {k: order[k] for k in _SHOPIFY_FIELDS if k in order}
        attributes = fields.get("note_attributes")
        if attributes is not None and not (
            isinstance(attributes, list) and all(isinstance(a, dict) and "name" in a for a in attributes)
        ):
            raise ShopifyError(422, {"note_attributes": ["is invalid"]})
        if fields:
            self.store.write_fields(idx, fields)
        return json_response(b'{"order":' + self.store.blob(idx) + b"}")


class PrestaShopMessages:
    def __init__(self, store: OrderStore) -> None:
        self.store = store
        self.messages: list[dict[str, Any]] = []

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/api/messages", self.post)
        app.router.add_get("/api/messages", self.listing)

    async def post(self, request: web.Request) -> web.Response:
        fields = parse_xml(await request.read(), "message")
        oid_text, text = fields.get("id_order", ""), fields.get("message", "")
        if not oid_text.isdigit() or self.store.find(int(oid_text)) < 0:
            raise PSError(400, 85, 'Validation error: "Property Message->id_order is not valid"', False)
        if not text:
            raise PSError(400, 41, "parameter message required", json_out=False)
        record = {
            "id": len(self.messages) + 1,
            "id_order": oid_text,
            "message": text,
            "private": fields.get("private", "0") or "0",
            "date_add": time.strftime("%Y-%m-%d %H:%M:%S"),
        }
        self.messages.append(record)
        return xml_response("message", record, 201)

    async def listing(self, request: web.Request) -> web.Response:
        body = {"messages": self.messages} if self.messages else []
        return web.Response(body=orjson.dumps(body), content_type="application/json")
