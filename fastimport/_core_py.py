"""Pure-Python twin of the compiled core: same names, results and error messages.

Correctness and agreement with ``_core`` matter here, not speed.  The sections
live beside it as the compiled core's include files do: ``_core_py_json``
(reading and validating the page), ``_core_py_convert`` (numbers and dates) and
``_core_py_columns`` (column builders); :func:`parse_page` and :class:`Dedup`
are here.
"""

from __future__ import annotations

import sys
from typing import Any

import pyarrow as pa

from fastimport import _core_shared as sh
from fastimport._core_py_columns import _MISSING, _as_object, _Columns, _FieldError, _get
from fastimport._core_py_json import _Invalid, _syntax_error, _Walk
from fastimport._core_shared import ParsedPage
from fastimport.columns import CHANGED, NEW, REPEAT, UNCHANGED, PageSpec

__all__ = ["Dedup", "ParsedPage", "parse_page"]


class _Compiled:
    def __init__(self, spec: PageSpec) -> None:
        sh.check_spec(spec)
        self.spec = spec
        self.order_fields = sh.field_info(spec.order_fields)
        self.line_fields = sh.field_info(spec.line_fields)
        self.orders_schema = sh.orders_schema(spec)
        self.lines_schema = sh.lines_schema(spec)


_CACHE: dict[int, tuple[PageSpec, _Compiled]] = {}


def _compiled(spec: PageSpec) -> _Compiled:
    hit = _CACHE.get(id(spec))
    if hit is not None and hit[0] is spec:
        return hit[1]
    if len(_CACHE) > 64:
        _CACHE.clear()
    comp = _Compiled(spec)
    _CACHE[id(spec)] = (spec, comp)
    return comp


def parse_page(page: bytes, spec: PageSpec) -> ParsedPage:
    """Read one page of orders into Arrow tables (see ``_core_shared`` for error precedence)."""
    if isinstance(page, str):
        raise TypeError("page must be bytes, not str")
    page = bytes(page)
    comp = _compiled(spec)
    try:
        s = page.decode("utf-8")
    except UnicodeDecodeError as e:
        raise sh.utf8_error(e.start) from None
    walker = _Walk(s, spec.orders_path)
    try:
        pos = walker.ws(0)
        if pos >= len(s):
            raise _Invalid
        outcome, pos = walker.walk(pos, 0, 0)
        if walker.ws(pos) != len(s):
            raise _Invalid
    except (_Invalid, ValueError, RecursionError):  # JSONDecodeError is a ValueError
        raise _syntax_error(page) from None
    if outcome[0] == "error":
        _, code, k, desc = outcome
        raise sh.page_error(code, spec.orders_path[:k], desc)
    elems = outcome[1] if outcome[0] == "orders" else []

    orders = _Columns(comp.order_fields)
    lines = _Columns(comp.line_fields)
    raws: list[bytes] = []
    line_index: list[int] = []
    line_no: list[int] = []
    lines_path = spec.lines_path
    for i, (value, start, end) in enumerate(elems):
        try:
            obj = _as_object(value)
            if obj is None:
                raise _FieldError(sh.E_EXPECT_OBJ, (), sh.describe(value))
            orders.add(obj, ())
            items = _get(obj, lines_path, ())
            if items is _MISSING or items is None:
                items = []
            elif type(items) is not list:
                raise _FieldError(sh.E_EXPECT_ARR, lines_path, sh.describe(items))
            for j, item in enumerate(items):
                line = _as_object(item)
                if line is None:
                    raise _FieldError(sh.E_EXPECT_OBJ, (*lines_path, j), sh.describe(item))
                lines.add(line, (*lines_path, j))
                line_index.append(i)
                line_no.append(j)
        except _FieldError as e:
            raise sh.field_error(e.code, spec.orders_path, i, e.rel, e.desc) from None
        raws.append(s[start:end].encode("utf-8"))

    order_arrays = orders.arrays()
    order_arrays.append(pa.array(raws, type=pa.binary()))
    order_arrays.append(pa.array([sh.content_hash(r) for r in raws], type=pa.int64()))
    line_arrays = [pa.array(line_index, type=pa.int32()), pa.array(line_no, type=pa.int32())]
    line_arrays += lines.arrays()
    return ParsedPage(
        pa.Table.from_arrays(order_arrays, schema=comp.orders_schema),
        pa.Table.from_arrays(line_arrays, schema=comp.lines_schema),
    )


# ---------------------------------------------------------------------------- dedup


class Dedup:
    """Order id -> fingerprint (modified_at, content_hash) for one store; see ``columns`` answers."""

    def __init__(self) -> None:
        self._known: dict[int, tuple[int, int, bool]] = {}

    def load(self, order_ids: Any, modified_at: Any, content_hash: Any) -> None:
        ids = sh.as_int64(order_ids, "order_ids")
        mod = sh.as_int64(modified_at, "modified_at")
        hashes = sh.as_int64(content_hash, "content_hash")
        sh.check_same_length(ids, mod, hashes)
        known = self._known
        for oid, m, h in zip(ids.tolist(), mod.tolist(), hashes.tolist(), strict=True):
            known[oid] = (m, h, False)

    def classify(self, order_ids: Any, modified_at: Any, content_hash: Any) -> pa.Array:
        ids = sh.as_int64(order_ids, "order_ids")
        mod = sh.as_int64(modified_at, "modified_at")
        hashes = sh.as_int64(content_hash, "content_hash")
        sh.check_same_length(ids, mod, hashes)
        known = self._known
        out: list[int] = []
        for oid, m, h in zip(ids.tolist(), mod.tolist(), hashes.tolist(), strict=True):
            old = known.get(oid)
            if old is None:
                out.append(NEW)
            elif old[0] == m and old[1] == h:
                out.append(REPEAT if old[2] else UNCHANGED)
            else:
                out.append(CHANGED)
            known[oid] = (m, h, True)
        return pa.array(out, type=pa.int8())

    def settle(self, order_ids: Any, modified_at: Any, content_hash: Any) -> tuple[int, int] | None:
        """(unchanged, repeated) when every order is known with this very fingerprint, marked as seen as
        ``classify`` would; else None and nothing changes (the page then goes the whole way)."""
        ids = sh.as_int64(order_ids, "order_ids")
        mod = sh.as_int64(modified_at, "modified_at")
        hashes = sh.as_int64(content_hash, "content_hash")
        sh.check_same_length(ids, mod, hashes)
        known = self._known
        rows = list(zip(ids.tolist(), mod.tolist(), hashes.tolist(), strict=True))
        for oid, m, h in rows:
            old = known.get(oid)
            if old is None or old[0] != m or old[1] != h:
                return None
        repeated = 0
        for oid, m, h in rows:
            repeated += known[oid][2]
            known[oid] = (m, h, True)
        return len(rows) - repeated, repeated

    def memory_bytes(self) -> int:
        """Rough bytes held by the dict and its tuples (ints counted at 32 bytes)."""
        return sys.getsizeof(self._known) + len(self._known) * (sys.getsizeof((0, 0, False)) + 3 * 32)

    def __len__(self) -> int:
        return len(self._known)

    def __contains__(self, order_id: object, /) -> bool:
        return isinstance(order_id, int) and order_id in self._known
