"""The shop's orders in compact arrays, their JSON bytes rendered once, and cached listings.

Positions ("idx") follow ids: ids only grow, so an id is found by bisection. A listing is a list
of positions computed once per distinct (filters, orderby, order) and dropped on any mutation;
a page is then a slice of it and a join of pre-rendered bytes.
"""

from __future__ import annotations

import codecs
import random
import time
from array import array
from bisect import bisect_left
from collections.abc import Callable
from typing import Any

import orjson

from fastimport.sim.orders import STATUS_WEIGHTS, STATUSES, OrderContext, OrderState, render_order

ALL_STATUSES = (*STATUSES, "trash")
TRASH = ALL_STATUSES.index("trash")
GONE = -1  # deleted permanently
CODE = {name: k for k, name in enumerate(ALL_STATUSES)}
# Typical delay between creation and last modification, per status (seconds, min..max).
_MODIFIED_AFTER = {
    "pending": (0, 120),
    "failed": (20, 300),
    "processing": (120, 600),
    "on-hold": (30, 300),
    "completed": (3600, 3 * 86400),
    "cancelled": (1800, 2 * 86400),
    "refunded": (86400, 5 * 86400),
}


def _php_escape(err: UnicodeError) -> tuple[str, int]:
    assert isinstance(err, UnicodeEncodeError)
    out = []
    for ch in err.object[err.start : err.end]:
        cp = ord(ch)
        if cp > 0xFFFF:  # JSON needs a surrogate pair, as PHP writes it
            cp -= 0x10000
            out.append(f"\\u{0xD800 + (cp >> 10):04x}\\u{0xDC00 + (cp & 0x3FF):04x}")
        else:
            out.append(f"\\u{cp:04x}")
    return "".join(out), err.end


codecs.register_error("fastimport_php_json", _php_escape)


def encode(obj: Any, php: bool) -> bytes:
    """Compact JSON; with ``php``, escaped like WordPress's wp_json_encode ("\\/" and "\\u00e9")."""
    raw = orjson.dumps(obj)
    if not php:
        return raw
    if not raw.isascii():
        fast = raw.decode().encode("ascii", "backslashreplace")
        # C-speed path: "\xe9" -> "\u00e9"; safe unless the JSON holds a literal backslash or an astral char.
        if b"\\\\" not in raw and b"\\U" not in fast:
            raw = fast.replace(b"\\x", b"\\u00")
        else:
            raw = raw.decode().encode("ascii", "fastimport_php_json")
    return raw.replace(b"/", b"\\/")


