"""/orders: the listing (filters, sort, pages), one order, status updates, notes.

Date bounds are exclusive. WooCommerce's CRUD controller (prepare_objects_query / get_query_args)
puts ``after``/``before``/``modified_*`` into a WP ``date_query`` clause without ``inclusive``,
and WP_Date_Query defaults ``inclusive`` to false: ``after`` is ``>`` and ``before`` is ``<``.
Sorting by date is WordPress's ``date ID``: ties broken by id, in the same direction.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import orjson
from aiohttp import web

from fastimport.sim.clock import fmt
from fastimport.sim.orders import STATUSES
from fastimport.sim.store import ALL_STATUSES, CODE, TRASH, OrderStore
from fastimport.sim.wphttp import (
    WPError,
    bool_param,
    date_param,
    enum_param,
    int_param,
    invalid_param,
    json_body,
    json_response,
    list_param,
    paginate,
)

ANY = frozenset(CODE[s] for s in STATUSES)  # "any": every status but trash
ORDERBY = ("date", "id", "include", "title", "slug", "modified")
WRITE_STATUSES = (*STATUSES, "checkout-draft")


def invalid_id() -> WPError:
    return WPError(404, "woocommerce_rest_shop_order_invalid_id", "Invalid ID.")


class OrdersApi:
    def __init__(self, store: OrderStore, create_during: int, modify_during: int) -> None:
        self.store = store
        self.create_during = create_during
        self.modify_during = modify_during
        self.notes: dict[int, list[dict[str, Any]]] = {}
        self._note_id = 50_000

    # -- listing ----------------------------------------------------------------------------

    def _statuses(self, request: web.Request) -> frozenset[int]:
        names = list_param(request, "status") or ["any"]
        codes: set[int] = set()
        for name in names:
            if name == "any":
                codes |= ANY
            elif name in CODE:
                codes.add(CODE[name])
            else:
                allowed = ", ".join(("any", *ALL_STATUSES, "checkout-draft"))
                raise invalid_param("status", f"status[0] is not one of {allowed}.")
        return frozenset(codes)

    def _bounds(self, request: web.Request) -> tuple[tuple[str, int, int], ...]:
        gmt = bool_param(request, "dates_are_gmt")
        clock = self.store.ctx.clock
        bounds = []
        for column, low_name, high_name in (
            ("created", "after", "before"),
            ("modified", "modified_after", "modified_before"),
        ):
            low_raw, high_raw = date_param(request, low_name), date_param(request, high_name)
            if low_raw is None and high_raw is None:
                continue
            try:
                low = clock.parse_bound(low_raw, gmt) if low_raw else -(2**62)
                high = clock.parse_bound(high_raw, gmt) if high_raw else 2**62
            except ValueError:
                raise invalid_param(low_name if low_raw else high_name, "Invalid date.") from None
            bounds.append((column if gmt else column + "_local", low, high))
        return tuple(bounds)

    async def listing(self, request: web.Request) -> web.Response:
        per_page = int_param(request, "per_page", 10, 1, 100)
        page = int_param(request, "page", 1, 1)
        offset = int_param(request, "offset", -1, 0)
        desc = enum_param(request, "order", "desc", ("asc", "desc")) == "desc"
        orderby = enum_param(request, "orderby", "date", ORDERBY)
        positions: list[int] = self.store.listing(
            self._statuses(request),
            self._bounds(request),
            "id" if orderby != "date" and orderby != "modified" else orderby,
            desc,
        )
        start = offset if offset >= 0 else (page - 1) * per_page
        body = self.store.page(positions[start : start + per_page])
        headers = paginate(request, len(positions), page, per_page)
        if page == 1:
            self.store.drift(positions, self.create_during, self.modify_during)
        return json_response(body, headers=headers)

    # -- one order --------------------------------------------------------------------------

    def _idx(self, request: web.Request) -> int:
        idx = self.store.find(int(request.match_info["oid"]))
        if idx < 0:
            raise invalid_id()
        return idx

    async def get(self, request: web.Request) -> web.Response:
        return json_response(self.store.blob(self._idx(request)))

    async def update(self, request: web.Request) -> web.Response:
        idx = self._idx(request)
        body = await json_body(request)
        status = body.get("status") if isinstance(body, dict) else None
        if status is not None:
            if status not in WRITE_STATUSES:
                raise invalid_param(
                    "status",
                    f"status is not one of {', '.join(WRITE_STATUSES[:-1])}, and {WRITE_STATUSES[-1]}.",
                )
            self.store.set_status(idx, "pending" if status == "checkout-draft" else status)
        meta = body.get("meta_data") if isinstance(body, dict) else None
        if isinstance(meta, list):  # WooCommerce merges meta by key
            kept = {
                m.get("key"): m for m in self.store.shaped(idx).get("meta_data") or [] if isinstance(m, dict)
            }
            for k, m in enumerate(meta):
                if isinstance(m, dict) and m.get("key"):
                    kept[m["key"]] = {"id": 90_000 + k, "key": m["key"], "value": m.get("value")}
            self.store.write_fields(idx, {"meta_data": list(kept.values())})
        return json_response(self.store.blob(idx))

    async def delete(self, request: web.Request) -> web.Response:
        idx = self._idx(request)
        force = bool_param(request, "force")
        body = self.store.blob(idx)
        if force:
            self.store.remove(idx)
        elif self.store.status[idx] == TRASH:
            raise WPError(410, "woocommerce_rest_already_trashed", "The shop order has already been deleted.")
        else:
            self.store.set_status(idx, "trash")
            body = self.store.blob(idx)
        return json_response(body)

    # -- notes ------------------------------------------------------------------------------

    async def list_notes(self, request: web.Request) -> web.Response:
        idx = self._idx(request)
        notes = self.notes.get(self.store.ids[idx], [])
        return json_response(orjson.dumps(list(reversed(notes))))

    async def add_note(self, request: web.Request) -> web.Response:
        idx = self._idx(request)
        body = await json_body(request)
        note = body.get("note") if isinstance(body, dict) else None
        if not isinstance(note, str) or not note:
            raise WPError(400, "rest_missing_callback_param", "Missing parameter(s): note", params=["note"])
        oid = self.store.ids[idx]
        self._note_id += 1
        now = int(time.time())
        clock = self.store.ctx.clock
        record = {
            "id": self._note_id,
            "author": "Boutique",
            "date_created": fmt(clock.local(now)),
            "date_created_gmt": fmt(now),
            "note": note,
            "customer_note": bool(body.get("customer_note")),
            "added_by_user": True,
        }
        self.notes.setdefault(oid, []).append(record)
        return json_response(orjson.dumps(record), 201)


def parse_utc(text: str | None) -> int | None:
    """A control-endpoint date ("2026-03-29T10:00:00", offset optional, UTC if none) -> epoch seconds."""
    if not text:
        return None
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return int((parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp())
