"""Recognising the till's own writes when the shop sends them back.

After an invoice the till tells the shop each step (a status, a note, the invoice number, a tag); the
shop then counts the order as modified and the next import reads a new version of it.  That version is
no news from the shop when it differs from the last one seen only in what the till's pushes set: each
platform names those fields (:attr:`fastimport.io.platform.Platform.till_echo`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

Json = dict[str, Any]


def same_but(old: bytes, new: bytes, drop: Callable[[Json], Json]) -> bool:
    """Whether two versions of an order are equal once ``drop`` took out what the till's pushes set."""
    try:
        a, b = orjson.loads(old), orjson.loads(new)
    except orjson.JSONDecodeError:
        return False
    if not isinstance(a, dict) or not isinstance(b, dict):
        return False
    return drop(a) == drop(b)


def without(
    order: Json, keys: frozenset[str], lines: str | None = None, line_keys: frozenset[str] = frozenset()
) -> Json:
    """The order without ``keys`` (and each of its ``lines`` without ``line_keys``)."""
    out = {k: v for k, v in order.items() if k not in keys}
    if lines is not None and isinstance(out.get(lines), list):
        out[lines] = [
            {k: v for k, v in line.items() if k not in line_keys} if isinstance(line, dict) else line
            for line in out[lines]
        ]
    return out
