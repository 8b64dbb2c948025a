"""Reading an order's stored JSON without trusting it.

The parsing core checks only the fields a platform maps to columns; the rest of an order's raw
JSON (its refunds, fee lines, addresses, checkout attributes) is read later by the platform's
``buyer`` and ``refunds`` readers.  Shops send anything there: a list where an object belongs, a
number as a word, ``1e400``, a lone ``\\ud800``.  :class:`Node` walks the payload the way the core
reads a page (a null, a missing key and PHP's empty array ``[]`` are "nothing"; any other wrong
type is an error) and words every refusal as the core does: a :class:`ParseError` naming the
order and the field, with its JSON path (``$.refunds[0].total``).
"""

from __future__ import annotations

import json
import re
from decimal import Decimal, DecimalException
from typing import Any

import orjson

from fastimport import _core_shared as sh
from fastimport.columns import PathPart
from fastimport.errors import ParseError

# The most a till amount can hold: int64 cents, as the core's money columns.
MONEY_LIMIT = Decimal(2**63 - 1).scaleb(-2)
_INT = re.compile(r"-?[0-9]+\Z")
_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?\Z")  # a JSON number, as the core's money


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _loads(payload: bytes) -> Any:
    """orjson, or the standard decoder for what orjson refuses and JSON allows: a number beyond a
    double (``1e400``, kept exact as a Decimal) and an unpaired surrogate escape."""
    try:
        return orjson.loads(payload)
    except orjson.JSONDecodeError:
        pass
    try:
        return json.loads(payload, parse_float=Decimal, parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as e:
        raise ParseError(f"stored order is not valid JSON: {e}", path="$") from None


class Node:
    """One value of a stored order and where it is (``steps`` from the order).

    A node keeps its parent and its own step; the path is only spelled out for an error message
    (an invoice batch walks some 25 fields of every order, and almost never refuses one).
    """

    __slots__ = ("order", "parent", "step", "value")

    def __init__(
        self, value: Any, parent: Node | None = None, step: PathPart = "", order: object = "?"
    ) -> None:
        self.value = value
        self.parent = parent
        self.step = step
        self.order = order

    @property
    def steps(self) -> tuple[PathPart, ...]:
        out: list[PathPart] = []
        node: Node | None = self
        while node is not None and node.parent is not None:
            out.append(node.step)
            node = node.parent
        return tuple(reversed(out))

    @classmethod
    def load(cls, payload: bytes) -> Node:
        """The order in ``payload``, which must be an object."""
        root = cls(_loads(payload))
        if type(root.value) is not dict:
            raise root.error(sh.E_EXPECT_OBJ)
        oid = root.value.get("id")
        root.order = oid if type(oid) is int else "?"
        return root

    @classmethod
    def under(cls, payload: bytes, key: str, order: object) -> Node:
        """The JSON in ``payload`` read as the value at ``key`` of order ``order``: what a connector
        fetched apart (an order's refunds) and keeps in the order there, so a refusal names the order
        and the path the stored order will have (``$.key[0].total``)."""
        try:
            value = _loads(payload)
        except ParseError:
            raise ParseError(f"order {order}: {key} is not valid JSON", path=f"$.{key}") from None
        return cls({key: value}, order=order)[key]

    def error(self, code: int) -> ParseError:
        """The core's wording for ``code`` at this value: ``order 12: refunds[0].total: ...``."""
        where = sh.render_steps(self.steps, absolute=False)
        value = self.value
        if type(value) in (int, float, Decimal):  # a number reads as its JSON text, as the core shows it
            value = sh.Num(value)
        what = sh._WHAT[code].format(sh.describe(value))
        message = f"order {self.order}: " + (f"{where}: " if where else "") + what
        return ParseError(message, path="$" + sh.render_steps(self.steps, absolute=True))

    def _child(self, value: Any, step: PathPart) -> Node:
        return Node(value, self, step, self.order)

    def absent(self) -> bool:
        """Null, missing, or PHP's empty array: nothing there."""
        return self.value is None or (type(self.value) is list and not self.value)

    def is_object(self) -> bool:
        return type(self.value) is dict

    def __getitem__(self, key: str) -> Node:
        """The value at ``key`` (nothing when absent); an error when this is neither an object nor absent."""
        v = self.value
        if type(v) is dict:  # the common case first; absent() spelled out: this runs per field per order
            return Node(v.get(key), self, key, self.order)
        if v is None or (type(v) is list and not v):
            return Node(None, self, key, self.order)
        raise self.error(sh.E_EXPECT_OBJ)

    def items(self) -> list[Node]:
        """The elements of an array (none when absent); an error for anything else."""
        if self.value is None:
            return []
        if type(self.value) is not list:
            raise self.error(sh.E_EXPECT_ARR)
        return [self._child(v, i) for i, v in enumerate(self.value)]

    def objects(self) -> list[Node]:
        """The elements of an array of objects (an absent element is skipped)."""
        out = []
        for item in self.items():
            if item.absent():
                continue
            if not item.is_object():
                raise item.error(sh.E_EXPECT_OBJ)
            out.append(item)
        return out

    def text(self) -> str | None:
        """A string (a number or a boolean as its JSON text); None for nothing or ``""``."""
        v = self.value
        if type(v) is str:
            if not v:
                return None
            if not v.isascii():
                try:
                    v.encode("utf-8")
                except UnicodeEncodeError:
                    raise self.error(sh.E_SURROGATE) from None
            return v
        if self.absent():
            return None
        if type(v) is bool:
            return "true" if v else "false"
        if type(v) in (int, float, Decimal):
            return str(v)
        raise self.error(sh.E_EXPECT_STR)

    def money(self) -> Decimal | None:
        """An amount (a JSON number or a numeric string), finite and within the till's range."""
        v = self.value
        if self.absent() or v == "":
            return None
        if type(v) is bool or type(v) not in (str, int, float, Decimal):
            raise self.error(sh.E_EXPECT_MONEY)
        text = v.strip() if type(v) is str else str(v)
        if not _NUMBER.match(text):
            raise self.error(sh.E_EXPECT_MONEY)
        try:
            amount = Decimal(text)
        except DecimalException:  # not a number, or an exponent beyond any context (1e999999999)
            raise self.error(sh.E_EXPECT_MONEY) from None
        if not amount.is_finite():
            raise self.error(sh.E_EXPECT_MONEY)
        if amount.copy_abs() > MONEY_LIMIT:  # copy_abs: exact, no context to overflow
            raise self.error(sh.E_MONEY_RANGE)
        return amount

    def integer(self, *, required: bool = False) -> int | None:
        """A 64-bit integer (or its digits as a string); None for nothing, unless ``required``."""
        v = self.value
        if self.absent() or v == "":
            if required:
                raise self.error(sh.E_REQUIRED_MISSING)
            return None
        if type(v) is str and _INT.match(v):
            if len(v.lstrip("-").lstrip("0")) > 19:
                raise self.error(sh.E_INT_RANGE)
            v = int(v)
        if type(v) is not int:
            raise self.error(sh.E_EXPECT_INT)
        if not -(2**63) <= v < 2**63:
            raise self.error(sh.E_INT_RANGE)
        return v
