"""What the two parsing cores share: limits, error codes and messages, spec checks, ParsedPage.

Both ``_core`` (Cython) and ``_core_py`` (pure Python) import this module, so a
message or a limit cannot drift between them.  Only the error paths and the
per-spec set-up run here; the hot loops live in each core.

Error precedence (both cores report the same *first* error):

1. the page must be valid UTF-8 (offset of the first bad sequence);
2. the whole page must be valid JSON (RFC 8259, nesting at most ``MAX_DEPTH``);
   the offset reported is the length of the longest prefix of the page that
   could still begin a valid document, i.e. the first byte that cannot;
3. the path to the orders array (``orders_path``);
4. then order by order, in page order: the order itself must be an object, its
   fields in spec order, the lines array, then line by line its fields in spec
   order.

Duplicate keys: the last one wins (as in ``json.loads``), at every level.
"""

from __future__ import annotations

import json
import re
from typing import Any, Final

import pyarrow as pa
from xxhash import xxh3_64_intdigest

from fastimport.columns import (
    HASH_COLUMN,
    KINDS,
    LINE_NO_COLUMN,
    ORDER_INDEX_COLUMN,
    RAW_COLUMN,
    FieldSpec,
    PageSpec,
    PathPart,
)
from fastimport.errors import ParseError

MAX_DEPTH: Final[int] = 256  # deepest nesting of arrays/objects a page may have
DESC_MAX: Final[int] = 60  # longest rendering of a bad value in a message

ARROW_TYPES: Final[dict[str, pa.DataType]] = {
    "int": pa.int64(),
    "str": pa.large_string(),
    "money": pa.int64(),
    "datetime": pa.int64(),
    "bool": pa.bool_(),
}

# Field error codes; each core detects them, this module words them.
E_REQUIRED_MISSING: Final[int] = 1
E_REQUIRED_NULL: Final[int] = 2
E_EXPECT_OBJ: Final[int] = 3
E_EXPECT_ARR: Final[int] = 4
E_EXPECT_INT: Final[int] = 5
E_INT_RANGE: Final[int] = 6
E_EXPECT_STR: Final[int] = 7
E_SURROGATE: Final[int] = 8
E_EXPECT_MONEY: Final[int] = 9
E_MONEY_RANGE: Final[int] = 10
E_EXPECT_DT: Final[int] = 11
E_EXPECT_BOOL: Final[int] = 12
E_EXPECT_ORDERS: Final[int] = 13

_WHAT: Final[dict[int, str]] = {
    E_REQUIRED_MISSING: "required value is missing",
    E_REQUIRED_NULL: "required value is null",
    E_EXPECT_OBJ: "expected an object, got {}",
    E_EXPECT_ARR: "expected an array, got {}",
    E_EXPECT_INT: "expected an integer, got {}",
    E_INT_RANGE: "integer out of range (64-bit), got {}",
    E_EXPECT_STR: "expected a string, got {}",
    E_SURROGATE: "string contains an unpaired surrogate escape",
    E_EXPECT_MONEY: "expected an amount of money, got {}",
    E_MONEY_RANGE: "amount of money out of range, got {}",
    E_EXPECT_DT: "expected a date-time like 2024-01-31T12:00:00Z, got {}",
    E_EXPECT_BOOL: "expected true or false, got {}",
    E_EXPECT_ORDERS: "expected an array of orders, got {}",
}


class Num(str):
    """A JSON number kept as its literal text (exact; no float rounding)."""

    __slots__ = ()


def _raise_constant(name: str) -> Any:
    raise ValueError(name)


def loads_exact(text: str | bytes) -> Any:
    """``json.loads`` keeping numbers as :class:`Num` literals and refusing NaN/Infinity."""
    return json.loads(text, parse_int=Num, parse_float=Num, parse_constant=_raise_constant)