class OrderStore:
    def __init__(self, ctx: OrderContext, php: bool) -> None:
        self.drifted = False
        self.ctx = ctx
        self.php = php
        self.ids = array("q")
        self.created = array("q")  # UTC epoch seconds
        self.modified = array("q")
        self.created_local = array("q")  # site wall clock read as UTC: what WooCommerce's post_date holds
        self.modified_local = array("q")
        self.status = array("b")
        self.blobs: list[bytes | None] = []
        self.overrides: dict[int, dict[str, Any]] = {}
        # Fields written by the till through a platform's API (Shopify tags, WooCommerce meta_data),
        # laid over the order as its platform shows it.
        self.written: dict[int, dict[str, Any]] = {}
        self._listings: dict[tuple[Any, ...], list[int]] = {}
        self._sorted: dict[str, list[int]] = {}
        # Another platform's rendering of the same order (Shopify, PrestaShop); None = WooCommerce.
        self.shape: Callable[[dict[str, Any], OrderState], dict[str, Any]] | None = None

    # -- building ---------------------------------------------------------------------------

    def generate(self, count: int, start: int, end: int, seed: int) -> None:
        """``count`` orders created over [start, end), ids and dates growing together."""
        rng = random.Random(seed * 31 + 3)
        span = end - start
        oid = 1000
        for k in range(count):
            oid += 1 + (rng.random() < 0.3) * rng.randint(1, 3)  # refunds/notes take post ids too
            created = start + int((k + rng.random()) * span / count)
            status = rng.choices(STATUSES, STATUS_WEIGHTS)[0]
            lo, hi = _MODIFIED_AFTER[status]
            modified = min(created + rng.randint(lo, hi), end)
            self._append(oid, created, max(created, modified), CODE[status])

    def _append(self, oid: int, created: int, modified: int, status: int) -> int:
        clock = self.ctx.clock
        self.ids.append(oid)
        self.created.append(created)
        self.modified.append(modified)
        self.created_local.append(clock.local(created))
        self.modified_local.append(clock.local(modified))
        self.status.append(status)
        self.blobs.append(None)
        return len(self.ids) - 1

    def set_base_url(self, base_url: str) -> None:
        if base_url != self.ctx.base_url:
            self.ctx.base_url = base_url
            self.blobs = [None] * len(self.ids)

    def prerender(self) -> None:
        for idx in range(len(self.ids)):
            if self.blobs[idx] is None and self.status[idx] != GONE:
                self.blob(idx)

    # -- reading ----------------------------------------------------------------------------

    def find(self, oid: int) -> int:
        """Position of a live order id, or -1."""
        idx = bisect_left(self.ids, oid)
        if idx < len(self.ids) and self.ids[idx] == oid and self.status[idx] != GONE:
            return idx
        return -1

    def state(self, idx: int) -> OrderState:
        return OrderState(
            self.ids[idx], self.created[idx], self.modified[idx], ALL_STATUSES[self.status[idx]]
        )

    def order(self, idx: int) -> dict[str, Any]:
        data = render_order(self.ctx, self.state(idx))
        if idx in self.overrides:
            data.update(self.overrides[idx])
        return data

    def shaped(self, idx: int) -> dict[str, Any]:
        """The order as the shop's platform shows it."""
        data = self.order(idx)
        shaped = data if self.shape is None else self.shape(data, self.state(idx))
        if idx in self.written:
            shaped = {**shaped, **self.written[idx]}
        return shaped

    def blob(self, idx: int) -> bytes:
        raw = self.blobs[idx]
        if raw is None:
            raw = self.blobs[idx] = encode(self.shaped(idx), self.php)
        return raw

    def page(self, positions: list[int]) -> bytes:
        blobs, blob = self.blobs, self.blob
        parts = [blobs[i] or blob(i) for i in positions]
        if not parts:
            return b"[]"
        # Brackets go on the end items so the page is copied once, by the join.
        parts[0] = b"[" + parts[0]
        parts[-1] = parts[-1] + b"]"
        return b",".join(parts)

    def listing(
        self, statuses: frozenset[int], bounds: tuple[tuple[str, int, int], ...], orderby: str, desc: bool
    ) -> list[int]:
        """Positions matching, in order; ``bounds`` = (column, low, high) with exclusive bounds."""
        key = (statuses, bounds, orderby, desc)
        hit = self._listings.get(key)
        if hit is not None:
            return hit
        base = self._sorted.get(orderby)
        if base is None:
            # Stable sort over positions (= id order) breaks date ties by id, like WP's "date ID".
            column = {"date": self.created_local, "modified": self.modified_local}.get(orderby)
            base = (
                list(range(len(self.ids)))
                if column is None
                else sorted(range(len(self.ids)), key=column.__getitem__)
            )
            self._sorted[orderby] = base
        st = self.status
        result = [i for i in base if st[i] in statuses]
        for name, low, high in bounds:
            col = getattr(self, name)
            result = [i for i in result if low < col[i] < high]
        if desc:
            result.reverse()
        self._listings[key] = result
        return result

    # -- writing ----------------------------------------------------------------------------

    def _changed(self) -> None:
        self._listings.clear()
        self._sorted.clear()

    def add(self, created: int, status: str, overrides: dict[str, Any]) -> int:
        oid = (self.ids[-1] if self.ids else 1000) + 1
        idx = self._append(oid, created, created, CODE[status])
        if overrides:
            self.overrides[idx] = overrides
        self._changed()
        return oid

    def drift(self, positions: list[int], create: int, modify: int) -> None:
        """Page drift, once per shop lifetime, right after a first page was served:
        ``create`` new orders arrive and the first ``modify`` listed ones change status."""
        if self.drifted or not (create or modify):
            return
        self.drifted = True
        now = int(time.time())
        for _ in range(create):
            self.add(now, "processing", {})
        for idx in positions[:modify]:
            current = ALL_STATUSES[self.status[idx]]
            self.set_status(idx, "completed" if current != "completed" else "refunded")

    def set_status(self, idx: int, status: str) -> None:
        self.written.get(idx, {}).pop("current_state", None)  # a PrestaShop state set before is replaced
        now = max(int(time.time()), self.modified[idx] + 1)
        self.status[idx] = CODE[status]
        self.modified[idx] = now
        self.modified_local[idx] = self.ctx.clock.local(now)
        self.blobs[idx] = None
        self._changed()

    def write_fields(self, idx: int, fields: dict[str, Any]) -> None:
        """The shop accepted a write of these fields: the order shows them and counts as modified."""
        self.written.setdefault(idx, {}).update(fields)
        now = max(int(time.time()), self.modified[idx] + 1)
        self.modified[idx] = now
        self.modified_local[idx] = self.ctx.clock.local(now)
        self.blobs[idx] = None
        self._changed()

    def remove(self, idx: int) -> None:
        self.status[idx] = GONE
        self.blobs[idx] = None
        self._changed()
