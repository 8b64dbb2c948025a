"""Lazy access to python-escpos.

``import escpos`` has side effects: it creates a temporary folder for its
capabilities pickle and some code paths print on stdout.  Nothing in
fastimport imports it at module level; everything goes through
:func:`escpos_module` and :func:`capabilities`, which point the pickle at a
stable cache folder first so repeated runs do not litter ``/tmp``.
"""

from __future__ import annotations

import importlib
import os
import tempfile
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any


def _pickle_dir() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    folder = Path(base) / "fastimport" / "escpos"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        folder = Path(tempfile.gettempdir()) / f"fastimport-escpos-{os.getuid()}"
        folder.mkdir(parents=True, exist_ok=True)
    return str(folder)


@cache
def escpos_module() -> ModuleType:
    """Import python-escpos once, with its capabilities pickle in our cache folder."""
    os.environ.setdefault("ESCPOS_CAPABILITIES_PICKLE_DIR", _pickle_dir())
    for name in ("escpos.capabilities", "escpos.constants", "escpos.exceptions", "escpos.printer"):
        importlib.import_module(name)
    return importlib.import_module("escpos")


@cache
def profiles() -> dict[str, dict[str, Any]]:
    """Every python-escpos printer profile by name (the capabilities database)."""
    escpos_module()
    from escpos.capabilities import CAPABILITIES

    return dict(CAPABILITIES["profiles"])


@cache
def encodings() -> dict[str, dict[str, Any]]:
    escpos_module()
    from escpos.capabilities import CAPABILITIES

    return dict(CAPABILITIES["encodings"])


def profile_code_pages(profile: str) -> dict[str, int]:
    """``{code page name: ESC t number}`` for the pages of ``profile`` Python can encode."""
    table: dict[str, int] = {}
    for number, name in profiles()[profile].get("codePages", {}).items():
        python_name = encodings().get(name, {}).get("python_encode")
        if python_name and _single_byte(str(python_name)):
            table[str(name).upper()] = int(number)
    return table


@cache
def _single_byte(codec: str) -> bool:
    """Only one-byte-per-character pages keep "one character = one column" true."""
    try:
        return len(bytes(range(256)).decode(codec, errors="replace")) == 256
    except LookupError:
        return False


def python_codec(codepage: str) -> str:
    """The Python codec that encodes ``codepage`` (e.g. ``CP858`` -> ``cp858``)."""
    name = encodings().get(codepage.upper(), {}).get("python_encode")
    if not name:
        raise LookupError(codepage)
    return str(name)
