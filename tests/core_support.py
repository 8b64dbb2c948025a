"""Helpers for the core tests (no tests here): the page spec with every kind of field.

Shared by ``tests/test_core.py`` and the fuzz target (``tests/fuzz/target.py``); kept apart from
the fuzz package so the core tests import nothing of the fuzzer (atheris is not needed to run them).
"""

from __future__ import annotations

from fastimport.columns import FieldSpec, PageSpec

F = FieldSpec
# Every kind of field, nested paths and indexes: the core's converters on every value of a page.
KINDS_SPEC = PageSpec(
    orders_path=(),
    order_fields=(
        F("order_id", ("id",), "int", required=True),
        F("i", ("i",), "int"),
        F("s", ("s",), "str"),
        F("m", ("m",), "money"),
        F("d", ("d",), "datetime"),
        F("b", ("b",), "bool"),
        F("deep", ("a", "b", 1, "c"), "str"),
    ),
    lines_path=("items",),
    line_fields=(F("q", ("q",), "int", required=True), F("p", ("p",), "money")),
)
