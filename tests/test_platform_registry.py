"""Every registered platform gives the full description, and only io/ (and the simulator) names one."""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path
from typing import Any

import orjson
import pytest

import fastimport
from fastimport.columns import PageSpec
from fastimport.config import StoreConfig, parse_config
from fastimport.errors import ConfigError
from fastimport.io.connector import Buyer
from fastimport.io.platform import PageSize, Platform
from fastimport.io.pushback import PushBack
from fastimport.io.registry import PLATFORMS, connector_for, platform, platform_names, push_back_for

# One order payload per platform, as its API sends it, and what its buyer reader must find there.
SAMPLES: dict[str, tuple[dict[str, Any], dict[str, str]]] = {
    "woocommerce": (
        {"billing": {"first_name": "Marie", "city": "Lyon"}, "shipping_tax": "1.00"},
        {"first_name": "Marie", "city": "Lyon", "shipping_tax": "1.00"},
    ),
    "shopify": (
        {"billing_address": {"first_name": "Marie", "zip": "69001"}, "email": "m@example.fr"},
        {"first_name": "Marie", "postcode": "69001", "email": "m@example.fr"},
    ),
    "prestashop": (
        {"total_shipping_tax_incl": "6.00", "total_shipping_tax_excl": "5.00"},
        {"shipping_tax": "1.00"},
    ),
}


def minimal_table(described: Platform) -> dict[str, Any]:
    """The fewest keys a store of this platform needs: the shared ones and its secrets."""
    table: dict[str, Any] = {
        "name": "eshop",
        "platform": described.name,
        "url": "https://shop.example",
        "timezone": "Europe/Paris",
    }
    table.update({key: f"FASTIMPORT_TEST_{key.upper()}" for key in described.secret_keys})
    return table


def store_of(table: dict[str, Any]) -> StoreConfig:
    return parse_config({"database": {"path": "till.duckdb"}, "stores": [table]}).stores[0]


@pytest.fixture(params=platform_names())
def described(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Platform:
    found = platform(request.param)
    for key in found.secret_keys:
        monkeypatch.setenv(f"FASTIMPORT_TEST_{key.upper()}", "secret-for-tests")
    return found


def test_the_description_is_complete(described: Platform) -> None:
    assert isinstance(described, Platform)
    for f in dataclasses.fields(Platform):
        assert getattr(described, f.name, None) is not None or f.default is None, f.name
    assert described.display_name.strip() and described.display_name != described.name
    assert issubclass(described.store, StoreConfig) and described.store is not StoreConfig
    assert callable(described.connector) and callable(described.push_back) and callable(described.buyer)
    assert described.pending_statuses and all(isinstance(s, str) for s in described.pending_statuses)
    assert isinstance(described.page_size, PageSize)
    assert 1 <= described.page_size.default <= described.page_size.maximum
    assert described.secret_keys and set(described.secret_keys) <= set(described.store.__struct_fields__)
    assert described.shipped_status is None or isinstance(described.shipped_status, str)


def test_a_minimal_store_takes_the_platform_defaults(described: Platform) -> None:
    store = store_of(minimal_table(described))
    assert type(store) is described.store
    assert store.per_page == described.page_size.default
    assert store.pending_statuses == described.pending_statuses
    too_big = {**minimal_table(described), "per_page": described.page_size.maximum + 1}
    with pytest.raises(
        ConfigError, match=r"stores\[0\] \('eshop'\)\.per_page must be a whole number at most"
    ):
        store_of(too_big)
    for key in described.secret_keys:
        missing = {k: v for k, v in minimal_table(described).items() if k != key}
        with pytest.raises(ConfigError, match=rf"\('eshop'\)\.{key} is missing"):
            store_of(missing)


def test_the_connector_and_push_back_build_from_a_store(described: Platform) -> None:
    store = store_of(minimal_table(described))
    connector = connector_for(store)
    assert connector.store is store and isinstance(connector.page_spec, PageSpec)
    for method in ("pages", "catalog", "customers"):
        assert callable(getattr(connector, method))
    assert isinstance(push_back_for(store), PushBack)


def test_the_buyer_reader_reads_a_sample_order(described: Platform) -> None:
    assert described.name in SAMPLES, f"add a sample {described.display_name} order to SAMPLES"
    payload, expected = SAMPLES[described.name]
    buyer = described.buyer(orjson.dumps(payload))
    assert isinstance(buyer, Buyer)
    assert {k: getattr(buyer, k) for k in expected} == expected
    assert isinstance(described.buyer(b"{}"), Buyer)  # an order without the optional parts


def test_an_unknown_platform_is_named_with_the_known_ones() -> None:
    with pytest.raises(ValueError, match="unknown platform 'magento' \\(known: woocommerce"):
        platform("magento")


# -- nothing outside io/ (and the simulator) keys on a platform's name ---------------------------------

PACKAGE = Path(fastimport.__file__).parent
ALLOWED = (PACKAGE / "io", PACKAGE / "sim")


def _names_in(node: ast.AST) -> list[str]:
    """Platform names written as literals in ``node`` (a literal, or a tuple/list/set of them)."""
    items = node.elts if isinstance(node, ast.Tuple | ast.List | ast.Set) else [node]
    return [i.value for i in items if isinstance(i, ast.Constant) and i.value in PLATFORMS]


def platform_name_uses(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, name) wherever code compares to, looks up, or keys a dict by a platform's name."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
        elif isinstance(node, ast.Dict):
            operands = [k for k in node.keys if k is not None]
        elif isinstance(node, ast.Subscript):
            operands = [node.slice]
        elif isinstance(node, ast.match_case) and isinstance(node.pattern, ast.MatchValue):
            operands = [node.pattern.value]
        else:
            continue
        found += [(getattr(node, "lineno", 0), name) for o in operands for name in _names_in(o)]
    return found


def test_the_check_finds_each_kind_of_use() -> None:
    source = """
if store.platform == "shopify": pass
if p in ("woocommerce", "x"): pass
NAMES = {"prestashop": "PrestaShop"}
x = TABLE["shopify"]
message = "shopify"  # a plain value is not a use
"""
    assert [name for _, name in platform_name_uses(ast.parse(source))] == [
        "shopify",
        "woocommerce",
        "prestashop",
        "shopify",
    ]


def test_no_module_outside_io_compares_a_platform_name() -> None:
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if any(path.is_relative_to(room) for room in ALLOWED):
            continue
        for line, name in platform_name_uses(ast.parse(path.read_text(encoding="utf-8"))):
            offenders.append(f"{path.relative_to(PACKAGE.parent)}:{line} uses {name!r}")
    assert not offenders, "ask fastimport.io.registry instead:\n" + "\n".join(offenders)


def test_reading_the_configuration_imports_no_connector(tmp_path: Path) -> None:
    """Loading a configuration and every platform's description imports no connector (nor aiohttp,
    pyarrow): a platform's connector, push-back and payload readers load when first used."""
    import subprocess
    import sys
    import textwrap

    from tests.conftest import subprocess_env, write_config_file

    path = write_config_file(tmp_path, "http://127.0.0.1:9")
    code = textwrap.dedent(f"""
        import sys
        import fastimport
        from fastimport.io.registry import platform, platform_names
        fastimport.load_config({str(path)!r})
        described = [platform(name) for name in platform_names()]
        heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("aiohttp", "pyarrow")
                       or m.endswith((".connector", ".spec", ".push", ".news")))
        print(",".join(heavy))
        described[0].connector.page_spec  # asked for: now it loads
        print("aiohttp" in sys.modules)
    """)
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=subprocess_env(), check=True
    ).stdout.splitlines()
    assert out == ["", "True"]
