"""Shared fixtures: a simulated shop on loopback, a configuration pointing at it, a DuckDB file."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from fastimport.config import Config, parse_config
from fastimport.sim import SimOptions, SimShop

KEY_ENV, SECRET_ENV = "FASTIMPORT_TEST_KEY", "FASTIMPORT_TEST_SECRET"


@pytest.fixture(autouse=True)
def _credentials(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv(KEY_ENV, "ck_test")
    monkeypatch.setenv(SECRET_ENV, "cs_test")
    yield


def store_table(url: str, **overrides: Any) -> dict[str, Any]:
    table: dict[str, Any] = {
        "name": "eshop",
        "platform": "woocommerce",
        "url": url,
        "timezone": "Europe/Paris",
        "key_env": KEY_ENV,
        "secret_env": SECRET_ENV,
        "timeout": 5,
        "retries": 3,
    }
    table.update(overrides)
    return table


def config_for(tmp_path: Path, url: str, **overrides: Any) -> Config:
    return parse_config(
        {"database": {"path": str(tmp_path / "till.duckdb")}, "stores": [store_table(url, **overrides)]}
    )


def write_config_file(tmp_path: Path, url: str, **overrides: Any) -> Path:
    """The same configuration as a TOML file, for tests that go through the command line."""
    lines = ["[database]", f'path = "{tmp_path / "till.duckdb"}"', "", "[[stores]]"]
    for key, value in store_table(url, **overrides).items():
        rendered = (
            f'"{value}"'
            if isinstance(value, str)
            else str(value).lower()
            if isinstance(value, bool)
            else value
        )
        lines.append(f"{key} = {rendered}")
    path = tmp_path / "fastimport.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


ShopFactory = Callable[..., Any]


@pytest.fixture
async def shop_factory() -> AsyncIterator[ShopFactory]:
    """Start simulated shops on free loopback ports; all are stopped at the end of the test."""
    shops: list[SimShop] = []

    async def start(**options: Any) -> tuple[SimShop, str]:
        shop = SimShop(SimOptions(**options))
        url = await shop.start()
        shops.append(shop)
        return shop, url

    yield start
    for shop in shops:
        await shop.stop()


def subprocess_env() -> dict[str, str]:
    env = dict(os.environ)
    env[KEY_ENV], env[SECRET_ENV] = "ck_test", "cs_test"
    return env
