"""PrestaShop Webservice (``/api/...``) for the simulated shop: reads in JSON, writes in XML.

* Auth: HTTP Basic with the key as user and an empty password, or ``?ws_key=``; else 401.
* ``/api/orders``: ``display=full``, ``filter[field]=[a,b]`` (interval, both ends included, as the
  SQL ``BETWEEN`` it becomes), ``[a|b]`` (any of), ``[x]``; date fields need ``date=1`` (else error
  32); ``sort=[id_ASC]``; ``limit=n`` or ``limit=offset,n``.  An empty list is a bare ``[]``.
* Writes take the full resource in XML (``PUT``) or a new one (``POST``); malformed bodies, unknown
  ids and bad values are refused with PrestaShop's ``<errors>`` body and recorded in ``writes``.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import re
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Any

import orjson
from aiohttp import web

from fastimport.sim.catalogue import Product
from fastimport.sim.clock import fmt
from fastimport.sim.prestashop_orders import (
    CURRENCY_EUR,
    GUEST_BASE,
    STATE_NAMES,
    STATUS_OF,
    ps_money,
)
from fastimport.sim.shopify_orders import cents
from fastimport.sim.store import ALL_STATUSES, CODE, OrderStore

DATE_FIELDS = frozenset({"date_add", "date_upd", "invoice_date", "delivery_date"})
TRACKING = re.compile(r"^[~:#,%&_=\(\)\[\]\.\? \+\-@/a-zA-Z0-9]+$")
_FILTER = re.compile(r"^\[(.*)\]$")
LIVE = frozenset(CODE[s] for s in ALL_STATUSES if s != "trash")


class PSError(Exception):
    def __init__(self, status: int, code: int, message: str, json_out: bool = True) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.json_out = status, code, message, json_out

    def response(self) -> web.Response:
        headers = {"PSWS-Version": "8.1.7"}
        if self.status == 401:
            headers["WWW-Authenticate"] = (
                'Basic realm="Welcome to PrestaShop Webservice, please enter the authentication key as the '
                'login. No password required."'
            )
        if self.json_out:
            body = orjson.dumps({"errors": [{"code": self.code, "message": self.message}]})
            return web.Response(
                body=body, status=self.status, headers=headers, content_type="application/json"
            )
        xml = (
            '<?xml version="1.0" encoding="UTF-8"?>\n<prestashop xmlns:xlink="http://www.w3.org/1999/xlink">\n'
            f"<errors>\n<error>\n<code><![CDATA[{self.code}]]></code>\n"
            f"<message><![CDATA[{self.message}]]></message>\n</error>\n</errors>\n</prestashop>\n"
        )
        return web.Response(text=xml, status=self.status, headers=headers, content_type="text/xml")


def ps_json(obj: Any, status: int = 200) -> web.Response:
    return web.Response(
        body=obj if isinstance(obj, bytes) else orjson.dumps(obj),
        status=status,
        headers={"PSWS-Version": "8.1.7"},
        content_type="application/json",
    )


def check_key(request: web.Request, key: str) -> web.Response | None:
    header = request.headers.get("Authorization", "")
    given = request.query.get("ws_key", "")
    if header.startswith("Basic "):
        try:
            given = base64.b64decode(header[6:]).decode().partition(":")[0]
        except (binascii.Error, UnicodeDecodeError):
            given = ""
    json_out = request.query.get("output_format", "").upper() == "JSON"
    if not given:
        return PSError(401, 17, "Authentication key is empty", json_out).response()
    if not hmac.compare_digest(given, key):
        return PSError(401, 18, "Invalid authentication key", json_out).response()
    return None


def _filter(request: web.Request, name: str) -> tuple[str, list[str]] | None:
    """``filter[name]=[a,b]`` -> ("interval", [a, b]); ``[a|b]`` -> ("any", [...]); ``[x]`` -> ("any", [x])."""
    raw = request.query.get(f"filter[{name}]")
    if raw is None:
        return None
    m = _FILTER.match(raw.strip())
    if not m:
        raise PSError(400, 33, f'The "{name}" filter is malformed.')
    inner = m.group(1)
    if "," in inner:
        low, _, high = inner.partition(",")
        return "interval", [low.strip(), high.strip()]
    return "any", [v.strip() for v in inner.split("|")]


def filter_values(request: web.Request, name: str) -> list[str] | None:
    """The values of ``filter[name]=[a|b|c]`` (None without that filter)."""
    return None if (spec := _filter(request, name)) is None else spec[1]


def _limit(request: web.Request) -> tuple[int, int | None]:
    raw = request.query.get("limit")
    if raw is None:
        return 0, None
    try:
        parts = [int(p) for p in raw.split(",")]
    except ValueError:
        raise PSError(400, 36, f'The "limit" parameter is malformed: {raw}') from None
    if len(parts) == 1:
        return 0, parts[0]
    return parts[0], parts[1]


def _local_epoch(text: str) -> int:
    from datetime import UTC, datetime

    try:
        return int(datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC).timestamp())
    except ValueError:
        raise PSError(400, 33, f"The date {text!r} is not valid.") from None


def parse_xml(raw: bytes, resource: str) -> dict[str, str]:
    """The fields of ``<prestashop><resource>...</resource></prestashop>``, or a 400 PSError."""
    try:
        root = ET.fromstring(raw)
    except ET.ParseError as exc:
        raise PSError(400, 127, f"XML error : {exc}", json_out=False) from None
    node = root.find(resource) if root.tag == "prestashop" else None
    if node is None:
        raise PSError(400, 89, f"Invalid XML: the <{resource}> node is missing", json_out=False)
    return {child.tag: (child.text or "").strip() for child in node if len(child) == 0}


def to_xml(resource: str, fields: dict[str, Any]) -> str:
    inner = "".join(f"<{k}><![CDATA[{v}]]></{k}>" for k, v in fields.items())
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<prestashop xmlns:xlink="http://www.w3.org/1999/xlink">'
        f"<{resource}>{inner}</{resource}></prestashop>\n"
    )


def xml_response(resource: str, fields: dict[str, Any], status: int = 200) -> web.Response:
    return web.Response(text=to_xml(resource, fields), status=status, content_type="text/xml")


def _uint(fields: dict[str, str], name: str, resource: str) -> int:
    value = fields.get(name)
    if value is None or value == "":
        raise PSError(400, 41, f"parameter {name} required", json_out=False)
    if not value.isdigit():
        raise PSError(
            400, 85, f'Validation error: "Property {resource}->{name} is not valid"', json_out=False
        )
    return int(value)


class PrestaShopApi:
    def __init__(
        self,
        store: OrderStore,
        products: list[Product],
        customers: Callable[[int], dict[str, Any] | None],
        create_during: int,
        modify_during: int,
    ) -> None:
        self.store = store
        self.catalogue = [p for p in products if p.listed]
        self.customer_of = customers
        self.create_during, self.modify_during = create_during, modify_during
        self.writes: list[tuple[str, str, dict[str, str]]] = []  # accepted writes: (method, path, fields)
        self.histories: list[dict[str, Any]] = []
        self.carriers: dict[int, dict[str, Any]] = {}  # order id -> order_carrier (created on first read)
        self.stock = self._stock_rows()

    # -- orders -----------------------------------------------------------------------------

    def _json_only(self, request: web.Request) -> None:
        if request.query.get("output_format", request.headers.get("Output-Format", "")).upper() != "JSON":
            raise PSError(400, 0, "The simulated shop only answers output_format=JSON", json_out=False)

    async def orders(self, request: web.Request) -> web.Response:
        self._json_only(request)
        dated = request.query.get("date") == "1"
        bounds: list[tuple[str, int, int]] = []
        for field, column in (("date_add", "created_local"), ("date_upd", "modified_local")):
            spec = _filter(request, field)
            if spec is None:
                continue
            if not dated:
                raise PSError(400, 32, f'This filter does not exist. Did you mean: "{field}"?')
            kind, values = spec
            if kind != "interval":
                raise PSError(400, 33, "Only intervals are supported by the simulated shop on dates.")
            bounds.append((column, _local_epoch(values[0]) - 1, _local_epoch(values[1]) + 1))
        sort = request.query.get("sort", "[id_ASC]")
        if sort not in ("[id_ASC]", "[id_DESC]"):
            raise PSError(400, 37, f'The "sort" value is not supported: {sort}')
        positions = self.store.listing(LIVE, tuple(bounds), "id", sort == "[id_DESC]")
        ids_filter = _filter(request, "id")
        if ids_filter is not None and ids_filter[0] == "any":
            wanted = {int(v) for v in ids_filter[1] if v.isdigit()}
            positions = [p for p in positions if self.store.ids[p] in wanted]
        offset, count = _limit(request)
        chosen = positions[offset : offset + count if count is not None else None]
        if offset == 0:
            self.store.drift(positions, self.create_during, self.modify_during)
        if not chosen:
            return ps_json(b"[]")  # PrestaShop/PrestaShop#22760: an empty list is a bare array
        if request.query.get("display") != "full":
            return ps_json({"orders": [{"id": self.store.ids[p]} for p in chosen]})
        return ps_json(b'{"orders":' + self.store.page(chosen) + b"}")

    async def customers(self, request: web.Request) -> web.Response:
        self._json_only(request)
        spec = _filter(request, "id")
        rows: list[dict[str, Any]] = []
        if spec is not None:
            for value in spec[1]:
                row = self.customer_of(int(value)) if value.isdigit() else None
                if row is not None:
                    rows.append(row)
        else:
            offset, count = _limit(request)
            k = offset
            while count is None or len(rows) < count:
                row = self.customer_of(2 + k)
                if row is None:
                    break
                rows.append(row)
                k += 1
        return ps_json({"customers": rows} if rows else b"[]")

    async def currencies(self, request: web.Request) -> web.Response:
        self._json_only(request)
        return ps_json(
            {
                "currencies": [
                    {
                        "id": CURRENCY_EUR,
                        "names": "Euro",
                        "name": "Euro",
                        "symbol": "€",
                        "iso_code": "EUR",
                        "numeric_iso_code": "978",
                        "precision": "2",
                        "conversion_rate": "1.000000",
                        "deleted": "0",
                        "active": "1",
                    }
                ]
            }
        )

    async def configurations(self, request: web.Request) -> web.Response:
        self._json_only(request)
        values = {"PS_OS_CANCELED": "6", "PS_OS_REFUND": "7", "PS_OS_ERROR": "8", "PS_OS_PAYMENT": "2",
                  "PS_OS_PREPARATION": "3", "PS_OS_SHIPPING": "4", "PS_OS_DELIVERED": "5"}  # fmt: skip
        spec = _filter(request, "name")
        names = spec[1] if spec is not None else list(values)
        rows = [
            {"id": k + 1, "name": name, "value": values[name]}
            for k, name in enumerate(names)
            if name in values
        ]
        return ps_json({"configurations": rows} if rows else b"[]")

    async def order_states(self, request: web.Request) -> web.Response:
        self._json_only(request)
        return ps_json(
            {
                "order_states": [
                    {"id": sid, "paid": "1" if sid in (2, 3, 4, 5) else "0", "name": name}
                    for sid, name in sorted(STATE_NAMES.items())
                ]
            }
        )

    # -- catalogue and stock ----------------------------------------------------------------

    def _stock_rows(self) -> dict[int, dict[str, Any]]:
        rows: dict[int, dict[str, Any]] = {}
        next_id = 1
        for p in self.catalogue:
            targets = [(p.id, v.id, v.stock) for v in p.variations] if p.variations else [(p.id, 0, p.stock)]
            for pid, attr, qty in targets:
                rows[next_id] = {
                    "id": next_id,
                    "id_product": str(pid),
                    "id_product_attribute": str(attr),
                    "id_shop": "1",
                    "id_shop_group": "0",
                    "quantity": str(qty),
                    "depends_on_stock": "0",
                    "out_of_stock": "2",
                    "location": "",
                }
                next_id += 1
        return rows

    async def products(self, request: web.Request) -> web.Response:
        self._json_only(request)
        rows = [
            {
                "id": p.id,
                "reference": p.sku,
                "name": p.name,
                "price": ps_money(p.price),
                "id_tax_rules_group": "1" if p.tax_class == "" else "2",
                "active": "1",
                "associations": {"combinations": [{"id": str(v.id)} for v in p.variations]}
                if p.variations
                else {},
            }
            for p in self.catalogue
        ]
        return ps_json({"products": rows})

    async def combinations(self, request: web.Request) -> web.Response:
        self._json_only(request)
        rows = [
            {
                "id": v.id,
                "id_product": str(p.id),
                "reference": v.sku,
                "price": "0.000000",
                "name": v.option,
            }
            for p in self.catalogue
            for v in p.variations
        ]
        return ps_json({"combinations": rows} if rows else b"[]")

    async def stock_availables(self, request: web.Request) -> web.Response:
        self._json_only(request)
        rows = list(self.stock.values())
        for field in ("id_product", "id_product_attribute"):
            spec = _filter(request, field)
            if spec is not None:
                rows = [r for r in rows if r[field] in spec[1]]
        return ps_json({"stock_availables": rows} if rows else b"[]")

    async def put_stock(self, request: web.Request) -> web.Response:
        sid = int(request.match_info["rid"])
        row = self.stock.get(sid)
        if row is None:
            raise PSError(404, 87, f"Id(s) not exists: {sid}", json_out=False)
        fields = parse_xml(await request.read(), "stock_available")
        if _uint(fields, "id", "StockAvailable") != sid:
            raise PSError(400, 90, "id is invalid (it must match the URL)", json_out=False)
        for name in ("id_product", "id_product_attribute"):
            if _uint(fields, name, "StockAvailable") != int(row[name]):
                raise PSError(
                    400, 85, f'Validation error: "Property StockAvailable->{name} is not valid"', False
                )
        qty = fields.get("quantity", "")
        if not re.fullmatch(r"-?\d+", qty):
            raise PSError(
                400, 85, 'Validation error: "Property StockAvailable->quantity is not valid"', False
            )
        row["quantity"] = str(int(qty))
        self.writes.append(("PUT", request.path, fields))
        return xml_response("stock_available", row)

    # -- order status and tracking ----------------------------------------------------------

    async def post_history(self, request: web.Request) -> web.Response:
        fields = parse_xml(await request.read(), "order_history")
        oid = _uint(fields, "id_order", "OrderHistory")
        state = _uint(fields, "id_order_state", "OrderHistory")
        idx = self.store.find(oid)
        if idx < 0:
            raise PSError(400, 85, 'Validation error: "Property OrderHistory->id_order is not valid"', False)
        if state not in STATE_NAMES:
            raise PSError(
                400, 85, 'Validation error: "Property OrderHistory->id_order_state is not valid"', False
            )
        self.store.set_status(idx, STATUS_OF[state])
        # The order shows the very state set (3 "preparation", 4 "shipped"), not the nearest generated one.
        self.store.written.setdefault(idx, {})["current_state"] = str(state)
        record = {
            "id": len(self.histories) + 1,
            "id_employee": fields.get("id_employee", "0") or "0",
            "id_order_state": str(state),
            "id_order": str(oid),
            "date_add": fmt(self.store.ctx.clock.local(int(time.time()))).replace("T", " "),
        }
        self.histories.append(record)
        self.writes.append(("POST", request.path, fields))
        return xml_response("order_history", record, 201)

    def _carrier(self, oid: int) -> dict[str, Any]:
        row = self.carriers.get(oid)
        if row is None:
            w = self.store.order(self.store.find(oid))
            ship = w["shipping_lines"][0]
            row = self.carriers[oid] = {
                "id": 700_000 + oid,
                "id_order": str(oid),
                "id_carrier": "2" if ship["method_id"] != "local_pickup" else "1",
                "id_order_invoice": str(oid - 1000),
                "weight": "0.250000",
                "shipping_cost_tax_excl": ps_money(cents(ship["total"])),
                "shipping_cost_tax_incl": ps_money(cents(ship["total"]) + cents(ship["total_tax"])),
                "tracking_number": "",
                "date_add": fmt(self.store.ctx.clock.local(self.store.created[self.store.find(oid)])).replace(
                    "T", " "
                ),
            }
        return row

    async def order_carriers(self, request: web.Request) -> web.Response:
        self._json_only(request)
        spec = _filter(request, "id_order")
        rows = []
        if spec is not None:
            for value in spec[1]:
                if value.isdigit() and self.store.find(int(value)) >= 0:
                    rows.append(self._carrier(int(value)))
        return ps_json({"order_carriers": rows} if rows else b"[]")

    async def put_carrier(self, request: web.Request) -> web.Response:
        rid = int(request.match_info["rid"])
        row = next((r for r in self.carriers.values() if r["id"] == rid), None)
        if row is None:
            raise PSError(404, 87, f"Id(s) not exists: {rid}", json_out=False)
        fields = parse_xml(await request.read(), "order_carrier")
        if _uint(fields, "id", "OrderCarrier") != rid:
            raise PSError(400, 90, "id is invalid (it must match the URL)", json_out=False)
        for name in ("id_order", "id_carrier"):
            if _uint(fields, name, "OrderCarrier") != int(row[name]):
                raise PSError(
                    400, 85, f'Validation error: "Property OrderCarrier->{name} is not valid"', False
                )
        number = fields.get("tracking_number", "")
        if number and not TRACKING.match(number):
            raise PSError(
                400, 85, 'Validation error: "Property OrderCarrier->tracking_number is not valid"', False
            )
        row["tracking_number"] = number
        self.writes.append(("PUT", request.path, fields))
        return xml_response("order_carrier", row)


def customer_row(cid: int, first: str, last: str, email: str, guest: bool, created: str) -> dict[str, Any]:
    return {
        "id": cid,
        "id_default_group": "2" if guest else "3",
        "id_lang": "1",
        "newsletter_date_add": "0000-00-00 00:00:00",
        "ip_registration_newsletter": "",
        "last_passwd_gen": created,
        "secure_key": f"{cid:032x}",
        "deleted": "0",
        "passwd": "",
        "lastname": last,
        "firstname": first,
        "email": email,
        "id_gender": "0",
        "birthday": "0000-00-00",
        "newsletter": "0",
        "optin": "0",
        "website": "",
        "company": "",
        "siret": "",
        "ape": "",
        "outstanding_allow_amount": "0.000000",
        "show_public_prices": "0",
        "id_risk": "0",
        "max_payment_days": "0",
        "active": "1",
        "note": "",
        "is_guest": "1" if guest else "0",
        "id_shop": "1",
        "id_shop_group": "1",
        "date_add": created,
        "date_upd": created,
        "reset_password_token": "",
        "reset_password_validity": "0000-00-00 00:00:00",
        "associations": {"groups": [{"id": "2" if guest else "3"}]},
    }


def guest_of(order_id: int) -> int:
    return GUEST_BASE + order_id


__all__ = ["PSError", "PrestaShopApi", "check_key", "customer_row", "guest_of", "parse_xml", "to_xml"]
