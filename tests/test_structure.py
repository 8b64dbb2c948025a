"""The shape of the package: modules small enough to read in one sitting, imports that follow the flow."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import fastimport

PACKAGE = Path(fastimport.__file__).parent
MAX_LINES = 500
SOURCES = sorted(p for p in PACKAGE.rglob("*") if p.suffix in (".py", ".pyx", ".pxi"))

# room -> rooms it must never import (the flow: core <- io <- importer/store <- processing <- api <- cli)
FORBIDDEN = {
    "_core": ("fastimport.io", "fastimport.store", "fastimport.processing", "fastimport.print", "fastimport.api"),
    "io": ("fastimport.processing", "fastimport.store", "fastimport.print", "fastimport.api", "fastimport.cli"),
    "store": ("fastimport.processing", "fastimport.io", "fastimport.print", "fastimport.api", "fastimport.cli"),
    "print": ("fastimport.io", "fastimport.processing", "fastimport.store.imports", "fastimport.api", "fastimport.cli"),
    "processing": ("fastimport.api", "fastimport.cli"),
    "api": ("fastimport.cli",),
}  # fmt: skip


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_is_longer_than_a_sitting(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(PACKAGE)} has {lines} lines: split it by responsibility"


def _room(path: Path) -> str:
    rel = path.relative_to(PACKAGE)
    return rel.parts[0] if len(rel.parts) > 1 else ("_core" if rel.name.startswith("_core") else "")


def _imports(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.append(node.module)
        elif isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
    return found


@pytest.mark.parametrize("path", [p for p in SOURCES if p.suffix == ".py" and _room(p) in FORBIDDEN],
                         ids=lambda p: str(p.relative_to(PACKAGE)))  # fmt: skip
def test_imports_follow_the_flow(path: Path) -> None:
    forbidden = FORBIDDEN[_room(path)]
    wrong = [m for m in _imports(path) if m.startswith(forbidden)]
    assert not wrong, f"{path.relative_to(PACKAGE)} imports {wrong} against the flow"


# Where ``fetchone`` is psycopg's own (no DuckDB connection behind it).
PSYCOPG_ONLY = ("store/postgres.py", "store/locks.py")


@pytest.mark.parametrize(
    "path", [p for p in SOURCES if p.suffix == ".py"], ids=lambda p: str(p.relative_to(PACKAGE))
)
def test_no_result_is_left_half_read(path: Path) -> None:
    """DuckDB refuses to register or unregister a table while the last result is half-read (``fetchone``):
    one-row answers are read through ``store.db.first_row``."""
    if str(path.relative_to(PACKAGE)) in PSYCOPG_ONLY:
        return
    assert ".fetchone()" not in path.read_text(encoding="utf-8"), (
        f"{path.relative_to(PACKAGE)}: use first_row"
    )
