"""The pure-Python twin's column builders (``_core_columns.pxi`` of ``_core``).

:func:`_get` finds a field's value along its path (or says which container was
wrong); :class:`_Columns` converts one order's or line's fields into lists of
column values and turns them into Arrow arrays.
"""

from __future__ import annotations

from typing import Any, Final

import pyarrow as pa

from fastimport import _core_shared as sh
from fastimport._core_py_convert import _CONVERT, _Bad
from fastimport.columns import PathPart

_MISSING: Final = object()


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
