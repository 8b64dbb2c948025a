"""A structure-aware mutator: half of the fuzzer's mutations change one value of a page's JSON.

libFuzzer's byte mutations mostly break a page's syntax, so they test the scanners; to reach the
converters, the field mappings and the readers, this mutator decodes the page, puts a hostile value
(a wrong type, an out-of-range number, a lone surrogate, a control character, deep nesting...) at
a random place, or removes or duplicates a key, and encodes it again, sometimes followed by a byte
mutation.  A page that does not decode is left to the byte mutations.
"""

from __future__ import annotations

import json
import random
from typing import Any

import atheris

# Literals json.dumps cannot write: a string "@@n" is replaced by the bytes n after encoding.
_RAW = {
    "@@1e400": b"1e400",
    "@@-1e-400": b"-1e-400",
    "@@-0": b"-0",
    "@@2**63": str(2**63).encode(),
    "@@big": b"1" + b"0" * 40,
    "@@NaN": b"NaN",
    "@@Infinity": b"Infinity",
    "@@nul": b'"a\x00b"',
    "@@esc": b'"\x1bp\x1dV"',
    "@@badutf8": b'"\xed\xa0\x80\xff"',
    "@@deep": b"[" * 300 + b"]" * 300,
}
HOSTILE: list[Any] = [
    None, True, False, 0, -1, 1.5, 2**63 - 1, -(2**63), 2**64, "", "abc", "1", "0", "-0.005", "12.50",
    "92233720368547758.08", "1e20", "2024-02-30T00:00:00", "0000-00-00 00:00:00", "2024-01-31T12:00:00+23:59",
    "\ud800", "\udc00x", "\U0001f600", "e\u0301", "\u202eRTL\u200f", "\x00\x1b@\x1bp\x1dV\x00", "x" * 3000,
    [], {}, [1], {"x": 1}, [[[[[]]]]], *_RAW,
]  # fmt: skip


def _places(value: Any, out: list[tuple[Any, Any]]) -> None:
    """Every (container, key or index) of a decoded page, depth first."""
    if isinstance(value, dict):
        for key in list(value):
            out.append((value, key))
            _places(value[key], out)
    elif isinstance(value, list):
        for index in range(len(value)):
            out.append((value, index))
            _places(value[index], out)


def _encode(value: Any, rng: random.Random) -> bytes:
    text = json.dumps(
        value, ensure_ascii=rng.random() < 0.5, separators=(",", ":") if rng.random() < 0.5 else None
    )
    data = text.encode("utf-8", "surrogatepass")
    for marker, raw in _RAW.items():
        data = data.replace(json.dumps(marker).encode(), raw)
    return data


def mutate_json(data: bytes, max_size: int, seed: int) -> bytes:
    """One structural mutation of ``data`` (or a byte mutation when it is not JSON)."""
    rng = random.Random(seed)
    if rng.random() < 0.5:
        return atheris.Mutate(data, max_size)
    try:
        page = json.loads(data)
    except (ValueError, RecursionError):
        return atheris.Mutate(data, max_size)
    places: list[tuple[Any, Any]] = []
    _places(page, places)
    if not places:
        return atheris.Mutate(data, max_size)
    for _ in range(rng.choice((1, 1, 2, 3))):
        container, key = rng.choice(places)
        how = rng.random()
        if how < 0.7:
            container[key] = rng.choice(HOSTILE)
        elif how < 0.85 and isinstance(container, dict):
            del container[key]
            places = []
            _places(page, places)
            if not places:
                break
        elif isinstance(container, list):
            container.insert(key, rng.choice(HOSTILE))
    out = _encode(page, rng)
    if isinstance(page, list | dict) and rng.random() < 0.3:  # a duplicate key, raw: json.dumps cannot
        at = out.find(b'{"')
        end = out.find(b",", at)
        if at >= 0 and end > at:
            out = out[: at + 1] + out[at + 1 : end] + b"," + out[at + 1 :]
    if rng.random() < 0.2:
        out = atheris.Mutate(out, max_size)
    return out[:max_size]
