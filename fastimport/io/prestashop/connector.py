"""PrestaShop Webservice: key auth, date-filtered listing by offset, drift checks, XML push-backs.

Listing: ``/api/orders?output_format=JSON&display=full&date=1&filter[date_upd]=[a,b]&sort=[id_ASC]
&limit=offset,count``.  There is no total count, so pages are read ``concurrency`` at a time until a
short page.  Offsets shift when an order already read is deleted; consecutive pages therefore
overlap by a few rows, and a page that does not reach back to the previous page's last id means
rows slid past unseen: the range is read again (the dedup turns the repeats into "already seen").
Dates in filters and answers are the shop's wall clock (the store's ``timezone``).
Writes are XML (the webservice reads no JSON): full resources on ``PUT``, new ones on ``POST``.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
from collections.abc import AsyncIterator, Iterable
from typing import Any
from xml.sax.saxutils import escape

import orjson
import pyarrow as pa

from fastimport import core
from fastimport.columns import HASH_COLUMN
from fastimport.errors import AuthError, FetchError, ParseError, TransientFetchError
from fastimport.io.connector import CatalogItem, Customer, Page
from fastimport.io.fetcher import Fetcher, Request, Response
from fastimport.io.prestashop.config import PrestaShopStore
from fastimport.io.prestashop.spec import INVOICE_ADDRESS, PRESTASHOP_PAGE, adjust_prestashop, line_refunds
from fastimport.io.refund_lines import FetchedRefunds, with_fetched
from fastimport.ranges import ImportRange

MAX_PASSES = 3
# Wall-clock bounds are widened by this much: the autumn's repeated hour maps two instants to one
# local time; the importer keeps exactly the range on the UTC dates it reads back.
LOCAL_SLACK = dt.timedelta(hours=1, seconds=1)
CustomerInfo = tuple[str | None, str | None, str | None, bool]
STATE_WORDS = {"PS_OS_CANCELED": "cancelled", "PS_OS_REFUND": "refunded", "PS_OS_ERROR": "failed"}
ADDRESS_FIELDS = "[id,company,vat_number,dni,firstname,lastname,address1,address2,postcode,city,id_country]"
# What fetch_slips needs of a page: its order ids and each order's listing hash (the core's, as the import's).
_SLIP_SCAN = dataclasses.replace(
    PRESTASHOP_PAGE,
    order_fields=tuple(f for f in PRESTASHOP_PAGE.order_fields if f.name == "order_id"),
    line_fields=(),
)


class PrestaShopConnector:
    platform = "prestashop"
    page_spec = PRESTASHOP_PAGE

    def __init__(self, store: PrestaShopStore) -> None:
        self.store = store
        self.key = store.secret("key_env")
        self.api = store.url + "/api"
        self.overlap = max(1, store.per_page // 10)
        self.currencies: dict[int, str] = {}
        self.state_words: dict[str, str] = {}
        self.known: dict[int, CustomerInfo] = {}
        # order id -> the ids of its order slips (read once per run)
        self.slipped: dict[int, set[int]] | None = None
        self.refunds = FetchedRefunds()  # order slips fetched by fetch_slips, or recalled from the store
        self.countries: dict[int, str] = {}  # id_country -> ISO 3166 code

    # -- requests ---------------------------------------------------------------------------

    def request(
        self,
        path: str,
        params: Iterable[tuple[str, str]] = (),
        tag: Any = None,
        *,
        method: str = "GET",
        xml: str | None = None,
    ) -> Request:
        token = base64.b64encode(f"{self.key}:".encode()).decode()
        headers = [("Authorization", f"Basic {token}"), ("Accept", "application/json")]
        query = list(params)
        if method == "GET":
            query.append(("output_format", "JSON"))
        else:
            headers.append(("Content-Type", "text/xml; charset=utf-8"))
        body = xml.encode() if xml is not None else None
        return Request(method, self.api + path, tuple(query), tuple(headers), body, tag=tag)

    def check(self, response: Response) -> None:
        status = response.status
        where = f"store '{self.store.name}'"
        if status == 401:
            raise AuthError(
                f"{where}: PrestaShop refused the webservice key ({_ps_message(response)}); check the key in "
                f"{self.store.key_env}",
                store=self.store.name,
                status=status,
            )
        if status == 403:
            raise AuthError(
                f"{where}: the webservice key may not read {response.request.url.rsplit('/', 1)[-1]} "
                "(give it GET on orders, order_slip, customers, addresses, countries and currencies)",
                store=self.store.name,
                status=status,
            )
        if status == 404 and response.request.method == "GET":
            raise FetchError(
                f"{where}: no PrestaShop webservice at {self.api} (HTTP 404): enable the webservice and "
                "URL rewriting on the shop",
                store=self.store.name,
                status=status,
            )
        if status >= 400:
            raise FetchError(
                f"{where}: PrestaShop refused the request (HTTP {status}: {_ps_message(response)})",
                store=self.store.name,
                status=status,
            )
        ctype = response.headers.get("Content-Type", "")
        expected = "json" if response.request.method == "GET" else "xml"
        if status not in (200, 201) or expected not in ctype:
            raise TransientFetchError(
                f"{where}: PrestaShop answered HTTP {status} with {ctype or 'no content type'} "
                f"instead of {expected.upper()} (maintenance page?)",
                store=self.store.name,
            )
        body = response.body.strip()
        if expected == "json" and not (
            (body.startswith(b"{") and body.endswith(b"}")) or (body.startswith(b"[") and body.endswith(b"]"))
        ):
            raise TransientFetchError(f"{where}: PrestaShop sent a truncated page", store=self.store.name)

    async def get(self, fetcher: Fetcher, path: str, params: Iterable[tuple[str, str]] = ()) -> Any:
        body = orjson.loads((await fetcher.fetch(self.request(path, params), self.check)).body)
        return body  # a dict, or [] for an empty list (PrestaShop/PrestaShop#22760)

    # -- listing ----------------------------------------------------------------------------

    def _local(self, moment: dt.datetime) -> str:
        return moment.astimezone(self.store.zone).strftime("%Y-%m-%d %H:%M:%S")

    def listing(self, rng: ImportRange, offset: int, pass_no: int) -> Request:
        field = "date_add" if rng.field == "created" else "date_upd"
        lo, hi = self._local(rng.start - LOCAL_SLACK), self._local(rng.end + LOCAL_SLACK)
        params = [
            ("display", "full"),
            ("date", "1"),
            (f"filter[{field}]", f"[{lo},{hi}]"),
            ("sort", "[id_ASC]"),
            ("limit", f"{offset},{self.store.per_page}"),
        ]
        return self.request("/orders", params, tag=(offset, pass_no))

    async def _prepare(self, fetcher: Fetcher) -> None:
        if not self.currencies:
            found = await self.get(fetcher, "/currencies", [("display", "[id,iso_code]")])
            rows = found.get("currencies", []) if isinstance(found, dict) else []
            self.currencies = {int(c["id"]): str(c["iso_code"]) for c in rows}
            # Which order states mean cancelled / refunded / payment error on this shop (ids differ
            # per shop): the till keeps those as words, so credit notes follow as on other platforms.
            found = await self.get(
                fetcher,
                "/configurations",
                [("display", "[name,value]"), ("filter[name]", f"[{'|'.join(STATE_WORDS)}]")],
            )
            rows = found.get("configurations", []) if isinstance(found, dict) else []
            self.state_words = {
                str(c["value"]): STATE_WORDS[c["name"]] for c in rows if c["name"] in STATE_WORDS
            }

    async def _lookup_customers(self, fetcher: Fetcher, ids: set[int]) -> None:
        missing = sorted(i for i in ids if i not in self.known)
        for k in range(0, len(missing), 100):
            chunk = missing[k : k + 100]
            found = await self.get(
                fetcher,
                "/customers",
                [
                    ("display", "[id,email,firstname,lastname,is_guest]"),
                    ("filter[id]", f"[{'|'.join(map(str, chunk))}]"),
                ],
            )
            for c in found.get("customers", []) if isinstance(found, dict) else []:
                self.known[int(c["id"])] = (
                    c.get("email") or None,
                    c.get("firstname"),
                    c.get("lastname"),
                    str(c.get("is_guest", "0")) == "1",
                )
            for cid in chunk:
                self.known.setdefault(cid, (None, None, None, False))

    async def _invoice_addresses(
        self, fetcher: Fetcher, orders: list[dict[str, Any]]
    ) -> dict[int, dict[str, Any]]:
        """The orders' invoice addresses (where PrestaShop keeps company, VAT number and dni), a request
        per 100 addresses; their countries' ISO codes are looked up once per country."""
        ids = sorted(
            {int(o["id_address_invoice"]) for o in orders if str(o.get("id_address_invoice", "0")).isdigit()}
        )
        found: dict[int, dict[str, Any]] = {}
        for k in range(0, len(ids), 100):
            chunk = ids[k : k + 100]
            answer = await self.get(
                fetcher,
                "/addresses",
                [("display", ADDRESS_FIELDS), ("filter[id]", f"[{'|'.join(map(str, chunk))}]")],
            )
            for a in answer.get("addresses", []) if isinstance(answer, dict) else []:
                found[int(a["id"])] = a
        countries = sorted(
            {int(c) for a in found.values() if str(c := a.get("id_country", "")).isdigit()}
            - set(self.countries)
        )
        if countries:
            answer = await self.get(
                fetcher,
                "/countries",
                [("display", "[id,iso_code]"), ("filter[id]", f"[{'|'.join(map(str, countries))}]")],
            )
            for c in answer.get("countries", []) if isinstance(answer, dict) else []:
                self.countries[int(c["id"])] = str(c["iso_code"])
        return found

    async def _with_addresses(self, fetcher: Fetcher, body: bytes, orders: list[dict[str, Any]]) -> bytes:
        """The page with each order's invoice address inside it (under ``INVOICE_ADDRESS``), so the raw
        payload kept at import holds the buyer Factur-X needs; an order without one is left as it came."""
        if not orders:
            return body
        addresses = await self._invoice_addresses(fetcher, orders)
        for o in orders:
            a = addresses.get(int(o.get("id_address_invoice") or 0))
            if a is not None:
                o[INVOICE_ADDRESS] = {k: v for k, v in a.items() if k != "id_country"} | {
                    "country": self.countries.get(int(a.get("id_country") or 0), "")
                }
        return orjson.dumps({"orders": orders})

    def pages(self, fetcher: Fetcher, rng: ImportRange) -> AsyncIterator[Page]:
        return with_fetched(
            self._listing_pages(fetcher, rng),
            lambda body: self.fetch_slips(fetcher, body),
            ahead=2 * self.store.concurrency,
        )

    async def _listing_pages(self, fetcher: Fetcher, rng: ImportRange) -> AsyncIterator[Page]:
        await self._prepare(fetcher)
        await self._slip_index(fetcher)
        step = self.store.per_page - self.overlap
        number = 0
        for pass_no in range(1, MAX_PASSES + 1):
            drifted = False
            previous_last: int | None = None
            previous_full = False
            offset = 0
            finished = False
            while not finished:
                batch = [self.listing(rng, offset + k * step, pass_no) for k in range(self.store.concurrency)]
                answers: dict[int, Response] = {}
                async for response in fetcher.fetch_many(batch, self.check):
                    answers[response.request.tag[0]] = response
                for request in batch:
                    response = answers[request.tag[0]]
                    found = orjson.loads(response.body)
                    orders = found.get("orders", []) if isinstance(found, dict) else []
                    ids = [int(o["id"]) for o in orders]
                    if previous_full and (not ids or ids[0] > (previous_last or 0)):
                        drifted = True  # rows slid under the overlap: something may have been missed
                    await self._lookup_customers(fetcher, {int(o["id_customer"]) for o in orders})
                    number += 1
                    yield Page(await self._with_addresses(fetcher, response.body, orders), number, pass_no)
                    previous_full = len(ids) == self.store.per_page
                    previous_last = ids[-1] if ids else previous_last
                    if not previous_full:
                        finished = True
                        break
                offset += len(batch) * step
            if not drifted:
                return

    async def _slip_index(self, fetcher: Fetcher) -> None:
        """Which orders have an order slip (a refund), read once per run."""
        if self.slipped is None:
            found = await self.get(fetcher, "/order_slip", [("display", "[id,id_order]")])
            rows = found.get("order_slips", []) if isinstance(found, dict) else []
            self.slipped = {}
            for i, r in enumerate(rows if isinstance(rows, list) else [rows]):
                order_id, slip_id = slip_key(r, f"order_slips[{i}]")
                self.slipped.setdefault(order_id, set()).add(slip_id)

    async def fetch_slips(self, fetcher: Fetcher, page: bytes) -> None:
        """The order slips of the page's orders that have some (see :meth:`_slip_index`): one request for
        a page that holds some, none for the others, nor for an order listed exactly as when its slips were
        fetched last and with the same slips in the index (:class:`FetchedRefunds`; the index is checked too
        because a slip need not show in the order's listing).  :meth:`adjust` lays them onto their orders."""
        if not self.slipped:
            return
        try:
            scan = core.parse_page(page, _SLIP_SCAN).orders
            ids, hashes = scan.column("order_id").to_pylist(), scan.column(HASH_COLUMN).to_pylist()
            listed: dict[int, int | None] = dict(zip(ids, hashes, strict=True))
        except ParseError:  # an order the core cannot read: the import sets it aside; ask for the others
            found_page = orjson.loads(page)
            orders = found_page.get("orders", []) if isinstance(found_page, dict) else []
            ids = (_shop_id(o.get("id")) if isinstance(o, dict) else None for o in orders)
            listed = {oid: None for oid in ids if oid is not None}  # no id: no slips to ask for
        wanted = sorted(
            oid for oid in listed.keys() & self.slipped.keys() if not self._reuse(oid, listed[oid])
        )
        if not wanted:
            return
        found = await self.get(
            fetcher,
            "/order_slip",
            [("display", "full"), ("filter[id_order]", f"[{'|'.join(map(str, wanted))}]")],
        )
        by_order: dict[int, list[tuple[int, Any]]] = {}
        rows = found.get("order_slips", []) if isinstance(found, dict) else []
        for i, slip in enumerate(rows if isinstance(rows, list) else [rows]):
            order_id, slip_id = slip_key(slip, f"order_slips[{i}]")
            by_order.setdefault(order_id, []).append((slip_id, slip))
        for oid, slips in by_order.items():
            self.refunds.fetched(oid, orjson.dumps([slip for _, slip in sorted(slips, key=lambda s: s[0])]))

    def _reuse(self, order_id: int, listing_hash: int | None) -> bool:
        known = self.refunds.recalled.get(order_id)
        if listing_hash is None or known is None or self.slipped is None:
            return False
        try:
            ids = {int(s["id"]) for s in orjson.loads(known[1])}
        except (orjson.JSONDecodeError, TypeError, KeyError, ValueError):
            return False
        return ids == self.slipped.get(order_id) and self.refunds.reuse(order_id, listing_hash)

    def adjust(self, orders: pa.Table, lines: pa.Table) -> tuple[pa.Table, pa.Table]:
        orders, lines = adjust_prestashop(
            orders, lines, self.store.timezone, self.currencies, self.known, self.state_words
        )
        return self.refunds.lay(orders, lines, line_refunds)

    def recall(self, known: pa.Table) -> None:
        self.refunds.recall(known)

    def remembered(self, orders: pa.Table) -> pa.Table | None:
        return self.refunds.remembered(orders)

    # -- catalogue --------------------------------------------------------------------------

    async def _list(self, fetcher: Fetcher, resource: str, display: str) -> list[Any]:
        found = await self.get(fetcher, f"/{resource}", [("display", display)])
        return list(found.get(resource, [])) if isinstance(found, dict) else []

    async def catalog(self, fetcher: Fetcher) -> list[CatalogItem]:
        products = await self._list(fetcher, "products", "[id,reference,name,price]")
        combos = await self._list(fetcher, "combinations", "[id,id_product,reference]")
        stock = {
            (int(s["id_product"]), int(s["id_product_attribute"])): int(s["quantity"])
            for s in await self._list(fetcher, "stock_availables", "full")
        }
        items = []
        for p in products:
            pid = int(p["id"])
            name = p["name"] if isinstance(p["name"], str) else str(p["name"][0]["value"])
            items.append(
                CatalogItem(
                    pid, 0, p.get("reference") or None, name, p.get("price"), None, True, stock.get((pid, 0))
                )
            )
        for c in combos:
            pid, cid = int(c["id_product"]), int(c["id"])
            items.append(
                CatalogItem(
                    pid, cid, c.get("reference") or None, None, None, None, True, stock.get((pid, cid))
                )
            )
        return items

    async def customers(self, fetcher: Fetcher) -> list[Customer]:
        rows = await self._list(fetcher, "customers", "[id,email,firstname,lastname,is_guest]")
        return [
            Customer(int(c["id"]), c.get("email") or None, c.get("firstname"), c.get("lastname"))
            for c in rows
            if str(c.get("is_guest", "0")) != "1"
        ]

    # -- push-backs (XML) -------------------------------------------------------------------

    async def _write(
        self, fetcher: Fetcher, method: str, path: str, resource: str, fields: dict[str, Any]
    ) -> None:
        xml = to_xml(resource, fields)
        await fetcher.fetch(self.request(path, method=method, xml=xml), self.check)

    async def set_stock(self, fetcher: Fetcher, sku: str, quantity: int) -> None:
        """SKU -> product (or combination) -> its stock_available row, PUT back whole."""
        target: tuple[int, int] | None = None
        for item in await self.catalog(fetcher):
            if item.sku == sku:
                target = (item.product_id, item.variation_id)
                break
        if target is None:
            raise FetchError(
                f"store '{self.store.name}': no PrestaShop product has the reference {sku!r}", sku=sku
            )
        found = await self.get(
            fetcher,
            "/stock_availables",
            [
                ("display", "full"),
                ("filter[id_product]", f"[{target[0]}]"),
                ("filter[id_product_attribute]", f"[{target[1]}]"),
            ],
        )
        rows = found.get("stock_availables", []) if isinstance(found, dict) else []
        if not rows:
            raise FetchError(f"store '{self.store.name}': PrestaShop keeps no stock row for {sku!r}", sku=sku)
        row = dict(rows[0])
        row["quantity"] = str(quantity)
        await self._write(fetcher, "PUT", f"/stock_availables/{row['id']}", "stock_available", row)

    async def set_status(self, fetcher: Fetcher, order_id: int, status: str) -> None:
        """``status`` is the id of a PrestaShop order state (see Commandes > États)."""
        words = {word: state for state, word in self.state_words.items()}
        status = words.get(status, status)
        if not status.isdigit():
            raise FetchError(
                f"store '{self.store.name}': a PrestaShop status is an order-state id such as \"4\", or "
                f"cancelled / refunded / failed (got {status!r})"
            )
        await self._write(
            fetcher,
            "POST",
            "/order_histories",
            "order_history",
            {"id_order": order_id, "id_order_state": status},
        )

    async def set_tracking(
        self, fetcher: Fetcher, order_id: int, number: str, company: str | None = None, url: str | None = None
    ) -> None:
        found = await self.get(
            fetcher, "/order_carriers", [("display", "full"), ("filter[id_order]", f"[{order_id}]")]
        )
        rows = found.get("order_carriers", []) if isinstance(found, dict) else []
        if not rows:
            raise FetchError(
                f"store '{self.store.name}': PrestaShop has no carrier row for order {order_id}",
                order_id=order_id,
            )
        row = dict(rows[0])
        row["tracking_number"] = number
        await self._write(fetcher, "PUT", f"/order_carriers/{row['id']}", "order_carrier", row)


