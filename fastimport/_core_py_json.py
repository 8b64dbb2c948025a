"""The pure-Python twin's JSON reading (the ``_core_json.pxi`` and ``_core_scan.pxi`` of ``_core``).

The stdlib ``json`` decoder reads the values (numbers kept as literal text, so
money is exact) while :class:`_Walk` follows ``orders_path`` to the orders
array; a small char-level validator runs only when a page is invalid, to give
the same error offset as the compiled scanner.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from fastimport import _core_shared as sh
from fastimport._core_shared import Num
from fastimport.columns import PathPart
from fastimport.errors import ParseError

scanstring: Callable[[str, int, bool], tuple[str, int]] = json.decoder.scanstring  # type: ignore[attr-defined]
_WS = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder(parse_int=Num, parse_float=Num, parse_constant=sh._raise_constant)
_RAW_DECODE = _DECODER.raw_decode


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
