"""SimShop: an aiohttp server on loopback speaking WooCommerce REST v3, Shopify Admin REST or the
PrestaShop Webservice (``SimOptions.platform``) over the same generated orders, plus its test controls."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import orjson
from aiohttp import web

from fastimport.sim.auth import Authenticator
from fastimport.sim.catalog_api import CatalogApi
from fastimport.sim.catalogue import build_customers, build_products
from fastimport.sim.clock import SiteClock
from fastimport.sim.faults import Fault, FaultPlan
from fastimport.sim.options import SimOptions
from fastimport.sim.orders import OrderContext
from fastimport.sim.orders_api import OrdersApi, invalid_id, parse_utc
from fastimport.sim.platforms import PLATFORMS, Platform, build_platform
from fastimport.sim.refunds import RefundBook
from fastimport.sim.store import ALL_STATUSES, OrderStore
from fastimport.sim.webhooks import WebhookSender
from fastimport.sim.wphttp import WPError, json_body, json_response

API = "/wp-json/wc/v3"
ORDERS = API + "/orders"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_HTML_503 = (
    b"<html>\r\n<head><title>503 Service Temporarily Unavailable</title></head>\r\n<body>\r\n"
    b"<center><h1>503 Service Temporarily Unavailable</h1></center>\r\n<hr><center>nginx</center>\r\n"
    b"</body>\r\n</html>\r\n"
)
_CAPTCHA = (
    b'<html><head><meta http-equiv="refresh" content="0;/.well-known/sgcaptcha/?r=%2Fwp-json%2Fwc%2Fv3'
    b'%2Forders"></meta></head><body><p>Please wait while your request is being verified...</p>'
    b"</body></html>"
)
_FATAL = {
    "code": "internal_server_error",
    "message": "<p>Il y a eu une erreur critique sur ce site.</p>",
    "data": {"status": 500},
    "additional_errors": [],
}


def _html(status: int, body: bytes, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(body=body, status=status, headers=headers, content_type="text/html", charset="UTF-8")


class SimShop:
    """A WooCommerce shop on 127.0.0.1 with generated French orders (see SimOptions)."""

    def __init__(self, options: SimOptions | None = None) -> None:
        self.options = opts = options or SimOptions()
        start, end = opts.window()
        products = build_products(opts.seed)
        self.customers = build_customers(opts.seed, min(5000, max(20, opts.orders // 4)))
        ctx = OrderContext(
            seed=opts.seed,
            clock=SiteClock(opts.timezone),
            base_url="http://127.0.0.1" + API,
            listed=[p for p in products if p.listed],
            unlisted=[p for p in products if not p.listed],
            customers=self.customers,
            unknown_sku_rate=opts.unknown_sku_rate,
            guest_rate=opts.guest_rate,
        )
        if opts.platform not in PLATFORMS:
            raise ValueError(f"unknown platform {opts.platform!r}: expected one of {', '.join(PLATFORMS)}")
        self.store = OrderStore(ctx, opts.php_escapes and opts.platform != "shopify")
        self.store.generate(opts.orders, int(start.timestamp()), int(end.timestamp()), opts.seed)
        self.platform: Platform | None = (
            None
            if opts.platform == "woocommerce"
            else build_platform(opts, self.store, products, self.customers)
        )
        self.refunds = RefundBook(self.store)
        self.orders_api = OrdersApi(self.store, opts.create_during_pagination, opts.modify_during_pagination)
        self.catalog = CatalogApi(products, self.customers)
        self.faults = FaultPlan(opts.faults, opts.seed)
        self.auth = Authenticator(opts.consumer_key, opts.consumer_secret)
        self.requests_log: list[tuple[str, str, int]] = []
        self.received: list[tuple[str, str, Any]] = []
        self.url = ""
        self.webhooks: WebhookSender | None = None
        if opts.webhook_url:
            self.webhooks = WebhookSender(
                opts.platform,
                opts.webhook_url,
                opts.webhook_secret,
                "",
                opts.webhook_retries,
                opts.webhook_backoff,
            )
        self._inflight = 0
        self._runner: web.AppRunner | None = None
        self._stopping = asyncio.Event()

    # -- lifecycle --------------------------------------------------------------------------

    async def start(self, port: int = 0, host: str = "127.0.0.1") -> str:
        """Listen (port 0 = any free port) and return the shop root, e.g. "http://127.0.0.1:8080"."""
        self._stopping = asyncio.Event()
        self._runner = web.AppRunner(self._app(), access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        bound = self._runner.addresses[0][1]
        self.url = f"http://{host}:{bound}"
        if self.platform is None:
            self.store.set_base_url(self.url + API)
        if self.options.prerender:
            self.store.prerender()
        if self.webhooks is not None:
            await self.webhooks.start(self.url)
        return self.url

    async def stop(self) -> None:
        self._stopping.set()  # releases stalled requests
        if self.webhooks is not None:
            await self.webhooks.stop()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def _app(self) -> web.Application:
        app = web.Application(middlewares=[self._middleware])
        self._control_routes(app)
        if self.platform is not None:
            self.platform.routes(app)
            if self.platform.name == "prestashop":
                app.router.add_get("/api/order_slip", self.refunds.slip_handler)
            return app
        o, c = self.orders_api, self.catalog
        app.router.add_get("/wp-json/", self._index)
        app.router.add_get(ORDERS, o.listing)
        app.router.add_get(ORDERS + "/{oid:\\d+}", o.get)
        for method in ("PUT", "POST", "PATCH"):
            app.router.add_route(method, ORDERS + "/{oid:\\d+}", o.update)
            app.router.add_route(method, API + "/products/{pid:\\d+}", c.put_product)
            app.router.add_route(method, API + "/products/{pid:\\d+}/variations/{vid:\\d+}", c.put_variation)
        app.router.add_delete(ORDERS + "/{oid:\\d+}", o.delete)
        app.router.add_get(ORDERS + "/{oid:\\d+}/notes", o.list_notes)
        app.router.add_get(ORDERS + "/{oid:\\d+}/refunds", self.refunds.woo_handler)
        app.router.add_get(API + "/refunds", self._refunds_listing)
        app.router.add_post(ORDERS + "/{oid:\\d+}/notes", o.add_note)
        app.router.add_get(API + "/products", c.list_products)
        app.router.add_post(API + "/products/batch", c.batch_products)
        app.router.add_get(API + "/products/{pid:\\d+}", c.get_product)
        app.router.add_get(API + "/products/{pid:\\d+}/variations", c.list_variations)
        app.router.add_post(API + "/products/{pid:\\d+}/variations/batch", c.batch_variations)
        app.router.add_get(API + "/customers", c.list_customers)
        return app

    def _control_routes(self, app: web.Application) -> None:
        app.router.add_get("/_sim/truth", self._truth)
        app.router.add_get("/_sim/received", self._received)
        app.router.add_post("/_sim/faults", self._faults)
        app.router.add_post("/_sim/orders", self._create)
        app.router.add_post("/_sim/orders/{oid:\\d+}", self._modify)
        app.router.add_delete("/_sim/orders/{oid:\\d+}", self._delete)
        app.router.add_post("/_sim/orders/{oid:\\d+}/refunds", self._refund)
        app.router.add_get("/_sim/webhooks", self._webhook_log)

    # -- request pipeline: concurrency -> latency -> faults -> auth -> handler -----------------

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith("/_sim/"):
            return await handler(request)
        limit = self.options.max_concurrency
        if limit and self._inflight >= limit:
            return self._log(request, _html(503, _HTML_503))
        self._inflight += 1
        try:
            if self.options.latency:
                await asyncio.sleep(self.options.latency)
            if request.method in ("POST", "PUT", "PATCH", "DELETE"):
                raw = await request.read()
                try:
                    parsed: Any = orjson.loads(raw) if raw else None
                except orjson.JSONDecodeError:
                    parsed = raw.decode("utf-8", "replace")  # kept as text: malformed writes are evidence too
                self.received.append((request.method, request.path, parsed))
            listing = request.path == ORDERS if self.platform is None else self.platform.is_listing(request)
            fault = self.faults.next() if request.method == "GET" and listing else None
            if fault is not None and fault.kind != "truncated":
                return self._log(request, await self._fault(fault))
            if self.platform is not None:
                response = await self.platform.handle(request, handler)
            else:
                try:
                    denied = self.auth.check(request)
                    if denied is not None:
                        raise WPError(denied[0], str(denied[1]["code"]), str(denied[1]["message"]))
                    response = await handler(request)
                except WPError as err:
                    response = err.response()
            if fault is not None and isinstance(response, web.Response) and response.body:
                body = bytes(response.body)  # type: ignore[arg-type]
                response.body = body[: max(1, len(body) // 2)]
            return self._log(request, response)
        finally:
            self._inflight -= 1

    def _log(self, request: web.Request, response: web.StreamResponse) -> web.StreamResponse:
        self.requests_log.append((request.method, request.path_qs, response.status))
        return response

    async def _fault(self, fault: Fault) -> web.Response:
        if fault.kind == "stall":
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), fault.seconds)
            return _html(503, _HTML_503)
        if fault.kind == "429":
            seconds = f"{fault.seconds:g}"
            return _html(
                429, b"<html><body><h1>429 Too Many Requests</h1></body></html>", {"Retry-After": seconds}
            )
        if fault.kind == "503html":
            return _html(503, _HTML_503)
        if fault.kind == "captcha":
            return _html(202, _CAPTCHA)
        if fault.status == 500:
            return json_response(orjson.dumps(_FATAL), 500)
        text = f"<html><body><h1>{fault.status} Error</h1><hr>nginx</body></html>".encode()
        return _html(fault.status, text)

    async def _index(self, request: web.Request) -> web.Response:
        return json_response(
            orjson.dumps({"name": "Boutique simulée", "url": self.url, "namespaces": ["wp/v2", "wc/v3"]})
        )

    # -- direct access for tests ------------------------------------------------------------

    def truth(self) -> list[dict[str, Any]]:
        """Every live order (trash included) as the shop holds it, in id order.

        ``status``, ``number``, ``total`` and ``lines`` are what the till must store for the shop's
        platform (e.g. a Shopify order's status is its financial status, its total what is still owed).
        """
        if self.platform is not None:
            return self.platform.truth()
        out = []
        for idx in range(len(self.store.ids)):
            if self.store.status[idx] < 0:
                continue
            o = self.store.order(idx)
            out.append(
                {
                    "id": o["id"],
                    "number": o["number"],
                    "status": o["status"],
                    "date_created_gmt": o["date_created_gmt"],
                    "date_modified_gmt": o["date_modified_gmt"],
                    "date_created": o["date_created"],
                    "total": o["total"],
                    "line_count": len(o["line_items"]),
                    "lines": [
                        {
                            "sku": li["sku"],
                            "quantity": li["quantity"],
                            "total": li["total"],
                            "total_tax": li["total_tax"],
                        }
                        for li in o["line_items"]
                    ],
                }
            )
        return out

    def create_order(self, created_at_utc: datetime | None = None, **overrides: Any) -> int:
        status = str(overrides.pop("status", "processing"))
        if status not in ALL_STATUSES:
            raise ValueError(f"unknown order status {status!r}")
        created = int(created_at_utc.timestamp()) if created_at_utc else int(datetime.now().timestamp())
        oid = self.store.add(created, status, overrides)
        self._notify("created", oid)
        return oid

    def modify_order(self, order_id: int, status: str = "completed") -> None:
        if status not in ALL_STATUSES:
            raise ValueError(f"unknown order status {status!r}")
        self.store.set_status(self._find(order_id), status)
        self._notify("updated", order_id)

    def delete_order(self, order_id: int, force: bool = False) -> None:
        """Trash the order (gone from status=any listings), or delete it for good with ``force``."""
        idx = self._find(order_id)
        if force:
            self.store.remove(idx)
        else:
            self.store.set_status(idx, "trash")
        self._notify("deleted", order_id)

    def _notify(self, event: str, order_id: int) -> None:
        """Push the change as the platform's webhook, when the shop has one (``webhook_url``)."""
        if self.webhooks is not None:
            idx = self.store.find(order_id)
            self.webhooks.notify(event, order_id, self.store.blob(idx) if event != "deleted" else None)

    def set_faults(self, spec: str) -> None:
        self.faults.load(spec)

    def _find(self, order_id: int) -> int:
        idx = self.store.find(order_id)
        if idx < 0:
            raise KeyError(order_id)
        return idx

    # -- /_sim control endpoints ------------------------------------------------------------

    async def _truth(self, request: web.Request) -> web.Response:
        return json_response(orjson.dumps(self.truth()))

    async def _received(self, request: web.Request) -> web.Response:
        return json_response(orjson.dumps([list(item) for item in self.received]))

    async def _webhook_log(self, request: web.Request) -> web.Response:
        attempts = self.webhooks.log if self.webhooks is not None else []
        return json_response(orjson.dumps([a.to_json() for a in attempts]))

    async def _faults(self, request: web.Request) -> web.Response:
        body = await json_body(request)
        try:
            self.set_faults(str(body.get("spec", "")))
        except ValueError as err:
            return json_response(orjson.dumps({"error": str(err)}), 400)
        return json_response(b'{"ok":true}')

    async def _create(self, request: web.Request) -> web.Response:
        body = dict(await json_body(request))
        created = parse_utc(body.pop("date_created_gmt", None))
        status = str(body.pop("status", "processing"))
        if status not in ALL_STATUSES:
            return json_response(orjson.dumps({"error": f"unknown status {status}"}), 400)
        oid = self.store.add(
            created if created is not None else int(datetime.now().timestamp()), status, body
        )
        self._notify("created", oid)
        return json_response(orjson.dumps({"id": oid}), 201)

    async def _modify(self, request: web.Request) -> web.Response:
        body = await json_body(request)
        try:
            self.modify_order(int(request.match_info["oid"]), str(body.get("status", "completed")))
        except KeyError:
            return invalid_id().response()
        except ValueError as err:
            return json_response(orjson.dumps({"error": str(err)}), 400)
        return json_response(b'{"ok":true}')

    async def _refunds_listing(self, request: web.Request) -> web.Response:
        if not self.options.woo_refunds_listing:  # WooCommerce before 9.0: no such route
            raise WPError(404, "rest_no_route", "No route was found matching the URL and request method.")
        return await self.refunds.woo_listing_handler(request, not self.options.woo_refunds_ignore_include)

    async def _refund(self, request: web.Request) -> web.Response:
        response = await self.refunds.admin_handler(request)
        if response.status == 201:
            self._notify("updated", int(request.match_info["oid"]))
        return response

    async def _delete(self, request: web.Request) -> web.Response:
        try:
            self.delete_order(int(request.match_info["oid"]), request.query.get("force") in ("true", "1"))
        except KeyError:
            return invalid_id().response()
        return json_response(b'{"ok":true}')


class SimShopThread:
    """Runs a SimShop in a background thread with its own loop, for synchronous code.

    ``with SimShopThread(opts) as url: ...``; the shop itself is ``.shop``.
    """

    def __init__(self, options: SimOptions | None = None, port: int = 0) -> None:
        self.options = options or SimOptions()
        self.port = port
        self.shop: SimShop | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> str:
        ready: threading.Event = threading.Event()
        result: dict[str, Any] = {}

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            try:
                self.shop = SimShop(self.options)
                result["url"] = loop.run_until_complete(self.shop.start(self.port))
            except BaseException as exc:  # handed to the caller's thread
                result["error"] = exc
                ready.set()
                return
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self.shop.stop())
            loop.close()

        self._thread = threading.Thread(target=run, name="fastimport-sim", daemon=True)
        self._thread.start()
        ready.wait()
        if "error" in result:
            raise result["error"]
        return str(result["url"])

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join()
            self._loop = self._thread = None

    def __enter__(self) -> str:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
