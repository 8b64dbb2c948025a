"""WooCommerce REST API v3: auth, listing parameters, pagination and drift, catalogue.

Pagination: ``orderby=id&order=asc`` makes new orders land on the last pages,
so orders created while we page never shift the pages we already read.  A
deletion (or a status leaving the listing) does shift them; every answer
carries ``X-WP-Total``, and when it moves during a pass we read the range
again: the dedup set turns the second reading into "already seen".
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import datetime as dt
from collections.abc import AsyncIterator, Iterable
from typing import Any

import orjson
import pyarrow as pa

from fastimport.errors import AuthError, FetchError, TransientFetchError
from fastimport.io.connector import CatalogItem, Customer, Page
from fastimport.io.fetcher import Fetcher, Request, Response
from fastimport.io.refund_lines import FetchedRefunds, with_batched
from fastimport.io.woocommerce import oauth1
from fastimport.io.woocommerce.config import WooCommerceStore
from fastimport.io.woocommerce.refunds import MAX_IDS, Wanted, batches, per_order_form, read_listing, scan
from fastimport.io.woocommerce.spec import WOOCOMMERCE_PAGE, line_refunds
from fastimport.ranges import ImportRange

API_PATH = "/wp-json/wc/v3"
# Pages held while their orders' refunds are gathered into /refunds requests: 8 per request slot, so a request
# spans 4 rounds of the slots (32 pages at 8 slots, fewer once 100 refunds are named) and takes few of them
# from the listing, and the listing runs no further ahead of the import than that; at most this many.
REFUND_LOOKAHEAD_PAGES = 64
MAX_PASSES = 3


def _gmt(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")


class WooCommerceConnector:
    platform = "woocommerce"
    page_spec = WOOCOMMERCE_PAGE

    def __init__(self, store: WooCommerceStore) -> None:
        self.store = store
        self.key, self.secret = store.credentials()
        self.api = store.url + API_PATH
        self.refunds = FetchedRefunds()  # fetched by fetch_refunds, or recalled from the store
        # WooCommerce 9.0+ serves refunds by id across orders (GET /refunds?include=...); False once the shop
        # showed it cannot (older: 404 rest_no_route) or ignores ``include``, for the rest of the run.
        self.refunds_listing = True
        # Whether a page carries its scan (Page.scan) for a re-import to settle on (see io.connector.Scanning).
        self.keep_scans = True

    # -- requests ---------------------------------------------------------------------------------

    def request(self, path: str, params: Iterable[tuple[str, str]] = (), tag: Any = None) -> Request:
        url = self.api + path
        query = list(params)
        headers: list[tuple[str, str]] = [("Accept", "application/json")]
        if self.store.auth == "basic":
            token = base64.b64encode(f"{self.key}:{self.secret}".encode()).decode()
            headers.append(("Authorization", f"Basic {token}"))
        elif self.store.auth == "query":
            query += [("consumer_key", self.key), ("consumer_secret", self.secret)]
        else:
            query = oauth1.sign("GET", url, query, self.key, self.secret)
        return Request("GET", url, tuple(query), tuple(headers), tag=tag)

    def write_request(self, method: str, path: str, json_body: Any, tag: Any = None) -> Request:
        """An authenticated write (PUT/POST) with a JSON body, signed like :meth:`request`."""
        url = self.api + path
        query: list[tuple[str, str]] = []
        headers = [("Accept", "application/json"), ("Content-Type", "application/json")]
        if self.store.auth == "basic":
            token = base64.b64encode(f"{self.key}:{self.secret}".encode()).decode()
            headers.append(("Authorization", f"Basic {token}"))
        elif self.store.auth == "query":
            query += [("consumer_key", self.key), ("consumer_secret", self.secret)]
        else:
            query = oauth1.sign(method, url, query, self.key, self.secret)
        return Request(method, url, tuple(query), tuple(headers), orjson.dumps(json_body), tag=tag)

    def listing(self, rng: ImportRange, page: int, pass_no: int) -> Request:
        # WooCommerce's date bounds are exclusive; widen by a second and let the
        # importer keep exactly [start, end) on the dates it reads back.
        lo, hi = _gmt(rng.start - dt.timedelta(seconds=1)), _gmt(rng.end + dt.timedelta(seconds=1))
        bounds = (
            [("after", lo), ("before", hi)]
            if rng.field == "created"
            else [("modified_after", lo), ("modified_before", hi)]
        )
        params = [
            *bounds,
            ("dates_are_gmt", "true"),
            ("status", "any"),
            ("orderby", "id"),
            ("order", "asc"),
            ("per_page", str(self.store.per_page)),
            ("page", str(page)),
        ]
        return self.request("/orders", params, tag=(page, pass_no))

    # -- answers ----------------------------------------------------------------------------------

    def check(self, response: Response) -> None:
        """Accept a JSON answer; classify everything else as retryable or fatal, in plain words."""
        status = response.status
        where = f"store '{self.store.name}'"
        if status in (401, 403):
            raise AuthError(
                f"{where}: the shop refused the API key ({_wc_message(response)}); "
                f"check the consumer key and secret in {self.store.key_env} / {self.store.secret_env}",
                store=self.store.name,
                status=status,
            )
        if status == 404:
            raise FetchError(
                f"{where}: no WooCommerce REST API at {self.api} (HTTP 404): check the url, and that "
                "pretty permalinks are enabled on the shop",
                store=self.store.name,
                status=status,
            )
        if status >= 400:
            raise FetchError(
                f"{where}: the shop refused the request (HTTP {status}: {_wc_message(response)})",
                store=self.store.name,
                status=status,
            )
        ctype = response.headers.get("Content-Type", "")
        if status != 200 or "json" not in ctype:
            # SiteGround and other hosts answer bursts with a 202 HTML captcha page.
            raise TransientFetchError(
                f"{where}: the shop answered HTTP {status} with {ctype or 'no content type'} instead of JSON "
                "(a hosting firewall or captcha page?)",
                store=self.store.name,
            )
        body = response.body.strip()
        if not (body.startswith(b"[") and body.endswith(b"]")) and not (
            body.startswith(b"{") and body.endswith(b"}")
        ):
            raise TransientFetchError(f"{where}: the shop sent a truncated page", store=self.store.name)

    # -- pagination -------------------------------------------------------------------------------

    def pages(self, fetcher: Fetcher, rng: ImportRange) -> AsyncIterator[Page]:
        return with_batched(
            self._listing_pages(fetcher, rng),
            self.refunds_wanted,
            lambda wanted: self.fetch_refunds(fetcher, wanted),
            ahead=min(REFUND_LOOKAHEAD_PAGES, 8 * self.store.concurrency),
            batch=MAX_IDS,
            weight=lambda w: len(w.refund_ids),
        )

    async def _listing_pages(self, fetcher: Fetcher, rng: ImportRange) -> AsyncIterator[Page]:
        for pass_no in range(1, MAX_PASSES + 1):
            first = await fetcher.fetch(self.listing(rng, 1, pass_no), self.check)
            total = _int_header(first, "X-WP-Total")
            total_pages = _int_header(first, "X-WP-TotalPages")
            yield Page(first.body, 1, pass_no)
            drifted = False
            rest = (self.listing(rng, p, pass_no) for p in range(2, total_pages + 1))
            async for response in fetcher.fetch_many(rest, self.check):
                if _int_header(response, "X-WP-Total") != total:
                    drifted = True
                yield Page(response.body, response.request.tag[0], pass_no)
            if not drifted:
                return

    async def refunds_wanted(self, page: Page) -> tuple[Page, list[Wanted]]:
        """The orders of the page whose refund objects are to be read (:func:`refunds.scan`), less those
        listed exactly as when their refunds were fetched last, laid their remembered ones instead
        (:class:`FetchedRefunds`): a page without refunds costs no request.  The page comes back with the
        order columns scanned (``Page.scan``, unless ``keep_scans`` is off): a re-import settles it on them
        instead of scanning it again."""
        # In a worker thread: the event loop keeps reading the next pages meanwhile.
        scanned = await asyncio.to_thread(scan, page.body)
        wanted = [
            w for w, listed in scanned.wanted if listed is None or not self.refunds.reuse(w.order_id, listed)
        ]
        if scanned.orders is None or not self.keep_scans:
            return page, wanted
        return dataclasses.replace(page, scan=scanned.orders), wanted

    async def fetch_refunds(self, fetcher: Fetcher, wanted: list[Wanted]) -> None:
        """The refund objects of these orders: by refund id, up to 100 a request, while the shop has the
        /refunds listing (WooCommerce 9.0+) and honours ``include``; else, and for an order the listing did
        not answer whole, one ``/orders/<id>/refunds`` request per order.  :meth:`adjust` lays them on."""
        wanted = list({w.order_id: w for w in wanted}.values())  # a page read twice (drift) names it twice
        groups, one_by_one = batches(wanted) if self.refunds_listing else ([], wanted)
        alone = [w.order_id for w in one_by_one]
        requests = (self._refunds_listing(group) for group in groups)
        async for response in fetcher.fetch_many(requests, self._check_listing):
            group = response.request.tag
            if response.status == 404:  # before WooCommerce 9.0: no /refunds route
                self.refunds_listing = False
                alone += [w.order_id for w in group]
                continue
            answer = read_listing(response.body, group, _int_header(response, "X-WP-TotalPages"))
            if answer.ignores_include:  # it would page through every refund of the shop: not again this run
                self.refunds_listing = False
            for oid, refunds in answer.laid.items():
                self.refunds.fetched(oid, refunds)
            alone += answer.one_by_one
        requests = (self.request(f"/orders/{oid}/refunds", [("per_page", "100")], tag=oid) for oid in alone)
        async for response in fetcher.fetch_many(requests, self.check):
            self.refunds.fetched(int(response.request.tag), per_order_form(response.body.strip()))

    def _refunds_listing(self, group: list[Wanted]) -> Request:
        # newest first, as /orders/<id>/refunds gives them (both default to it: said here so it stays so)
        ids = ",".join(str(rid) for w in group for rid in w.refund_ids)
        params = [("include", ids), ("orderby", "date"), ("order", "desc"), ("per_page", str(MAX_IDS))]
        return self.request("/refunds", params, tag=group)

    def _check_listing(self, response: Response) -> None:
        """:meth:`check`, but a shop without the /refunds route (404 ``rest_no_route``) is an answer."""
        if response.status == 404 and _wc_code(response) == "rest_no_route":
            return
        self.check(response)

    def adjust(self, orders: pa.Table, lines: pa.Table) -> tuple[pa.Table, pa.Table]:
        return self.refunds.lay(orders, lines, line_refunds)

    def rehash(self, orders: pa.Table) -> pa.Array | pa.ChunkedArray:
        return self.refunds.rehash(orders)

    def recall(self, known: pa.Table) -> None:
        self.refunds.recall(known)

    def remembered(self, orders: pa.Table) -> pa.Table | None:
        return self.refunds.remembered(orders)

    async def _all(self, fetcher: Fetcher, path: str, params: list[tuple[str, str]]) -> list[Any]:
        base = [*params, ("per_page", "100")]
        first = await fetcher.fetch(self.request(path, [*base, ("page", "1")]), self.check)
        items: list[Any] = list(orjson.loads(first.body))
        pages = _int_header(first, "X-WP-TotalPages")
        rest = (self.request(path, [*base, ("page", str(p))]) for p in range(2, pages + 1))
        async for response in fetcher.fetch_many(rest, self.check):
            items.extend(orjson.loads(response.body))
        return items

    async def catalog(self, fetcher: Fetcher) -> list[CatalogItem]:
        products = await self._all(fetcher, "/products", [])
        items: list[CatalogItem] = []
        for p in products:
            items.append(_item(p, int(p["id"]), 0))
            if p.get("type") == "variable":
                for v in await self._all(fetcher, f"/products/{p['id']}/variations", []):
                    items.append(_item(v, int(p["id"]), int(v["id"])))
        return items

    async def customers(self, fetcher: Fetcher) -> list[Customer]:
        rows = await self._all(fetcher, "/customers", [("role", "all")])
        return [
            Customer(int(c["id"]), c.get("email") or None, c.get("first_name"), c.get("last_name"))
            for c in rows
        ]


def _item(p: dict[str, Any], product_id: int, variation_id: int) -> CatalogItem:
    stock = p.get("stock_quantity")
    return CatalogItem(
        product_id=product_id,
        variation_id=variation_id,
        sku=p.get("sku") or None,
        name=p.get("name"),
        price=p.get("price") or None,
        tax_class=p.get("tax_class"),
        manage_stock=bool(p.get("manage_stock")) if p.get("manage_stock") is not None else None,
        stock_quantity=int(stock) if stock is not None else None,
    )


def _int_header(response: Response, name: str) -> int:
    value = response.headers.get(name)
    if value is None:
        # Without the header we cannot know how far to page: say so rather than stop at page 1.
        raise FetchError(
            f"the shop's answer lacks the {name} header, so fastimport cannot know how many pages to read",
            url=response.request.url,
        )
    try:
        return int(value)
    except ValueError as exc:
        raise FetchError(f"the shop sent an unreadable {name} header: {value!r}") from exc


def _wc_code(response: Response) -> str:
    try:
        body = orjson.loads(response.body)
    except orjson.JSONDecodeError:
        return ""
    return str(body.get("code") or "") if isinstance(body, dict) else ""


def _wc_message(response: Response) -> str:
    try:
        body = orjson.loads(response.body)
        if isinstance(body, dict) and body.get("message"):
            return str(body["message"])
    except orjson.JSONDecodeError:
        pass
    return "no details"