def describe(value: Any) -> str:
    """A bad value as a message shows it: its JSON text, shortened."""
    if value is None:
        text = "null"
    elif value is True:
        text = "true"
    elif value is False:
        text = "false"
    elif isinstance(value, Num):
        text = str(value)
    elif isinstance(value, str):
        text = json.dumps(value, ensure_ascii=False).encode("utf-8", "backslashreplace").decode("utf-8")
    elif isinstance(value, dict):
        return "an object"
    else:
        return "an array"
    if len(text) > DESC_MAX:
        text = text[: DESC_MAX - 3] + "..."
    return text


def describe_token(token: bytes) -> str:
    """:func:`describe` of one JSON scalar token (the compiled core's error path)."""
    if token[:1] == b"{":
        return "an object"
    if token[:1] == b"[":
        return "an array"
    return describe(loads_exact(token.decode("utf-8")))


_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def render_steps(steps: tuple[PathPart, ...] | list[PathPart], *, absolute: bool) -> str:
    """``("line_items", 0, "quantity")`` -> ``line_items[0].quantity`` (or ``.line_items...``)."""
    out: list[str] = []
    for step in steps:
        if isinstance(step, int):
            out.append(f"[{step}]")
        elif _IDENT.match(step):
            out.append(f".{step}" if out or absolute else step)
        else:
            out.append("[" + json.dumps(step, ensure_ascii=False) + "]")
    return "".join(out)


def json_error(reason: str, offset: int) -> ParseError:
    return ParseError(f"page is not valid JSON: {reason} at byte {offset}", path="$")


def utf8_error(offset: int) -> ParseError:
    return ParseError(f"page is not valid UTF-8 (at byte {offset})", path="$")


def syntax_reason(page: bytes, offset: int, in_string: bool, too_deep: bool) -> str:
    """Words for a JSON syntax error found at ``offset`` (the page is valid UTF-8)."""
    if too_deep:
        return f"nesting deeper than {MAX_DEPTH}"
    if offset >= len(page):
        return "unexpected end of data"
    byte = page[offset]
    if in_string:
        return "control character in string" if byte < 0x20 else "invalid escape in string"
    end = offset + 1
    while end < len(page) and (page[end] & 0xC0) == 0x80:
        end += 1
    return f"unexpected character {page[offset:end].decode('utf-8')!r}"


def page_error(code: int, prefix: tuple[PathPart, ...], desc: str) -> ParseError:
    where = render_steps(prefix, absolute=False)
    message = "page: " + (where + ": " if where else "") + _WHAT[code].format(desc)
    return ParseError(message, path="$" + render_steps(prefix, absolute=True))


def field_error(
    code: int,
    orders_path: tuple[PathPart, ...],
    order_index: int,
    rel: tuple[PathPart, ...],
    desc: str,
) -> ParseError:
    """The error for a bad value at ``rel`` (steps from the order) in order ``order_index``."""
    message = f"order {order_index}: "
    if rel:
        message += render_steps(rel, absolute=False) + ": "
    message += _WHAT[code].format(desc)
    path = (
        "$" + render_steps(orders_path, absolute=True) + f"[{order_index}]" + render_steps(rel, absolute=True)
    )
    return ParseError(message, path=path)


class ParsedPage:
    """One page as columns: ``orders`` (one row per order) and ``lines`` (one row per line)."""

    __slots__ = ("lines", "orders")

    def __init__(self, orders: pa.Table, lines: pa.Table) -> None:
        self.orders = orders
        self.lines = lines

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ParsedPage):
            return NotImplemented
        return bool(self.orders.equals(other.orders) and self.lines.equals(other.lines))

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"ParsedPage(orders={self.orders.num_rows} rows, lines={self.lines.num_rows} rows)"


_RESERVED_ORDERS = (RAW_COLUMN, HASH_COLUMN)
_RESERVED_LINES = (ORDER_INDEX_COLUMN, LINE_NO_COLUMN)


