"""Typed configuration on msgspec: tables become frozen Structs, errors name the bad key in plain words.

Every configuration room (stores, printers, seller, invoicing...) declares its table as a
:class:`msgspec.Struct` and reads it with :func:`convert`.  msgspec checks types, bounds and
enumerations; a check msgspec cannot express goes in the Struct's ``__post_init__`` and raises
:func:`invalid` so the message still names the field.  The message a user reads always starts with
the key's path as it appears in ``fastimport.toml``, e.g.
``stores[0] ('eshop-lyon').timezone 'Europe/Lyon' is not a known time zone``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, TypeVar

import msgspec
import msgspec.inspect as mi

from fastimport.errors import ConfigError

T = TypeVar("T")

_MARK = "\x1f"  # separates the field name from the reason in errors raised by __post_init__
_AT = re.compile(r"^(?P<reason>.*) - at `\$(?P<path>[^`]*)`$", re.S)
_STEP = re.compile(r"\.([A-Za-z_][\w-]*)|\[(\d+|\.\.\.)\]")


def invalid(field: str, reason: str) -> ValueError:
    """An error for ``__post_init__``: ``raise invalid("timezone", "'X' is not a known time zone")``."""
    return ValueError(f"{field}{_MARK}{reason}")


def convert(raw: Any, kind: type[T], *, where: str = "") -> T:
    """``raw`` (parsed TOML) as a ``kind`` Struct, or a ConfigError naming the bad key.

    ``where`` prefixes every path (``"printers[1]"`` when converting one entry of a list).
    """
    try:
        return msgspec.convert(raw, kind, strict=True)
    except msgspec.ValidationError as exc:
        key, message = explain(str(exc), raw, kind, where)
        raise ConfigError(message, key=key) from exc


def explain(text: str, raw: Any, kind: Any, where: str = "") -> tuple[str, str]:
    """(key path, plain-words message) for one msgspec validation message."""
    match = _AT.match(text)
    reason, path = (match["reason"], match["path"]) if match else (text, "")
    steps: list[str | int] = [int(s) if s.isdigit() else s for f, i in _STEP.findall(path) for s in [f or i]]
    if _MARK in reason:
        field, reason = reason.split(_MARK, 1)
        steps.append(field)
    elif reason.startswith("Object contains unknown field"):
        unknown = reason.split("`")[1]
        steps.append(unknown)
        known = _known_fields(kind, steps[:-1])
        hint = f" (known keys: {', '.join(known)})" if known else ""
        return _render(steps, raw, where), f"{_render(steps, raw, where)} is not a known key{hint}"
    elif reason.startswith("Object missing required field"):
        steps.append(reason.split("`")[1])
        return _render(steps, raw, where), f"{_render(steps, raw, where)} is missing"
    name = _render(steps, raw, where)
    value = _value_at(raw, steps)
    return name, f"{name} {_reword(reason, value, _type_at(kind, steps))}"


def _render(steps: list[str | int], raw: Any, where: str) -> str:
    """``stores[0] ('eshop-lyon').timezone``: list entries that carry a name show it."""
    out = where
    node = raw
    for step in steps:
        if step == "...":  # msgspec does not name the key of a bad dict value
            out += " (one of its values)"
            node = None
        elif isinstance(step, int):
            out += f"[{step}]"
            node = node[step] if isinstance(node, list) and step < len(node) else None
            if isinstance(node, Mapping) and isinstance(node.get("name"), str):
                out += f" ('{node['name']}')"
        else:
            out += f".{step}" if out else step
            node = node.get(step) if isinstance(node, Mapping) else None
    return out or "the configuration"


def _value_at(raw: Any, steps: list[str | int]) -> Any:
    node = raw
    for step in steps:
        found = (isinstance(step, int) and isinstance(node, list) and step < len(node)) or (
            isinstance(step, str) and isinstance(node, Mapping) and step in node
        )
        if not found:
            return msgspec.UNSET
        node = node[step]
    return node


def _type_at(kind: Any, steps: list[str | int]) -> mi.Type | None:
    node: mi.Type | None = mi.type_info(kind)
    for step in steps:
        node = _strip(node)
        if isinstance(node, mi.StructType) and isinstance(step, str):
            node = next((f.type for f in node.fields if f.encode_name == step), None)
        elif isinstance(node, mi.ListType | mi.VarTupleType) and isinstance(step, int):
            node = node.item_type
        elif isinstance(node, mi.DictType):
            node = node.value_type
        else:
            return None
    return _strip(node)


def _strip(node: mi.Type | None) -> mi.Type | None:
    """The one non-None member of an optional type."""
    if isinstance(node, mi.UnionType):
        members = [t for t in node.types if not isinstance(t, mi.NoneType)]
        if len(members) == 1:
            return members[0]
    return node


def _known_fields(kind: Any, steps: list[str | int]) -> list[str]:
    node = _type_at(kind, steps)
    return [f.encode_name for f in node.fields] if isinstance(node, mi.StructType) else []


_NAMES = {"int": "a whole number", "float": "a number", "str": "text", "bool": "true or false",
          "array": "a list", "object": "a table", "null": "absent"}  # fmt: skip


def _reword(reason: str, value: Any, kind: mi.Type | None) -> str:
    got = "" if value is msgspec.UNSET else f" (got {value!r})"
    if isinstance(kind, mi.LiteralType) and ("enum" in reason or "Expected" in reason):
        return f"must be one of {', '.join(str(v) for v in kind.values)}{got}"
    bound = re.match(r"Expected `(\w+)` ([<>]=?) (\S+)", reason)
    if bound:
        what = _NAMES.get(bound[1], bound[1])
        word = {">=": "at least", ">": "above", "<=": "at most", "<": "below"}[bound[2]]
        return f"must be {what} {word} {bound[3]}{got}"
    expected = re.match(r"Expected `([\w | ]+)`(?:, got `(\w+)`)?", reason)
    if expected:
        wanted = " or ".join(_NAMES.get(k.strip(), k.strip()) for k in expected[1].split("|"))
        return f"must be {wanted}{got}"
    return f"{reason}{got}" if not reason.startswith(("'", "(")) else f"{reason}"
