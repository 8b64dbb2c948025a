"""Partial refunds with lines, made on the simulated shop and read as each platform serves them.

A refund names order lines (the WooCommerce line ids, which are also PrestaShop's order detail ids)
with a quantity, plus an amount beyond the lines (a gesture, the shipping).  Each refunded line gives
back its share of the line, counted over all its refunds so far, so two halves add up to the line to the
cent.  As on the shops, the order's totals stay as they were; the order counts as modified.

- WooCommerce: the order's ``refunds`` summary (``id``, ``reason``, negative ``total``) and
  ``GET /wp-json/wc/v3/orders/<id>/refunds`` (newest first), whose ``line_items`` carry negative
  quantities and amounts and the order line in their ``_refunded_item_id`` meta;
- PrestaShop: ``GET /api/order_slip`` (``display=full``, ``filter[id_order]=[a|b]``,
  ``filter[id]``), each slip with its ``order_slip_details`` (``id_order_detail``,
  ``product_quantity``, ``amount_tax_excl``, ``amount_tax_incl``) and shipping totals;
- Shopify shows the refund's amount (an order adjustment), not its lines.

``POST /_sim/orders/<id>/refunds`` with ``{"lines": [{"line_id": 11, "quantity": 1}], "amount": "2.00",
"reason": "..."}`` makes one (also :meth:`RefundBook.refund` from tests).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import orjson
from aiohttp import web

from fastimport.sim.clock import fmt
from fastimport.sim.orders import money
from fastimport.sim.prestashop_orders import ps_date, ps_money
from fastimport.sim.shopify_orders import cents
from fastimport.sim.store import OrderStore

FIRST_REFUND_ID = 800_000_001
GENERATED_REFUND_BASE = 900_000_000  # a generated order's refund: this plus the order id (sim.orders)
WOO_API = "/wp-json/wc/v3"
_CENT = Decimal("0.01")


@dataclass
class SimRefund:
    refund_id: int
    order_id: int
    created: int  # UTC epoch seconds
    reason: str
    lines: list[tuple[int, int]]  # (order line id, quantity)
    extra: int  # cents refunded beyond the lines, all taxes included
    # Filled when made: per line id, (excl. tax, tax) in cents, WooCommerce's and PrestaShop's figures.
    woo: dict[int, tuple[int, int]] = field(default_factory=dict)
    ps: dict[int, tuple[int, int]] = field(default_factory=dict)

    @property
    def total(self) -> int:
        """Cents refunded, all taxes included (WooCommerce's figures)."""
        return sum(a + b for a, b in self.woo.values()) + self.extra


def _share(amount: int, before: int, now: int, qty: int) -> int:
    """What ``now`` more units of a ``qty`` line give back, after ``before`` units already refunded."""
    whole = Decimal(amount)
    after = (whole * (before + now) / qty).quantize(Decimal(1), ROUND_HALF_UP)
    done = (whole * before / qty).quantize(Decimal(1), ROUND_HALF_UP)
    return int(after - done)


class RefundBook:
    """The refunds made on the simulated shop, per order id."""

    def __init__(self, store: OrderStore) -> None:
        self.store = store
        self.made: dict[int, list[SimRefund]] = {}
        self.next_id = FIRST_REFUND_ID
        self.made_for: dict[int, int] = {}  # refund id -> order id, of the refunds made here

    def refund(
        self, order_id: int, lines: list[tuple[int, int]], extra: int = 0, reason: str = ""
    ) -> SimRefund:
        """Refund ``lines`` ((line id, quantity)) and ``extra`` cents of an order; ValueError if impossible."""
        idx = self.store.find(order_id)
        if idx < 0:
            raise KeyError(order_id)
        w = self.store.order(idx)
        by_id = {int(li["id"]): li for li in w["line_items"]}
        rows = {int(r["id"]): r for r in _ps_rows(w)}
        done: dict[int, int] = {}
        for earlier in self.made.get(order_id, []):
            for line_id, qty in earlier.lines:
                done[line_id] = done.get(line_id, 0) + qty
        made = SimRefund(self.next_id, order_id, max(int(time.time()), 1), reason, list(lines), extra)
        for line_id, qty in lines:
            li = by_id.get(line_id)
            if li is None or qty <= 0 or done.get(line_id, 0) + qty > int(li["quantity"]):
                raise ValueError(f"line {line_id} of order {order_id} cannot give back {qty} more")
            n, before = int(li["quantity"]), done.get(line_id, 0)
            made.woo[line_id] = (
                _share(cents(li["total"]), before, qty, n),
                _share(cents(li["total_tax"]), before, qty, n),
            )
            excl, incl = (
                int((Decimal(rows[line_id][k]) * n).quantize(_CENT, ROUND_HALF_UP) * 100)
                for k in ("unit_price_tax_excl", "unit_price_tax_incl")
            )  # the row's totals as the till reads them (unit price x quantity, to the cent)
            ps_excl, ps_incl = _share(excl, before, qty, n), _share(incl, before, qty, n)
            made.ps[line_id] = (ps_excl, ps_incl - ps_excl)
            done[line_id] = before + qty
        self.next_id += 1
        self.made.setdefault(order_id, []).append(made)
        self.made_for[made.refund_id] = order_id
        summary = [
            *w.get("refunds", []),
            {"id": made.refund_id, "reason": reason, "total": money(-made.total)},
        ]
        self.store.overrides.setdefault(idx, {})["refunds"] = summary
        self.store.write_fields(idx, {})  # the shop counts the order as modified
        return made

    # -- WooCommerce ------------------------------------------------------------------------------

    def woo_refunds(self, order_id: int) -> list[dict[str, Any]]:
        """``GET /orders/<id>/refunds``: every refund of the order, newest first."""
        idx = self.store.find(order_id)
        w = self.store.order(idx)
        mine = {r.refund_id: r for r in self.made.get(order_id, [])}
        lines = {int(li["id"]): li for li in w["line_items"]}
        clock = self.store.ctx.clock
        out: list[dict[str, Any]] = []
        for summary in w.get("refunds") or []:
            r = mine.get(int(summary["id"]))
            created = (
                r.created if r is not None else self.store.created[idx] + 86400
            )  # generated: a fixed date
            items: list[dict[str, Any]] = []
            for line_id, qty in r.lines if r is not None else []:
                assert r is not None
                li, (excl, tax) = lines[line_id], r.woo[line_id]
                items.append({
                    "id": r.refund_id * 10 + len(items) + 1, "name": li["name"], "product_id": li["product_id"],
                    "variation_id": li["variation_id"], "quantity": -qty, "tax_class": li["tax_class"],
                    "subtotal": money(-excl), "subtotal_tax": money(-tax), "total": money(-excl),
                    "total_tax": money(-tax), "taxes": [],
                    "meta_data": [{"id": r.refund_id * 10 + 9, "key": "_refunded_item_id", "value": str(line_id)}],
                    "sku": li["sku"], "price": -float(Decimal(excl) / 100 / qty), "refund_total": -float(Decimal(excl + tax) / 100),
                })  # fmt: skip
            out.append({
                "id": int(summary["id"]), "date_created": fmt(clock.local(created)), "date_created_gmt": fmt(created),
                "amount": money(-cents(str(summary["total"]))), "reason": summary.get("reason") or "",
                "refunded_by": 1, "refunded_payment": False, "meta_data": [], "line_items": items,
                "shipping_lines": [], "tax_lines": [], "fee_lines": [],
            })  # fmt: skip
        return sorted(out, key=lambda x: (x["date_created_gmt"], x["id"]), reverse=True)

    # -- PrestaShop -------------------------------------------------------------------------------

    def order_slips(self, order_ids: set[int] | None, slip_ids: set[int] | None) -> list[dict[str, Any]]:
        """The ``order_slip`` rows (``display=full``) of these orders (None: all), oldest first."""
        clock = self.store.ctx.clock
        out = []
        for oid, refunds in sorted(self.made.items()):
            if order_ids is not None and oid not in order_ids:
                continue
            w = self.store.order(self.store.find(oid))
            customer = str(w["customer_id"] or 0)
            for r in refunds:
                if slip_ids is not None and r.refund_id not in slip_ids:
                    continue
                details = [
                    {"id": str(r.refund_id * 10 + k), "id_order_detail": str(line_id), "product_quantity": str(qty),
                     "amount_tax_excl": ps_money(r.ps[line_id][0]), "amount_tax_incl": ps_money(sum(r.ps[line_id]))}
                    for k, (line_id, qty) in enumerate(r.lines, 1)
                ]  # fmt: skip
                excl = sum(a for a, _ in r.ps.values())
                incl = sum(a + b for a, b in r.ps.values())
                ship_excl = int((Decimal(r.extra) / Decimal("1.2")).quantize(Decimal(1), ROUND_HALF_UP))
                out.append({
                    "id": r.refund_id, "id_customer": customer, "id_order": str(oid), "conversion_rate": "1.000000",
                    "total_products_tax_excl": ps_money(excl), "total_products_tax_incl": ps_money(incl),
                    "total_shipping_tax_excl": ps_money(ship_excl), "total_shipping_tax_incl": ps_money(r.extra),
                    "amount": ps_money(incl + r.extra), "shipping_cost": "1" if r.extra else "0",
                    "shipping_cost_amount": ps_money(r.extra), "partial": "1",
                    "date_add": ps_date(clock, r.created), "date_upd": ps_date(clock, r.created), "order_slip_type": "0",
                    "associations": {"order_slip_details": details},
                })  # fmt: skip
        return out

    # -- HTTP -------------------------------------------------------------------------------------

    def order_of(self, refund_id: int) -> int | None:
        """The order a refund belongs to (a refund made here, or one generated with its order), if any."""
        made = self.made_for.get(refund_id)
        oid = made if made is not None else refund_id - GENERATED_REFUND_BASE
        idx = self.store.find(oid)
        if idx < 0 or not any(int(r["id"]) == refund_id for r in self.store.order(idx).get("refunds") or []):
            return None
        return oid

    async def woo_handler(self, request: web.Request) -> web.Response:
        from fastimport.sim.orders_api import invalid_id
        from fastimport.sim.wphttp import json_response

        oid = int(request.match_info["oid"])
        if self.store.find(oid) < 0:
            raise invalid_id()
        api = f"{request.url.origin()}{WOO_API}"
        return json_response(
            orjson.dumps([{**r, "_links": _woo_links(api, r["id"], oid)} for r in self.woo_refunds(oid)])
        )

    async def woo_listing_handler(self, request: web.Request, honour_include: bool = True) -> web.Response:
        """``GET /refunds`` (WooCommerce 9.0+, WC_REST_Refunds_Controller): refunds across orders, filtered by
        ``include`` (refund ids; ``parent`` is ignored, as the real one unsets it), each as ``/orders/<id>/refunds``
        gives it plus ``parent_id`` after ``id`` and a ``refunded_by`` link; paginated, newest first by default.
        ``honour_include=False`` plays a shop whose plugins drop ``include``: every refund it has."""
        from fastimport.sim.wphttp import enum_param, int_param, json_response, list_param, paginate

        per_page = int_param(request, "per_page", 10, 1, 100)
        page = int_param(request, "page", 1, 1)
        order = enum_param(request, "order", "desc", ("asc", "desc"))
        orderby = enum_param(
            request, "orderby", "date", ("date", "id", "include", "title", "slug", "modified")
        )
        include = [int(v) for v in list_param(request, "include") if v.isdigit()] if honour_include else []
        if include:
            owners = {rid: oid for rid in dict.fromkeys(include) if (oid := self.order_of(rid)) is not None}
        else:  # every refund of the shop (slow on a big shop: each order with refunds is rendered)
            owners = {
                int(r["id"]): int(oid)
                for i, oid in enumerate(self.store.ids)
                for r in self.store.order(i).get("refunds") or []
            }
        api = f"{request.url.origin()}{WOO_API}"
        found: list[dict[str, Any]] = []
        for oid in dict.fromkeys(owners.values()):
            for r in self.woo_refunds(oid):
                if owners.get(int(r["id"])) == oid:
                    links = {
                        **_woo_links(api, r["id"], oid),
                        "refunded_by": [
                            {
                                "embeddable": True,
                                "href": f"{request.url.origin()}/wp-json/wp/v2/users/{r['refunded_by']}",
                            }
                        ],
                    }
                    found.append({"id": r["id"], "parent_id": oid, **r, "_links": links})
        if orderby == "include" and include:
            found.sort(key=lambda x: include.index(x["id"]))
        else:  # date (and ID for ties, as WC_REST_CRUD_Controller adds), or id
            found.sort(
                key=lambda x: (x["id"],) if orderby == "id" else (x["date_created_gmt"], x["id"]),
                reverse=order == "desc",
            )
        chunk = found[(page - 1) * per_page : page * per_page]
        return json_response(orjson.dumps(chunk), headers=paginate(request, len(found), page, per_page))

    async def slip_handler(self, request: web.Request) -> web.Response:
        from fastimport.sim.prestashop_api import PSError, ps_json

        if request.query.get("output_format", "").upper() != "JSON":
            raise PSError(400, 0, "The simulated shop only answers output_format=JSON", json_out=False)
        wanted = {k: _ids(request.query.get(f"filter[{k}]")) for k in ("id_order", "id")}
        rows = self.order_slips(wanted["id_order"], wanted["id"])
        if not rows:
            return ps_json(b"[]")  # an empty list is a bare array (PrestaShop/PrestaShop#22760)
        display = request.query.get("display", "")
        if display != "full":
            keep = display.strip("[]").split(",") if display.startswith("[") else ["id"]
            rows = [{k: r[k] for k in keep if k in r} for r in rows]
        return ps_json({"order_slips": rows})

    async def admin_handler(self, request: web.Request) -> web.Response:
        """``POST /_sim/orders/<id>/refunds``: make a refund (see the module)."""
        from fastimport.sim.wphttp import json_body, json_response

        body = await json_body(request)
        try:
            lines = [(int(x["line_id"]), int(x["quantity"])) for x in body.get("lines") or []]
            extra = cents(str(body.get("amount") or "0"))
            made = self.refund(int(request.match_info["oid"]), lines, extra, str(body.get("reason") or ""))
        except KeyError:
            return json_response(b'{"error":"no such order"}', 404)
        except (ValueError, TypeError) as err:
            return json_response(orjson.dumps({"error": str(err)}), 400)
        return json_response(orjson.dumps({"id": made.refund_id, "amount": money(made.total)}), 201)


def _woo_links(api: str, refund_id: int, order_id: int) -> dict[str, list[dict[str, str]]]:
    """A refund's ``_links`` as WC_REST_Order_Refunds_V2_Controller::prepare_links makes them."""
    base = f"{api}/orders/{order_id}/refunds"
    return {
        "self": [{"href": f"{base}/{refund_id}"}],
        "collection": [{"href": base}],
        "up": [{"href": f"{api}/orders/{order_id}"}],
    }


def _ids(text: str | None) -> set[int] | None:
    if text is None:
        return None
    return {int(v) for v in text.strip().strip("[]").split("|") if v.strip().isdigit()}


def _ps_rows(w: dict[str, Any]) -> list[dict[str, Any]]:
    """PrestaShop's order rows of the order (their unit prices are what its slips give back)."""
    from fastimport.sim.clock import SiteClock
    from fastimport.sim.orders import OrderState
    from fastimport.sim.prestashop_orders import render_prestashop

    shaped = render_prestashop(w, OrderState(int(w["id"]), 0, 0, "processing"), SiteClock("UTC"))
    return list(shaped["associations"]["order_rows"])
