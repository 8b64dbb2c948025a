"""The README's examples, run as written: the ``fastimport sim`` lines and every configuration block."""

from __future__ import annotations

import re
import shlex
import socket
import tomllib
from pathlib import Path
from typing import Any

import pytest

import fastimport
from tests.conftest import shop_command

README = Path(__file__).resolve().parent.parent / "README.md"


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


def sim_lines() -> list[str]:
    lines = [line.split("#")[0].strip() for block in blocks("sh") for line in block.splitlines()]
    return [line for line in lines if line.startswith("fastimport sim")]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_readme_shows_sim_examples() -> None:
    assert len(sim_lines()) >= 4


@pytest.mark.parametrize("line", sim_lines())
def test_a_readme_sim_line_serves_a_shop(line: str, tmp_path: Path) -> None:
    """Each line starts a shop that answers; a fixed ``--port`` is swapped for a free one (CI shares ports)."""
    argv = shlex.split(line)[1:]
    if "--port" in argv:
        argv[argv.index("--port") + 1] = str(free_port())
    with shop_command(argv, cwd=tmp_path) as (proc, url):
        host, port = url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=5):
            pass
        if "--dump-truth" in argv:
            truth = (tmp_path / argv[argv.index("--dump-truth") + 1]).read_bytes()
            assert truth.startswith(b"[{")
    assert proc.returncode == 0


def toml_blocks() -> list[dict[str, Any]]:
    return [tomllib.loads(text) for text in blocks("toml")]


def test_every_readme_configuration_block_is_accepted(tmp_path: Path) -> None:
    """Store blocks load as a whole configuration; the other tables load beside the first store block."""
    from fastimport.api.printing import configured_printers
    from fastimport.processing.settings import load_settings

    parsed = toml_blocks()
    assert len(parsed) >= 4
    base = next(b for b in parsed if "database" in b and "stores" in b)
    for block in parsed:
        raw = dict(block)
        raw.setdefault("database", base["database"])
        raw.setdefault("stores", base["stores"])
        path = tmp_path / "fastimport.toml"
        path.write_text(_to_toml(raw), encoding="utf-8")
        config = fastimport.load_config(path)
        assert [s.name for s in config.stores] == [s["name"] for s in raw["stores"]]
        load_settings(config)
        configured_printers(config)


def _to_toml(raw: dict[str, Any]) -> str:
    """Enough TOML for the README's tables (strings, numbers, booleans, lists, one level of sub-tables)."""

    def value(v: Any) -> str:
        if isinstance(v, bool):
            return str(v).lower()
        if isinstance(v, str):
            return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        return str(v)

    out: list[str] = []
    for name, table in raw.items():
        entries = table if isinstance(table, list) else [table]
        for entry in entries:
            out.append(f"[[{name}]]" if isinstance(table, list) else f"[{name}]")
            out += [f'"{k}" = {value(v)}' for k, v in entry.items() if not isinstance(v, dict)]
            for sub, inner in ((k, v) for k, v in entry.items() if isinstance(v, dict)):
                out.append(f"[{name}.{sub}]")
                out += [f'"{k}" = {value(v)}' for k, v in inner.items()]
    return "\n".join(out) + "\n"