def to_xml(resource: str, fields: dict[str, Any]) -> str:
    inner = "".join(
        f"<{k}><![CDATA[{escape(str(v)) if ']]>' in str(v) else v}]]></{k}>"
        for k, v in fields.items()
        if not isinstance(v, dict | list)
    )
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<prestashop><{resource}>{inner}</{resource}></prestashop>'
    )


def _ps_message(response: Response) -> str:
    try:
        body = orjson.loads(response.body)
        if isinstance(body, dict) and body.get("errors"):
            return "; ".join(str(e.get("message")) for e in body["errors"])
    except orjson.JSONDecodeError:
        text = response.body.decode("utf-8", "replace")
        if "<message>" in text:
            return (
                text.split("<message>", 1)[1]
                .split("</message>", 1)[0]
                .replace("<![CDATA[", "")
                .replace("]]>", "")
            )
    return "no details"


def _shop_id(value: object) -> int | None:
    """A PrestaShop id (a number, or its digits as text, as the webservice sends either); None otherwise."""
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 19:
        value = int(value)
    return value if type(value) is int and 0 <= value < 2**63 else None


def slip_key(slip: object, where: str) -> tuple[int, int]:
    """(order id, slip id) of one order slip the shop listed; a slip that names no order cannot be laid
    on any, so it stops the import in plain words rather than being dropped (a refund would be lost)."""
    order_id = _shop_id(slip.get("id_order")) if isinstance(slip, dict) else None
    slip_id = _shop_id(slip.get("id")) if isinstance(slip, dict) else None
    if order_id is None or slip_id is None:
        raise ParseError(
            f"the shop's list of order slips (refunds) could not be read: {where} has no readable "
            f"order and slip number ({str(slip)[:80]})",
            path=f"$.{where}",
        )
    return order_id, slip_id
