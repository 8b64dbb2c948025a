"""Shopify Admin REST beyond orders: catalogue, customers, locations, inventory and fulfillments.

Writes are validated like Shopify does (422 ``{"errors": {...}}`` for bad values, 404 for unknown
ids) and every accepted one is recorded in ``writes``.
"""

from __future__ import annotations

import time
from typing import Any

import orjson
from aiohttp import web

from fastimport.sim.catalogue import Customer, Product
from fastimport.sim.orders import money
from fastimport.sim.shopify_api import ShopifyError, json_response
from fastimport.sim.shopify_orders import GID, INVENTORY_BASE, LOCATION_ID, VARIANT_BASE, stamp
from fastimport.sim.store import OrderStore


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


class ShopifyAdmin:
    def __init__(self, store: OrderStore, products: list[Product], customers: list[Customer]) -> None:
        self.store = store
        self.customer_rows = customers
        self.products = [p for p in products if p.listed]
        # inventory item id -> [sku, available]
        self.inventory: dict[int, list[Any]] = {}
        for p in self.products:
            for key, sku, stock in [(v.id, v.sku, v.stock) for v in p.variations] or [(p.id, p.sku, p.stock)]:
                self.inventory[INVENTORY_BASE + key] = [sku, stock]
        self.writes: list[tuple[str, str, Any]] = []
        self.fulfillments: dict[int, dict[str, Any]] = {}  # order id -> fulfillment
        self.bulk: Any = None  # set by the bulk simulator

    def routes(self, app: web.Application, base: str) -> None:
        app.router.add_get(base + "/products.json", self.list_products)
        app.router.add_get(base + "/customers.json", self.list_customers)
        app.router.add_get(base + "/locations.json", self.locations)
        app.router.add_post(base + "/inventory_levels/set.json", self.set_level)
        app.router.add_get(base + "/orders/{oid:\\d+}/fulfillment_orders.json", self.fulfillment_orders)
        app.router.add_post(base + "/fulfillments.json", self.create_fulfillment)
        app.router.add_post(base + "/orders/{oid:\\d+}/cancel.json", self.cancel)
        app.router.add_post(base + "/orders/{oid:\\d+}/close.json", self.close)

    def customers_list(self) -> list[Any]:
        return [
            {
                "id": c.id,
                "email": c.email,
                "first_name": c.first_name,
                "last_name": c.last_name,
                "state": "enabled",
                "currency": "EUR",
                "admin_graphql_api_id": f"{GID}Customer/{c.id}",
            }
            for c in self.customer_rows
        ]

    # -- reads ------------------------------------------------------------------------------

    def _variant(self, p: Product, key: int, sku: str, title: str, price: int, stock: int) -> dict[str, Any]:
        vid = VARIANT_BASE + key
        return {
            "id": vid,
            "product_id": p.id,
            "title": title,
            "price": money(price),
            "sku": sku,
            "position": 1,
            "inventory_policy": "deny",
            "compare_at_price": None,
            "option1": title,
            "option2": None,
            "option3": None,
            "taxable": True,
            "barcode": None,
            "grams": 250,
            "weight": 0.25,
            "weight_unit": "kg",
            "inventory_item_id": INVENTORY_BASE + key,
            "inventory_quantity": stock,
            "requires_shipping": True,
            "admin_graphql_api_id": f"{GID}ProductVariant/{vid}",
        }

    def product_json(self, p: Product) -> dict[str, Any]:
        if p.variations:
            variants = [
                self._variant(p, v.id, v.sku, v.option, v.price, self.inventory[INVENTORY_BASE + v.id][1])
                for v in p.variations
            ]
        else:
            variants = [
                self._variant(
                    p, p.id, p.sku, "Default Title", p.price, self.inventory[INVENTORY_BASE + p.id][1]
                )
            ]
        return {
            "id": p.id,
            "title": p.name,
            "body_html": "",
            "vendor": "Boutique simulée",
            "product_type": "",
            "handle": p.sku.lower(),
            "status": "active",
            "tags": p.tax_class,
            "variants": variants,
            "admin_graphql_api_id": f"{GID}Product/{p.id}",
        }

    async def list_products(self, request: web.Request) -> web.Response:
        limit = int(request.query.get("limit", "50"))
        since = int(request.query.get("since_id", "0"))
        rows = [p for p in sorted(self.products, key=lambda p: p.id) if p.id > since][:limit]
        headers = {}
        if len(rows) == limit and rows[-1].id != max(p.id for p in self.products):
            url = request.url.with_query([("limit", str(limit)), ("since_id", str(rows[-1].id))])
            headers["Link"] = f'<{url}>; rel="next"'
        return json_response(
            orjson.dumps({"products": [self.product_json(p) for p in rows]}), headers=headers
        )

    async def list_customers(self, request: web.Request) -> web.Response:
        limit = int(request.query.get("limit", "50"))
        since = int(request.query.get("since_id", "0"))
        rows = [c for c in self.customers_list() if c["id"] > since]
        headers = {}
        if len(rows) > limit:
            url = request.url.with_query([("limit", str(limit)), ("since_id", str(rows[limit - 1]["id"]))])
            headers["Link"] = f'<{url}>; rel="next"'
        return json_response(orjson.dumps({"customers": rows[:limit]}), headers=headers)

    async def locations(self, request: web.Request) -> web.Response:
        return json_response(
            orjson.dumps(
                {
                    "locations": [
                        {
                            "id": LOCATION_ID,
                            "name": "Boutique",
                            "address1": "12 rue de la Paix",
                            "city": "Paris",
                            "zip": "75002",
                            "country_code": "FR",
                            "active": True,
                            "legacy": False,
                            "admin_graphql_api_id": f"{GID}Location/{LOCATION_ID}",
                        }
                    ]
                }
            )
        )

    # -- inventory --------------------------------------------------------------------------

    async def _json(self, request: web.Request) -> dict[str, Any]:
        try:
            body = orjson.loads(await request.read())
        except orjson.JSONDecodeError:
            raise ShopifyError(400, "Bad Request") from None
        if not isinstance(body, dict):
            raise ShopifyError(400, "Bad Request")
        return body

    async def set_level(self, request: web.Request) -> web.Response:
        body = await self._json(request)
        errors: dict[str, list[str]] = {}
        for name in ("location_id", "inventory_item_id", "available"):
            if name not in body:
                errors[name] = ["Required parameter missing or invalid"]
            elif _int(body[name]) is None:
                errors[name] = ["is not a number"]
        if errors:
            raise ShopifyError(422, errors)
        if body["location_id"] != LOCATION_ID:
            raise ShopifyError(422, {"base": ["Inventory item is not stocked at the location"]})
        item = self.inventory.get(body["inventory_item_id"])
        if item is None:
            raise ShopifyError(404, "Not Found")
        item[1] = body["available"]
        self.writes.append(("POST", "inventory_levels/set.json", body))
        now = stamp(self.store.ctx.clock, int(time.time()))
        return json_response(
            orjson.dumps(
                {
                    "inventory_level": {
                        "inventory_item_id": body["inventory_item_id"],
                        "location_id": LOCATION_ID,
                        "available": body["available"],
                        "updated_at": now,
                        "admin_graphql_api_id": f"{GID}InventoryLevel/{body['inventory_item_id']}",
                    }
                }
            )
        )

    # -- fulfillment and status -------------------------------------------------------------

    def _order(self, oid: int) -> tuple[int, dict[str, Any]]:
        idx = self.store.find(oid)
        if idx < 0:
            raise ShopifyError(404, "Not Found")
        return idx, self.store.shaped(idx)

    async def fulfillment_orders(self, request: web.Request) -> web.Response:
        oid = int(request.match_info["oid"])
        _, order = self._order(oid)
        done = oid in self.fulfillments or order["fulfillment_status"] == "fulfilled"
        status = "closed" if done or order["cancelled_at"] else "open"
        lines = [
            {
                "id": li["id"] + 3_000_000,
                "shop_id": 548380009,
                "fulfillment_order_id": oid * 10 + 2,
                "quantity": li["current_quantity"],
                "line_item_id": li["id"],
                "inventory_item_id": (li["variant_id"] - VARIANT_BASE + INVENTORY_BASE)
                if li["variant_id"]
                else None,
                "fulfillable_quantity": 0 if done else li["current_quantity"],
                "variant_id": li["variant_id"],
            }
            for li in order["line_items"]
        ]
        fo = {
            "id": oid * 10 + 2,
            "shop_id": 548380009,
            "order_id": oid,
            "assigned_location_id": LOCATION_ID,
            "request_status": "unsubmitted",
            "status": status,
            "supported_actions": ["create_fulfillment"] if status == "open" else [],
            "destination": None,
            "line_items": lines,
            "fulfill_at": order["created_at"],
            "fulfill_by": None,
            "international_duties": None,
            "fulfillment_holds": [],
            "delivery_method": {"id": oid, "method_type": "shipping"},
            "created_at": order["created_at"],
            "updated_at": order["updated_at"],
            "assigned_location": {"location_id": LOCATION_ID, "name": "Boutique", "country_code": "FR"},
            "merchant_requests": [],
        }
        return json_response(orjson.dumps({"fulfillment_orders": [fo]}))

    async def create_fulfillment(self, request: web.Request) -> web.Response:
        body = await self._json(request)
        f = body.get("fulfillment")
        if not isinstance(f, dict):
            raise ShopifyError(400, {"fulfillment": "Required parameter missing or invalid"})
        groups = f.get("line_items_by_fulfillment_order")
        if not isinstance(groups, list) or not groups:
            raise ShopifyError(
                422, {"line_items_by_fulfillment_order": ["Required parameter missing or invalid"]}
            )
        fo_id = _int(groups[0].get("fulfillment_order_id") if isinstance(groups[0], dict) else None)
        if fo_id is None or fo_id % 10 != 2:
            raise ShopifyError(404, "Not Found")
        oid = fo_id // 10
        idx, order = self._order(oid)
        if oid in self.fulfillments or order["cancelled_at"] or order["fulfillment_status"] == "fulfilled":
            raise ShopifyError(422, {"base": ["Fulfillment order is not in a fulfillable state"]})
        info = f.get("tracking_info", {})
        if not isinstance(info, dict) or (
            info.get("number") is not None and not isinstance(info["number"], str)
        ):
            raise ShopifyError(422, {"tracking_info": ["is invalid"]})
        self.writes.append(("POST", "fulfillments.json", body))
        fid = oid * 10 + 5
        now = stamp(self.store.ctx.clock, int(time.time()))
        number = info.get("number")
        record = {
            "id": fid,
            "order_id": oid,
            "status": "success",
            "created_at": now,
            "service": "manual",
            "updated_at": now,
            "tracking_company": info.get("company"),
            "shipment_status": None,
            "location_id": LOCATION_ID,
            "line_items": order["line_items"],
            "tracking_number": number,
            "tracking_numbers": [number] if number else [],
            "tracking_url": info.get("url"),
            "tracking_urls": [info["url"]] if info.get("url") else [],
            "receipt": {},
            "name": f"#{oid}.1",
            "admin_graphql_api_id": f"{GID}Fulfillment/{fid}",
        }
        self.fulfillments[oid] = record
        self.store.set_status(idx, "completed")
        return json_response(orjson.dumps({"fulfillment": record}), 201)

    async def cancel(self, request: web.Request) -> web.Response:
        idx, order = self._order(int(request.match_info["oid"]))
        if order["cancelled_at"]:
            raise ShopifyError(422, {"base": ["Order has already been cancelled"]})
        self.writes.append(("POST", request.path, None))
        self.store.set_status(idx, "cancelled")
        return json_response(b'{"order":' + self.store.blob(idx) + b"}")

    async def close(self, request: web.Request) -> web.Response:
        idx, _ = self._order(int(request.match_info["oid"]))
        self.writes.append(("POST", request.path, None))
        self.store.set_status(idx, "completed")
        return json_response(b'{"order":' + self.store.blob(idx) + b"}")
