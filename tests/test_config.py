"""Configuration: one plain-words error naming the bad key."""

from __future__ import annotations

from pathlib import Path

import pytest

from fastimport.config import load_config
from fastimport.errors import ConfigError

GOOD = """
[database]
path = "till.duckdb"

[[stores]]
name = "eshop-lyon"
platform = "woocommerce"
url = "https://shop.example/"
timezone = "Europe/Paris"
key_env = "WC_KEY"
secret_env = "WC_SECRET"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "fastimport.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_good_config_resolves_database_next_to_the_file(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, GOOD))
    assert config.database == tmp_path.resolve() / "till.duckdb"
    store = config.store(None)
    assert store.url == "https://shop.example"
    assert store.auth == "basic"
    assert store.pending_statuses == ("processing", "on-hold")


@pytest.mark.parametrize(
    ("change", "key"),
    [
        (('platform = "woocommerce"', 'platform = "magento"'), "platform"),
        (('timezone = "Europe/Paris"', 'timezone = "Europe/Lyon"'), "timezone"),
        (('url = "https://shop.example/"', 'url = "shop.example"'), "url"),
        (('key_env = "WC_KEY"', ""), "key_env"),
        (('secret_env = "WC_SECRET"', 'secret_env = "WC_SECRET"\nauth = "digest"'), "auth"),
        (('[database]\npath = "till.duckdb"', ""), "database"),
        (('secret_env = "WC_SECRET"', 'secret_env = "WC_SECRET"\nper_page = 500'), "per_page"),
    ],
)
def test_each_bad_value_names_its_key(tmp_path: Path, change: tuple[str, str], key: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, GOOD.replace(*change)))
    assert key in str(err.value)
    assert key in err.value.key


def test_missing_file_and_bad_toml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.toml")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(write(tmp_path, "[database\n"))


def test_credentials_come_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = load_config(write(tmp_path, GOOD)).store("eshop-lyon")
    monkeypatch.delenv("WC_KEY", raising=False)
    with pytest.raises(ConfigError, match="WC_KEY"):
        store.credentials()
    monkeypatch.setenv("WC_KEY", "ck_1")
    monkeypatch.setenv("WC_SECRET", "cs_1")
    assert store.credentials() == ("ck_1", "cs_1")


def test_unknown_store_name(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no store named 'paris'"):
        load_config(write(tmp_path, GOOD)).store("paris")
