"""The simulated shop's other platforms: Shopify and PrestaShop over the same generated orders.

A :class:`Platform` owns its routes, its auth (and, for Shopify, the leaky bucket), and its ground
truth: what the till must store for each order once read through that platform's API.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from fastimport.sim.catalogue import Customer, Product
from fastimport.sim.clock import fmt
from fastimport.sim.options import SimOptions
from fastimport.sim.order_writes import PrestaShopMessages, ShopifyOrderWrites
from fastimport.sim.prestashop_addresses import ADDRESS_BASE, AddressesApi, address_row
from fastimport.sim.prestashop_api import (
    PrestaShopApi,
    PSError,
    check_key,
    customer_row,
    filter_values,
    ps_json,
)
from fastimport.sim.prestashop_orders import GUEST_BASE, STATE_OF, customer_id, reference, render_prestashop
from fastimport.sim.prestashop_orders import truth_lines as ps_lines
from fastimport.sim.shopify_admin import ShopifyAdmin
from fastimport.sim.shopify_api import (
    CALL_LIMIT,
    LeakyBucket,
    ShopifyAuth,
    ShopifyError,
    ShopifyOrdersApi,
    throttled_response,
)
from fastimport.sim.shopify_bulk import BulkOperations
from fastimport.sim.shopify_orders import STATUS_MAP, cents, render_shopify, shop_status
from fastimport.sim.shopify_orders import truth_lines as shopify_lines
from fastimport.sim.store import TRASH, OrderStore

PLATFORMS = ("woocommerce", "shopify", "prestashop")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Platform:
    name = ""

    def __init__(self, store: OrderStore) -> None:
        self.store = store

    def routes(self, app: web.Application) -> None:
        raise NotImplementedError

    def is_listing(self, request: web.Request) -> bool:
        raise NotImplementedError

    async def handle(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        raise NotImplementedError

    def truth_row(self, w: dict[str, Any], idx: int) -> dict[str, Any]:
        raise NotImplementedError

    def truth(self) -> list[dict[str, Any]]:
        out = []
        clock = self.store.ctx.clock
        for idx in range(len(self.store.ids)):
            if self.store.status[idx] < 0 or self.store.status[idx] == TRASH:
                continue
            w = self.store.order(idx)
            row = {
                "id": w["id"],
                "date_created_gmt": w["date_created_gmt"],
                "date_modified_gmt": w["date_modified_gmt"],
                "date_created": fmt(clock.local(self.store.created[idx])),
                **self.truth_row(w, idx),
            }
            row["line_count"] = len(row["lines"])
            out.append(row)
        return out


class ShopifyPlatform(Platform):
    name = "shopify"

    def __init__(
        self, opts: SimOptions, store: OrderStore, products: list[Product], customers: list[Customer]
    ) -> None:
        super().__init__(store)
        clock = store.ctx.clock
        store.shape = lambda w, st: render_shopify(w, st, clock, opts.shopify_taxes_included)
        self.bucket = LeakyBucket(opts.shopify_bucket, opts.shopify_leak)
        self.auth = ShopifyAuth(opts.shopify_token)
        self.orders = ShopifyOrdersApi(store, opts.create_during_pagination, opts.modify_during_pagination)
        self.admin = ShopifyAdmin(store, products, customers)
        self.bulk = BulkOperations(
            store,
            opts.shopify_bulk_seconds,
            opts.shopify_bulk_outcome,
            opts.seed,
            opts.shopify_bulk_drop_after,
            opts.shopify_bulk_cut_at,
        )

    def routes(self, app: web.Application) -> None:
        base = "/admin/api/{version:\\d{4}-\\d{2}|unstable}"
        app.router.add_get(base + "/orders.json", self.orders.listing)
        app.router.add_get(base + "/orders/count.json", self.orders.count)
        app.router.add_get(base + "/orders/{oid:\\d+}.json", self.orders.get)
        self.admin.routes(app, base)
        self.bulk.routes(app, base)
        ShopifyOrderWrites(self.store).routes(app, base)

    def is_listing(self, request: web.Request) -> bool:
        return request.path.endswith("/orders.json") and request.path.startswith("/admin/api/")

    async def handle(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        denied = self.auth.check(request)
        if denied is not None:
            return denied
        ok, used = self.bucket.take()
        if not ok:
            return throttled_response(self.bucket, used)
        try:
            response = await handler(request)
        except ShopifyError as err:
            response = err.response()
        except web.HTTPException as exc:
            response = ShopifyError(exc.status, "Not Found" if exc.status == 404 else exc.reason).response()
        response.headers[CALL_LIMIT] = used
        return response

    def truth_row(self, w: dict[str, Any], idx: int) -> dict[str, Any]:
        status = w["status"]
        financial, fulfillment, _closed, cancelled = STATUS_MAP[status]
        refunded = sum(-cents(r["total"]) for r in w["refunds"])
        total = cents(w["total"]) - refunded
        return {
            "number": f"#{w['id']}",
            "status": shop_status(financial, fulfillment, cancelled),
            "total": f"{total // 100}.{total % 100:02d}",
            "lines": shopify_lines(w, status),
        }


class PrestaShopPlatform(Platform):
    name = "prestashop"

    def __init__(
        self, opts: SimOptions, store: OrderStore, products: list[Product], customers: list[Customer]
    ) -> None:
        super().__init__(store)
        clock = store.ctx.clock
        store.shape = lambda w, st: render_prestashop(w, st, clock)
        self.key = opts.prestashop_key
        self.registered = {c.id: c for c in customers}
        self.messages = PrestaShopMessages(store)
        self.api = PrestaShopApi(
            store, products, self.customer, opts.create_during_pagination, opts.modify_during_pagination
        )
        self.addresses = AddressesApi(self.address, filter_values, ps_json)

    def customer(self, cid: int) -> dict[str, Any] | None:
        created = "2024-01-15 10:00:00"
        c = self.registered.get(cid)
        if c is not None:
            return customer_row(cid, c.first_name, c.last_name, c.email, False, created)
        if cid > GUEST_BASE:
            idx = self.store.find(cid - GUEST_BASE)
            if idx >= 0:
                b = self.store.order(idx)["billing"]
                return customer_row(cid, b["first_name"], b["last_name"], b["email"], True, created)
        return None

    def address(self, aid: int) -> dict[str, Any] | None:
        """An order's invoice address: its billing address (id ADDRESS_BASE + order id)."""
        idx = self.store.find(aid - ADDRESS_BASE) if aid > ADDRESS_BASE else -1
        if idx < 0:
            return None
        w = self.store.order(idx)
        return address_row(aid, customer_id(w), w["billing"])

    def routes(self, app: web.Application) -> None:
        a = self.api
        app.router.add_get("/api/orders", a.orders)
        app.router.add_get("/api/customers", a.customers)
        app.router.add_get("/api/addresses", self.addresses.addresses)
        app.router.add_get("/api/countries", self.addresses.countries)
        app.router.add_get("/api/currencies", a.currencies)
        app.router.add_get("/api/order_states", a.order_states)
        app.router.add_get("/api/configurations", a.configurations)
        app.router.add_get("/api/products", a.products)
        app.router.add_get("/api/combinations", a.combinations)
        app.router.add_get("/api/stock_availables", a.stock_availables)
        app.router.add_put("/api/stock_availables/{rid:\\d+}", a.put_stock)
        app.router.add_post("/api/order_histories", a.post_history)
        app.router.add_get("/api/order_carriers", a.order_carriers)
        app.router.add_put("/api/order_carriers/{rid:\\d+}", a.put_carrier)
        self.messages.routes(app)

    def is_listing(self, request: web.Request) -> bool:
        return request.path == "/api/orders"

    async def handle(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        denied = check_key(request, self.key)
        if denied is not None:
            return denied
        try:
            return await handler(request)
        except PSError as err:
            return err.response()

    def truth_row(self, w: dict[str, Any], idx: int) -> dict[str, Any]:
        ps = self.store.shaped(idx)
        return {
            "number": reference(w["id"]),
            "status": platform_status("prestashop", w["status"]),
            "total": w["total"],
            "lines": ps_lines(ps),
        }


def build_platform(
    opts: SimOptions, store: OrderStore, products: list[Product], customers: list[Customer]
) -> Platform:
    if opts.platform == "shopify":
        return ShopifyPlatform(opts, store, products, customers)
    return PrestaShopPlatform(opts, store, products, customers)


def platform_status(platform: str, status: str) -> str:
    """The status the till stores for an order the simulator holds in WooCommerce ``status``."""
    if platform == "shopify":
        financial, fulfillment, _closed, cancelled = STATUS_MAP[status]
        return shop_status(financial, fulfillment, cancelled)
    if platform == "prestashop":
        return status if status in ("cancelled", "refunded", "failed") else str(STATE_OF[status])
    return status