def _check_path(path: tuple[PathPart, ...], what: str, *, allow_empty: bool) -> None:
    if not path and not allow_empty:
        raise ValueError(f"{what}: empty path")
    for step in path:
        if isinstance(step, bool) or not isinstance(step, (str, int)):
            raise ValueError(f"{what}: path step {step!r} is neither a key nor an index")
        if isinstance(step, int) and step < 0:
            raise ValueError(f"{what}: negative index {step}")


def check_spec(spec: PageSpec) -> None:
    """Refuse a spec neither core could follow (ValueError), once per spec."""
    _check_path(spec.orders_path, "orders_path", allow_empty=True)
    _check_path(spec.lines_path, "lines_path", allow_empty=False)
    for fields, reserved in ((spec.order_fields, _RESERVED_ORDERS), (spec.line_fields, _RESERVED_LINES)):
        names: set[str] = set()
        for f in fields:
            if f.kind not in KINDS:
                raise ValueError(f"field {f.name!r}: unknown kind {f.kind!r}")
            if f.name in names or f.name in reserved:
                raise ValueError(f"field {f.name!r}: duplicate or reserved column name")
            names.add(f.name)
            _check_path(f.path, f"field {f.name!r}", allow_empty=False)
    n = len(spec.lines_path)
    for f in spec.order_fields:
        if f.path[:n] == spec.lines_path or spec.lines_path[: len(f.path)] == f.path:
            raise ValueError(f"field {f.name!r}: path overlaps lines_path {spec.lines_path!r}")


def orders_schema(spec: PageSpec) -> pa.Schema:
    cols = [pa.field(f.name, ARROW_TYPES[f.kind]) for f in spec.order_fields]
    cols += [pa.field(RAW_COLUMN, pa.binary()), pa.field(HASH_COLUMN, pa.int64())]
    return pa.schema(cols)


def lines_schema(spec: PageSpec) -> pa.Schema:
    cols = [pa.field(ORDER_INDEX_COLUMN, pa.int32()), pa.field(LINE_NO_COLUMN, pa.int32())]
    cols += [pa.field(f.name, ARROW_TYPES[f.kind]) for f in spec.line_fields]
    return pa.schema(cols)


_SIGN: Final[int] = 1 << 63


def content_hash(raw: bytes | memoryview) -> int:
    """XXH3-64 (seed 0) of ``raw``: the unsigned 64-bit digest as a two's-complement int64."""
    return (xxh3_64_intdigest(raw) ^ _SIGN) - _SIGN


def as_int64(values: Any, what: str) -> memoryview:
    """An int64 column (pyarrow array, or any buffer of 8-byte signed ints) as a ``q`` memoryview."""
    if isinstance(values, pa.ChunkedArray):  # a parsed page's column is one chunk: no copy then
        values = values.chunk(0) if values.num_chunks == 1 else values.combine_chunks()
    if isinstance(values, pa.Array):
        if values.type != pa.int64():
            raise ValueError(f"{what}: expected an int64 array, got {values.type}")
        if values.null_count:
            raise ValueError(f"{what}: {values.null_count} null value(s)")
        buf = values.buffers()[1]
        if buf is None:
            return memoryview(b"").cast("q")
        start = values.offset * 8
        return memoryview(buf)[start : start + len(values) * 8].cast("B").cast("q")
    try:
        view = memoryview(values)
    except TypeError:
        raise TypeError(
            f"{what}: expected a pyarrow int64 array or a buffer, got {type(values).__name__}"
        ) from None
    if view.itemsize != 8 or view.format.lstrip("@=<") not in ("q", "l"):
        raise ValueError(f"{what}: expected 8-byte signed integers, got format {view.format!r}")
    return view.cast("B").cast("q")


def check_same_length(*views: memoryview) -> int:
    n = len(views[0])
    if any(len(v) != n for v in views):
        raise ValueError(
            f"order_ids, modified_at and content_hash differ in length: {[len(v) for v in views]}"
        )
    return n


def field_info(fields: tuple[FieldSpec, ...]) -> list[tuple[str, str, bool, tuple[PathPart, ...]]]:
    return [(f.name, f.kind, f.required, f.path) for f in fields]
