"""/products, /products/{id}/variations and /customers: reads, and stock writes (single and batch)."""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web

from fastimport.sim.catalogue import Customer, Product, Variation, ascii_slug
from fastimport.sim.orders import money
from fastimport.sim.wphttp import (
    WPError,
    int_param,
    invalid_param,
    json_body,
    json_response,
    list_param,
    paginate,
    strict_int,
)

BATCH_LIMIT = 100  # WooCommerce's default woocommerce_rest_batch_items_limit
STOCK_STATUSES = ("instock", "outofstock", "onbackorder")


def _stock_status(manage: bool, stock: int) -> str:
    return "instock" if not manage or stock > 0 else "outofstock"


def product_json(p: Product, api: str) -> dict[str, Any]:
    price = money(p.price)
    return {
        "id": p.id,
        "name": p.name,
        "slug": ascii_slug(p.name),
        "type": p.type,
        "status": "publish",
        "sku": p.sku,
        "price": price,
        "regular_price": "" if p.type == "variable" else price,
        "sale_price": "",
        "tax_status": "taxable",
        "tax_class": p.tax_class,
        "manage_stock": p.manage_stock,
        "stock_quantity": p.stock if p.manage_stock else None,
        "stock_status": _stock_status(p.manage_stock, p.stock),
        "backorders": "no",
        "attributes": [
            {
                "id": 0,
                "name": p.attribute_name,
                "slug": p.attribute,
                "variation": True,
                "options": [v.option for v in p.variations],
            }
        ]
        if p.type == "variable"
        else [],
        "variations": [v.id for v in p.variations],
        "meta_data": [],
        "_links": {"self": [{"href": f"{api}/products/{p.id}"}], "collection": [{"href": f"{api}/products"}]},
    }


def variation_json(p: Product, v: Variation, api: str) -> dict[str, Any]:
    return {
        "id": v.id,
        "sku": v.sku,
        "price": money(v.price),
        "regular_price": money(v.price),
        "sale_price": "",
        "tax_status": "taxable",
        "tax_class": "parent",
        "manage_stock": True,
        "stock_quantity": v.stock,
        "stock_status": _stock_status(True, v.stock),
        "backorders": "no",
        "attributes": [{"id": 0, "name": p.attribute_name, "option": v.option}],
        "meta_data": [],
        "_links": {
            "self": [{"href": f"{api}/products/{p.id}/variations/{v.id}"}],
            "up": [{"href": f"{api}/products/{p.id}"}],
        },
    }


def customer_json(c: Customer, api: str) -> dict[str, Any]:
    address = {
        "first_name": c.first_name,
        "last_name": c.last_name,
        "company": c.company,
        "address_1": c.address_1,
        "address_2": "",
        "city": c.city,
        "state": "",
        "postcode": c.postcode,
        "country": "FR",
    }
    return {
        "id": c.id,
        "email": c.email,
        "first_name": c.first_name,
        "last_name": c.last_name,
        "role": "customer",
        "username": c.email.split("@")[0],
        "billing": {**address, "email": c.email, "phone": c.phone},
        "shipping": address,
        "is_paying_customer": True,
        "meta_data": [],
        "_links": {
            "self": [{"href": f"{api}/customers/{c.id}"}],
            "collection": [{"href": f"{api}/customers"}],
        },
    }


def paged(request: web.Request, items: list[dict[str, Any]]) -> web.Response:
    page = int_param(request, "page", 1, 1)
    per_page = int_param(request, "per_page", 10, 1, 100)
    start = (page - 1) * per_page
    headers = paginate(request, len(items), page, per_page)
    return json_response(orjson.dumps(items[start : start + per_page]), headers=headers)


def _apply_stock(target: Product | Variation, body: Any) -> None:
    """Validate then apply a stock write; WPError(400 rest_invalid_param) when malformed."""
    if not isinstance(body, dict):
        raise WPError(400, "rest_invalid_json", "Invalid JSON body passed.")
    stock = None
    if "stock_quantity" in body:
        stock = strict_int(body["stock_quantity"])
        if stock is None:
            raise invalid_param("stock_quantity", "stock_quantity is not of type integer.")
    if "manage_stock" in body and not isinstance(body["manage_stock"], bool):
        raise invalid_param("manage_stock", "manage_stock is not of type boolean.")
    if "stock_status" in body and body["stock_status"] not in STOCK_STATUSES:
        raise invalid_param("stock_status", "stock_status is not one of instock, outofstock and onbackorder.")
    if stock is not None:
        target.stock = stock
    if isinstance(target, Product) and isinstance(body.get("manage_stock"), bool):
        target.manage_stock = body["manage_stock"]


