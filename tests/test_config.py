"""Configuration: one plain-words error naming the bad key."""

from __future__ import annotations

from pathlib import Path

import pytest

from fastimport.config import load_config
from fastimport.errors import ConfigError
from fastimport.io.shopify.config import ShopifyStore

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


def test_an_unknown_key_in_a_store_is_named_with_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, GOOD + "per_pgae = 50\n"))
    message = str(err.value)
    assert message.startswith("stores[0] ('eshop-lyon').per_pgae is not a known key (known keys: ")
    assert "per_page" in message and "secret_env" in message and "auth" in message
    assert err.value.key == "stores[0] ('eshop-lyon').per_pgae"


def test_another_platforms_key_is_not_a_known_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"\('eshop-lyon'\)\.token_env is not a known key"):
        load_config(write(tmp_path, GOOD + 'token_env = "SHOPIFY_TOKEN"\n'))


SHOPIFY = """
[database]
path = "till.duckdb"

[[stores]]
name = "eshop-paris"
platform = "shopify"
url = "https://paris.myshopify.com"
timezone = "Europe/Paris"
token_env = "SHOPIFY_TOKEN"
"""


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('mode = "fast"', "stores[0] ('eshop-paris').mode must be one of auto, bulk, rest (got 'fast')"),
        ('api_version = "v1"', "stores[0] ('eshop-paris').api_version must look like \"2025-07\" (got 'v1')"),
        ("per_page = 251", "stores[0] ('eshop-paris').per_page must be a whole number at most 250 (got 251)"),
        ('token_env = ""', "stores[0] ('eshop-paris').token_env must be a non-empty string (got '')"),
    ],
)
def test_a_bad_platform_option_is_named(tmp_path: Path, line: str, message: str) -> None:
    text = SHOPIFY.replace('token_env = "SHOPIFY_TOKEN"\n', "") + (
        "" if "token_env" in line else 'token_env = "T"\n'
    )
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, text + line + "\n"))
    assert str(err.value) == message


def test_platform_options_take_their_defaults(tmp_path: Path) -> None:
    store = load_config(write(tmp_path, SHOPIFY)).store(None)
    assert (store.per_page, store.pending_statuses) == (
        250,
        ("paid", "authorized", "partially_paid", "partially_refunded"),
    )
    assert isinstance(store, ShopifyStore)
    assert (store.api_version, store.mode) == ("2025-07", "auto")


def test_database_url_env_names_a_postgresql_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from fastimport.config import parse_config
    from tests.conftest import store_table

    stores = [store_table("http://127.0.0.1:9")]
    config = parse_config({"database": {"url_env": "FI_TEST_PG_URL"}, "stores": stores})
    assert config.database is None
    monkeypatch.delenv("FI_TEST_PG_URL", raising=False)
    with pytest.raises(ConfigError, match="FI_TEST_PG_URL") as unset:
        _ = config.target
    assert unset.value.key == "database.url_env"
    monkeypatch.setenv("FI_TEST_PG_URL", "postgresql://till:secret@db.lan:5432/shop")
    assert config.target == "postgresql://till:secret@db.lan:5432/shop"
    assert config.where == "postgresql://till@db.lan:5432/shop"  # no password in messages
    monkeypatch.setenv("FI_TEST_PG_URL", "till.duckdb")
    with pytest.raises(ConfigError, match="postgresql://"):
        _ = config.target
    with pytest.raises(ConfigError, match=r"both path .* and url_env"):
        parse_config({"database": {"path": "t.duckdb", "url_env": "FI_TEST_PG_URL"}, "stores": stores})
    with pytest.raises(ConfigError, match="needs path"):
        parse_config({"database": {}, "stores": stores})
