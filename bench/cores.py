"""Which parsing core a peer runs, through fastimport's own selector (``fastimport.core``)."""

from __future__ import annotations

import importlib
import types
from types import ModuleType


def load(name: str) -> tuple[ModuleType, str]:
    """The core module for ``name`` ("native" or "python") and a description of what loaded.

    Without the selector (``fastimport/core.py`` not there yet) the modules are
    imported directly, and the description says so: never a silent fallback.
    """
    try:
        selector = importlib.import_module("fastimport.core")
    except ImportError:
        module = importlib.import_module("fastimport._core" if name == "native" else "fastimport._core_py")
        return _named(
            module, name
        ), f"{name} ({module.__name__}, loaded directly: fastimport.core is missing)"
    module = selector.load_core(name)
    if getattr(selector, "CORE", None) == name and hasattr(selector, "core_description"):
        text = str(selector.core_description())  # it describes the default core: this one
    else:
        text = name
    return _named(module, name), f"{text} [{module.__name__}]"


def _named(module: ModuleType, name: str) -> ModuleType:
    """The module itself if it says which core it is (``CORE``), else a view of it that does.

    ``run_imports`` reports ``core.CORE``; a core module without it gets a thin
    namespace with the same ``parse_page`` and ``Dedup`` objects (no extra work per call).
    """
    if getattr(module, "CORE", None) == name:
        return module
    view = types.ModuleType(module.__name__, module.__doc__)
    view.__dict__.update({k: v for k, v in vars(module).items() if not k.startswith("__")})
    view.CORE = name  # type: ignore[attr-defined]
    return view
