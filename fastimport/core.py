"""Which parsing core runs: the compiled ``_core`` or its pure-Python twin ``_core_py``.

The compiled core is used unless ``FASTIMPORT_PURE_PYTHON=1`` is set or it was
not built; the choice is never silent: :data:`CORE`, :func:`core_description`
and :data:`import_error` say which core runs and why.
"""

from __future__ import annotations

import os
from types import ModuleType
from typing import Final

from fastimport import _core_py

__all__ = ["CORE", "Dedup", "ParsedPage", "core_description", "import_error", "load_core", "parse_page"]

ENV_PURE: Final[str] = "FASTIMPORT_PURE_PYTHON"

import_error: BaseException | None = None
"""Why the compiled core could not be imported (None if it was, or was not asked for)."""


def load_core(name: str) -> ModuleType:
    """The core module for ``"native"`` or ``"python"`` (raises ImportError if native is not built)."""
    if name == "python":
        return _core_py
    if name == "native":
        from fastimport import _core

        return _core
    raise ValueError(f"unknown core {name!r}: expected 'native' or 'python'")


def _select() -> tuple[str, ModuleType]:
    global import_error
    if os.environ.get(ENV_PURE, "") == "1":
        return "python", _core_py
    try:
        return "native", load_core("native")
    except ImportError as exc:
        import_error = exc
        return "python", _core_py


CORE, _module = _select()
parse_page = _module.parse_page
Dedup = _module.Dedup
ParsedPage = _module.ParsedPage


def core_description() -> str:
    """One line for ``--version``, the demo and benchmark reports."""
    if CORE == "native":
        return f"native ({_module.BUILT_WITH})"
    if import_error is not None:
        return f"python (pure-Python twin; compiled core not built: {import_error})"
    return f"python (pure-Python twin; {ENV_PURE}=1)"


def name_of(module: ModuleType) -> str:
    """ "native" or "python" for a module returned by :func:`load_core`."""
    return "native" if module.__name__ == "fastimport._core" else "python"
