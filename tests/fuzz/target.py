"""One hostile page through everything that reads shop bytes, on both cores: the fuzz target.

:func:`check` is what the atheris fuzzer (``python -m tests.fuzz.parse``) and the hypothesis
properties (``tests/test_hostile_pages.py``) run on each input.  For every platform's field
mapping (and a spec with every kind of field), the page goes through the compiled core and its
pure-Python twin:

* both must give the same tables, or both the same :class:`ParseError` (same message, same
  JSON path, a path that starts with ``$``); any other exception is a defect;
* a page both cores refuse goes through the import's salvage on both, with the same outcome;
* a page both cores accept then goes through the platform's finishing step (``adjust``) and its
  stored-JSON readers (``buyer``, ``refunds``), order by order: again a result or a
  ``ParseError`` naming the field, never another exception.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from fastimport import core
from fastimport.columns import PageSpec
from fastimport.errors import ParseError
from fastimport.io.registry import platform
from fastimport.salvage import salvage
from tests.core_support import KINDS_SPEC

NATIVE = core.load_core("native")
PYTHON = core.load_core("python")


@dataclass(frozen=True)
class Mapping:
    """One platform's reading of a page: its spec, finishing step and stored-JSON readers."""

    name: str
    spec: PageSpec
    adjust: Callable[[pa.Table, pa.Table], tuple[pa.Table, pa.Table]] | None
    readers: tuple[Callable[[bytes], Any], ...]


def _mappings() -> tuple[Mapping, ...]:
    from fastimport.io.prestashop.spec import PRESTASHOP_PAGE, adjust_prestashop
    from fastimport.io.shopify.spec import SHOPIFY_PAGE, adjust_shopify
    from fastimport.io.woocommerce.spec import WOOCOMMERCE_PAGE

    def prestashop(orders: pa.Table, lines: pa.Table) -> tuple[pa.Table, pa.Table]:
        customers = {1: ("a@b.fr", "A", "B", False), 2: (None, None, None, True)}
        return adjust_prestashop(orders, lines, "Europe/Paris", {1: "EUR"}, customers, {"6": "cancelled"})

    def readers(name: str) -> tuple[Callable[[bytes], Any], ...]:
        described = platform(name)
        return (described.buyer,) + ((described.refunds,) if described.refunds is not None else ())

    return (
        Mapping("woocommerce", WOOCOMMERCE_PAGE, None, readers("woocommerce")),
        Mapping("shopify", SHOPIFY_PAGE, adjust_shopify, readers("shopify")),
        Mapping("prestashop", PRESTASHOP_PAGE, prestashop, readers("prestashop")),
        Mapping("kinds", KINDS_SPEC, None, ()),
    )


MAPPINGS = _mappings()


class Disagreement(AssertionError):
    """The two cores read one page differently (or one raised what the other did not)."""


def outcome(mod: Any, page: bytes, spec: PageSpec) -> tuple[str, Any, Any]:
    """``("ok", orders, lines)`` or ``("error", message, path)``; any other exception propagates."""
    try:
        got = mod.parse_page(page, spec)
    except ParseError as e:
        path = e.fields.get("path")
        if not (isinstance(path, str) and path.startswith("$")):
            raise AssertionError(f"ParseError without a JSON path: {e!r}") from e
        return ("error", str(e), path)
    return ("ok", got.orders, got.lines)


def same(page: bytes, spec: PageSpec) -> tuple[str, Any, Any]:
    """Both cores' outcome for ``page``; :class:`Disagreement` when they differ."""
    a = outcome(NATIVE, page, spec)
    b = outcome(PYTHON, page, spec)
    if a[0] != b[0]:
        raise Disagreement(
            f"native {a[0]} {a[1:] if a[0] == 'error' else ''}, python {b[0]} {b[1:] if b[0] == 'error' else ''}"
        )
    if a[0] == "error":
        if a != b:
            raise Disagreement(f"native {a[1:]!r} != python {b[1:]!r}")
    elif not (a[1].equals(b[1]) and a[2].equals(b[2])):
        raise Disagreement(f"tables differ:\nnative {a[1].to_pylist()} {a[2].to_pylist()}\n"
                           f"python {b[1].to_pylist()} {b[2].to_pylist()}")  # fmt: skip
    return a


def finish(mapping: Mapping, orders: pa.Table, lines: pa.Table) -> None:
    """The platform's finishing step and stored-JSON readers on a page the cores accepted."""
    if mapping.adjust is not None:
        try:
            mapping.adjust(orders, lines)
        except ParseError as e:
            assert str(e.fields.get("path", "")).startswith("$"), repr(e)
    for raw in orders.column("raw").to_pylist():
        for read in mapping.readers:
            try:
                read(raw)
            except ParseError as e:
                assert str(e.fields.get("path", "")).startswith("$"), repr(e)


def salvaged_alike(page: bytes, spec: PageSpec) -> None:
    """A page the cores refused goes through the import's salvage (one bad order set aside, the others
    kept): the same orders kept and set aside, with the same reasons, on both cores."""
    a, b = salvage(NATIVE, page, spec), salvage(PYTHON, page, spec)
    if (a is None) != (b is None):
        raise Disagreement(f"salvage: native {a is not None}, python {b is not None}")
    if a is not None and b is not None and (a[1] != b[1] or a[0] != b[0]):
        raise Disagreement(f"salvage differs: native {a[1]!r}, python {b[1]!r}")


def check(page: bytes) -> int:
    """Run ``page`` through every mapping on both cores; the number of mappings that accepted it."""
    accepted = 0
    for mapping in MAPPINGS:
        result = same(page, mapping.spec)
        if result[0] == "ok":
            accepted += 1
            finish(mapping, result[1], result[2])
        else:
            salvaged_alike(page, mapping.spec)
    return accepted


def checker(core_name: str) -> Callable[[bytes], int]:
    """:func:`check` with one core alone (no comparison): to measure that core's inputs per second."""
    mod = NATIVE if core_name == "native" else PYTHON

    def check_one(page: bytes) -> int:
        accepted = 0
        for mapping in MAPPINGS:
            result = outcome(mod, page, mapping.spec)
            if result[0] == "ok":
                accepted += 1
                finish(mapping, result[1], result[2])
        return accepted

    return check_one
