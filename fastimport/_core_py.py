"""Pure-Python twin of the compiled core: same names, results and error messages.

Correctness and agreement with ``_core`` matter here, not speed.  The stdlib
``json`` decoder reads the values (numbers kept as literal text, so money is
exact); a small char-level validator runs only when a page is invalid, to give
the same error offset as the compiled scanner.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from typing import Any, Final

import pyarrow as pa

from fastimport import _core_shared as sh
from fastimport._core_shared import Num, ParsedPage
from fastimport.columns import CHANGED, NEW, REPEAT, UNCHANGED, PageSpec, PathPart
from fastimport.errors import ParseError

__all__ = ["Dedup", "ParsedPage", "parse_page"]

INT64_MIN: Final[int] = -(2**63)
INT64_MAX: Final[int] = 2**63 - 1

scanstring: Callable[[str, int, bool], tuple[str, int]] = json.decoder.scanstring  # type: ignore[attr-defined]
_WS = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder(parse_int=Num, parse_float=Num, parse_constant=sh._raise_constant)
_RAW_DECODE = _DECODER.raw_decode

_MISSING: Final = object()


class _Invalid(Exception):
    """The fast path met something it cannot read: let the validator find the error."""


# ---------------------------------------------------------------------------- validator


def _find_syntax_error(p: bytes) -> tuple[int, bool, bool]:
    """(offset, in_string, too_deep) of the first syntax error; mirrors the compiled scanner."""
    n = len(p)

    class Err(Exception):
        def __init__(self, at: int, in_string: bool = False, deep: bool = False) -> None:
            self.at, self.in_string, self.deep = at, in_string, deep

    def ws(i: int) -> int:
        while i < n and p[i] in b" \t\n\r":
            i += 1
        return i

    def string(i: int) -> int:
        i += 1
        while True:
            if i >= n:
                raise Err(i, True)
            c = p[i]
            if c == 0x22:
                return i + 1
            if c == 0x5C:
                i += 1
                if i >= n:
                    raise Err(i, True)
                if p[i] in b'"\\/bfnrt':
                    i += 1
                elif p[i] == 0x75:
                    i += 1
                    for _ in range(4):
                        if i >= n or p[i] not in b"0123456789abcdefABCDEF":
                            raise Err(i, True)
                        i += 1
                else:
                    raise Err(i, True)
            elif c < 0x20:
                raise Err(i, True)
            else:
                i += 1

    def digits(i: int) -> int:
        if i >= n or not 0x30 <= p[i] <= 0x39:
            raise Err(i)
        while i < n and 0x30 <= p[i] <= 0x39:
            i += 1
        return i

    def number(i: int) -> int:
        if p[i] == 0x2D:
            i += 1
        if i >= n:
            raise Err(i)
        if p[i] == 0x30:
            i += 1
        else:
            i = digits(i)
        if i < n and p[i] == 0x2E:
            i = digits(i + 1)
        if i < n and p[i] in b"eE":
            i += 1
            if i < n and p[i] in b"+-":
                i += 1
            i = digits(i)
        return i

    def value(i: int, depth: int) -> int:
        if i >= n:
            raise Err(i)
        c = p[i]
        if c == 0x7B or c == 0x5B:
            if depth + 1 > sh.MAX_DEPTH:
                raise Err(i, deep=True)
            close = 0x7D if c == 0x7B else 0x5D
            i = ws(i + 1)
            if i < n and p[i] == close:
                return i + 1
            while True:
                if c == 0x7B:
                    if i >= n or p[i] != 0x22:
                        raise Err(i)
                    i = ws(string(i))
                    if i >= n or p[i] != 0x3A:
                        raise Err(i)
                    i = ws(i + 1)
                i = ws(value(i, depth + 1))
                if i < n and p[i] == 0x2C:
                    i = ws(i + 1)
                elif i < n and p[i] == close:
                    return i + 1
                else:
                    raise Err(i)
        if c == 0x22:
            return string(i)
        if c == 0x2D or 0x30 <= c <= 0x39:
            return number(i)
        for word in (b"true", b"false", b"null"):
            if c == word[0]:
                for k in range(len(word)):
                    if i + k >= n or p[i + k] != word[k]:
                        raise Err(i + k)
                return i + len(word)
        raise Err(i)

    try:
        i = ws(value(ws(0), 0))
        if i != n:
            raise Err(i)
    except Err as e:
        return e.at, e.in_string, e.deep
    raise AssertionError("validator found no error in a page the decoder refused")  # pragma: no cover


def _syntax_error(page: bytes) -> ParseError:
    at, in_string, deep = _find_syntax_error(page)
    return sh.json_error(sh.syntax_reason(page, at, in_string, deep), at)


# ---------------------------------------------------------------------------- page walk


def _depth(v: Any) -> int:
    if type(v) is dict:
        return 1 + max(map(_depth, v.values()), default=0)
    if type(v) is list:
        return 1 + max(map(_depth, v), default=0)
    return 0


class _Walk:
    """Finds the orders array along ``orders_path`` in the text, validating every value."""

    def __init__(self, s: str, path: tuple[PathPart, ...]) -> None:
        self.s = s
        self.path = path

    def skip(self, pos: int, depth: int) -> tuple[Any, int]:
        value, end = _RAW_DECODE(self.s, pos)
        if depth + _depth(value) > sh.MAX_DEPTH:
            raise _Invalid
        return value, end

    def ws(self, pos: int) -> int:
        return _WS.match(self.s, pos).end()  # type: ignore[union-attr]

    def walk(self, pos: int, k: int, depth: int) -> tuple[tuple[Any, ...], int]:
        """Outcome at ``path[k:]`` for the value at ``pos``, and where the value ends."""
        s = self.s
        c = s[pos : pos + 1]
        if k == len(self.path):
            if c == "[":
                return self.elements(pos, depth)
            value, end = self.skip(pos, depth)
            if value is None:
                return ("none",), end
            return ("error", sh.E_EXPECT_ORDERS, k, sh.describe(value)), end
        step = self.path[k]
        if c == "{" and isinstance(step, str) and depth < sh.MAX_DEPTH:
            outcome: tuple[Any, ...] = ("none",)
            pos = self.ws(pos + 1)
            if s[pos : pos + 1] == "}":
                return outcome, pos + 1
            while True:
                if s[pos : pos + 1] != '"':
                    raise _Invalid
                key, pos = scanstring(s, pos + 1, True)
                pos = self.ws(pos)
                if s[pos : pos + 1] != ":":
                    raise _Invalid
                pos = self.ws(pos + 1)
                if key == step:
                    outcome, pos = self.walk(pos, k + 1, depth + 1)
                else:
                    pos = self.skip(pos, depth + 1)[1]
                pos = self.ws(pos)
                c = s[pos : pos + 1]
                if c == "}":
                    return outcome, pos + 1
                if c != ",":
                    raise _Invalid
                pos = self.ws(pos + 1)
        if c == "[" and isinstance(step, int) and depth < sh.MAX_DEPTH:
            outcome = ("none",)
            pos = self.ws(pos + 1)
            if s[pos : pos + 1] == "]":
                return outcome, pos + 1
            index = 0
            while True:
                if index == step:
                    outcome, pos = self.walk(pos, k + 1, depth + 1)
                else:
                    pos = self.skip(pos, depth + 1)[1]
                index += 1
                pos = self.ws(pos)
                c = s[pos : pos + 1]
                if c == "]":
                    return outcome, pos + 1
                if c != ",":
                    raise _Invalid
                pos = self.ws(pos + 1)
        value, end = self.skip(pos, depth)
        if value is None or (value == [] and isinstance(step, str)):
            return ("none",), end
        code = sh.E_EXPECT_OBJ if isinstance(step, str) else sh.E_EXPECT_ARR
        return ("error", code, k, sh.describe(value)), end

    def elements(self, pos: int, depth: int) -> tuple[tuple[Any, ...], int]:
        if depth >= sh.MAX_DEPTH:
            raise _Invalid
        s = self.s
        elems: list[tuple[Any, int, int]] = []
        pos = self.ws(pos + 1)
        if s[pos : pos + 1] == "]":
            return ("orders", elems), pos + 1
        while True:
            value, end = self.skip(pos, depth + 1)
            elems.append((value, pos, end))
            pos = self.ws(end)
            c = s[pos : pos + 1]
            if c == "]":
                return ("orders", elems), pos + 1
            if c != ",":
                raise _Invalid
            pos = self.ws(pos + 1)


# ---------------------------------------------------------------------------- conversions

_INT_STR = re.compile(r"-?[0-9]+\Z")
_INT_LIT = re.compile(r"-?(?:0|[1-9][0-9]*)\Z")
_MONEY = re.compile(r"(-?)([0-9]+)(?:\.([0-9]+))?(?:[eE]([+-]?[0-9]+))?\Z")
_DT = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[T ]([0-9]{2}):([0-9]{2}):([0-9]{2})"
    r"(?:\.([0-9]{1,9}))?(Z|[+-][0-9]{2}:[0-9]{2})?\Z"
)
_ZERO_DATES = ("0000-00-00 00:00:00", "0000-00-00T00:00:00")
_EXP_CLAMP = 100_000


class _Bad(Exception):
    def __init__(self, code: int) -> None:
        self.code = code


def _parse_int_text(text: str) -> int:
    digits = text.lstrip("-").lstrip("0")
    if len(digits) > 19:
        raise _Bad(sh.E_INT_RANGE)
    v = int(text)
    if not INT64_MIN <= v <= INT64_MAX:
        raise _Bad(sh.E_INT_RANGE)
    return v


def _to_int(v: Any) -> int:
    if isinstance(v, Num):
        if not _INT_LIT.match(v):
            raise _Bad(sh.E_EXPECT_INT)
        return _parse_int_text(v)
    if type(v) is str and _INT_STR.match(v):
        return _parse_int_text(v)
    raise _Bad(sh.E_EXPECT_INT)


def _to_str(v: Any) -> str:
    if isinstance(v, Num):
        return str(v)
    if type(v) is str:
        try:
            v.encode("utf-8")
        except UnicodeEncodeError:
            raise _Bad(sh.E_SURROGATE) from None
        return v
    raise _Bad(sh.E_EXPECT_STR)


def _to_money(v: Any) -> int:
    if not isinstance(v, str):
        raise _Bad(sh.E_EXPECT_MONEY)
    m = _MONEY.match(v)
    if m is None:
        raise _Bad(sh.E_EXPECT_MONEY)
    neg, ipart, fpart, exp = m.groups()
    digits = ipart + (fpart or "")
    if digits.strip("0") == "":
        return 0
    e = 0
    if exp:
        mag = exp.lstrip("+-").lstrip("0")
        e = min(int(mag), _EXP_CLAMP) if len(mag) < 7 else _EXP_CLAMP
        if exp[0] == "-":
            e = -e
    point = len(ipart) + e + 2  # digits[:point] are whole cents
    cents = 0
    limit = 2**63 if neg else INT64_MAX
    for i in range(max(point, 0)):
        d = ord(digits[i]) - 48 if i < len(digits) else 0
        cents = cents * 10 + d
        if cents > limit:
            raise _Bad(sh.E_MONEY_RANGE)
    if point < 0:
        round_digit, sticky = 0, any(c != "0" for c in digits)
    else:
        round_digit = ord(digits[point]) - 48 if point < len(digits) else 0
        sticky = any(c != "0" for c in digits[point + 1 :])
    if round_digit > 5 or (round_digit == 5 and (sticky or cents & 1)):
        cents += 1
        if cents > limit:
            raise _Bad(sh.E_MONEY_RANGE)
    return -cents if neg else cents


_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _days_from_civil(y: int, m: int, d: int) -> int:
    y -= m <= 2
    era = (y if y >= 0 else y - 399) // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def _to_datetime(v: Any) -> int | None:
    if type(v) is not str:
        raise _Bad(sh.E_EXPECT_DT)
    if v in _ZERO_DATES:
        return None
    m = _DT.match(v)
    if m is None:
        raise _Bad(sh.E_EXPECT_DT)
    y, mo, d, h, mi, sec = (int(g) for g in m.groups()[:6])
    frac, off = m.group(7), m.group(8)
    leap = y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)
    if not (y >= 1 and 1 <= mo <= 12 and h <= 23 and mi <= 59 and sec <= 59):
        raise _Bad(sh.E_EXPECT_DT)
    if not 1 <= d <= _DAYS[mo - 1] + (mo == 2 and leap):
        raise _Bad(sh.E_EXPECT_DT)
    offset = 0
    if off and off != "Z":
        oh, om = int(off[1:3]), int(off[4:6])
        if oh > 23 or om > 59:
            raise _Bad(sh.E_EXPECT_DT)
        offset = (oh * 3600 + om * 60) * (-1 if off[0] == "-" else 1)
    us = int((frac or "0")[:6].ljust(6, "0"))
    secs = _days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - offset
    return secs * 1_000_000 + us


def _to_bool(v: Any) -> bool:
    if v is True or v is False:
        return v
    if type(v) is str and v in ("0", "1"):
        return v == "1"
    raise _Bad(sh.E_EXPECT_BOOL)


_CONVERT = {"int": _to_int, "str": _to_str, "money": _to_money, "datetime": _to_datetime, "bool": _to_bool}


class _FieldError(Exception):
    def __init__(self, code: int, rel: tuple[PathPart, ...], desc: str) -> None:
        self.code, self.rel, self.desc = code, rel, desc


def _get(obj: dict[str, Any], steps: tuple[PathPart, ...], base: tuple[PathPart, ...]) -> Any:
    """The value at ``steps`` (``_MISSING`` if absent), or _FieldError on a wrong container."""
    cur: Any = obj
    for k, step in enumerate(steps):
        if k and cur is None:
            return _MISSING
        if isinstance(step, str):
            if type(cur) is not dict:
                if type(cur) is list and not cur:
                    return _MISSING
                raise _FieldError(sh.E_EXPECT_OBJ, base + steps[:k], sh.describe(cur))
            if step not in cur:
                return _MISSING
        else:
            if type(cur) is not list:
                raise _FieldError(sh.E_EXPECT_ARR, base + steps[:k], sh.describe(cur))
            if step >= len(cur):
                return _MISSING
        cur = cur[step]
    return cur


class _Columns:
    def __init__(self, fields: list[tuple[str, str, bool, tuple[PathPart, ...]]]) -> None:
        self.fields = fields
        self.values: list[list[Any]] = [[] for _ in fields]

    def add(self, obj: dict[str, Any], base: tuple[PathPart, ...]) -> None:
        row = []
        for _name, kind, required, path in self.fields:
            v = _get(obj, path, base)
            if v is _MISSING or v is None:
                out = None
            else:
                try:
                    out = _CONVERT[kind](v)
                except _Bad as e:
                    raise _FieldError(e.code, base + path, sh.describe(v)) from None
            if out is None and required:
                code = sh.E_REQUIRED_MISSING if v is _MISSING else sh.E_REQUIRED_NULL
                raise _FieldError(code, base + path, "")
            row.append(out)
        for col, out in zip(self.values, row, strict=True):
            col.append(out)

    def arrays(self) -> list[pa.Array]:
        return [
            pa.array(vals, type=sh.ARROW_TYPES[kind])
            for vals, (_n, kind, _r, _p) in zip(self.values, self.fields, strict=True)
        ]


def _as_object(v: Any) -> dict[str, Any] | None:
    if type(v) is dict:
        return v
    if type(v) is list and not v:
        return {}
    return None


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

    def memory_bytes(self) -> int:
        """Rough bytes held by the dict and its tuples (ints counted at 32 bytes)."""
        return sys.getsizeof(self._known) + len(self._known) * (sys.getsizeof((0, 0, False)) + 3 * 32)

    def __len__(self) -> int:
        return len(self._known)

    def __contains__(self, order_id: object, /) -> bool:
        return isinstance(order_id, int) and order_id in self._known