class CatalogApi:
    def __init__(self, products: list[Product], customers: list[Customer]) -> None:
        self.products = {p.id: p for p in products if p.listed}
        self.customers = customers

    @staticmethod
    def api(request: web.Request) -> str:
        return f"{request.scheme}://{request.host}/wp-json/wc/v3"

    def _product(self, request: web.Request, status: int = 404) -> Product:
        p = self.products.get(int(request.match_info["pid"]))
        if p is None:
            raise WPError(status, "woocommerce_rest_product_invalid_id", "Invalid ID.")
        return p

    def _variation(self, p: Product, vid: int, status: int = 404) -> Variation:
        for v in p.variations:
            if v.id == vid:
                return v
        raise WPError(status, "woocommerce_rest_product_variation_invalid_id", "Invalid ID.")

    async def list_products(self, request: web.Request) -> web.Response:
        skus = set(list_param(request, "sku"))
        items = sorted(self.products.values(), key=lambda p: -p.id)  # default orderby=date desc
        api = self.api(request)
        return paged(request, [product_json(p, api) for p in items if not skus or p.sku in skus])

    async def get_product(self, request: web.Request) -> web.Response:
        return json_response(orjson.dumps(product_json(self._product(request), self.api(request))))

    async def put_product(self, request: web.Request) -> web.Response:
        p = self._product(request, 400)
        _apply_stock(p, await json_body(request))
        return json_response(orjson.dumps(product_json(p, self.api(request))))

    async def list_variations(self, request: web.Request) -> web.Response:
        p = self._product(request)
        skus = set(list_param(request, "sku"))
        api = self.api(request)
        return paged(request, [variation_json(p, v, api) for v in p.variations if not skus or v.sku in skus])

    async def put_variation(self, request: web.Request) -> web.Response:
        p = self._product(request, 400)
        v = self._variation(p, int(request.match_info["vid"]), 400)
        _apply_stock(v, await json_body(request))
        return json_response(orjson.dumps(variation_json(p, v, self.api(request))))

    async def batch_products(self, request: web.Request) -> web.Response:
        return await self._batch(request, None)

    async def batch_variations(self, request: web.Request) -> web.Response:
        return await self._batch(request, self._product(request, 400))

    async def _batch(self, request: web.Request, parent: Product | None) -> web.Response:
        body = await json_body(request)
        if not isinstance(body, dict):
            raise WPError(400, "rest_invalid_json", "Invalid JSON body passed.")
        actions = {k: body[k] for k in ("create", "update", "delete") if isinstance(body.get(k), list)}
        if sum(len(v) for v in actions.values()) > BATCH_LIMIT:
            raise WPError(
                413,
                "woocommerce_rest_request_entity_too_large",
                f"Unable to accept more than {BATCH_LIMIT} items for this request.",
            )
        api = self.api(request)
        out: dict[str, list[Any]] = {}
        for action, items in actions.items():
            results: list[Any] = out.setdefault(action, [])
            for item in items:
                item_id = strict_int(item.get("id") if isinstance(item, dict) else item) or 0
                if action != "update":  # the simulated shop only takes stock updates
                    results.append(
                        {
                            "id": item_id,
                            "error": {
                                "code": "woocommerce_rest_cannot_create",
                                "message": "Not supported by the simulated shop.",
                                "data": {"status": 400},
                            },
                        }
                    )
                    continue
                try:
                    if parent is None:
                        p = self.products.get(item_id)
                        if p is None:
                            raise WPError(400, "woocommerce_rest_product_invalid_id", "Invalid ID.")
                        _apply_stock(p, item)
                        results.append(product_json(p, api))
                    else:
                        v = self._variation(parent, item_id, 400)
                        _apply_stock(v, item)
                        results.append(variation_json(parent, v, api))
                except WPError as err:
                    results.append(
                        {
                            "id": item_id,
                            "error": {
                                "code": err.code,
                                "message": err.message,
                                "data": {"status": err.status, **err.data},
                            },
                        }
                    )
        return json_response(orjson.dumps(out))

    async def list_customers(self, request: web.Request) -> web.Response:
        email = request.query.get("email", "").lower()
        api = self.api(request)
        items = [customer_json(c, api) for c in self.customers if not email or c.email == email]
        return paged(request, items)
