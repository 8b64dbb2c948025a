"""Reading ``fastimport.toml``: one plain-words error naming the bad key.

Secrets never live in the file: a store names the environment variables that
hold its credentials, read when the store is used: ``key_env`` + ``secret_env``
(WooCommerce), ``token_env`` (Shopify), ``key_env`` (PrestaShop).
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastimport.errors import ConfigError

DEFAULT_CONFIG = Path("fastimport.toml")
PLATFORMS = ("woocommerce", "shopify", "prestashop")
WOOCOMMERCE_AUTH = ("basic", "query", "oauth1")
SHOPIFY_MODES = ("auto", "rest", "bulk")
DEFAULT_SHOPIFY_API_VERSION = "2025-07"
# Shop statuses that mean "paid or to be handled": the pending table shows these.
DEFAULT_PENDING_STATUSES = ("processing", "on-hold")
# Per platform: Shopify's is the financial status (or "fulfilled" / "cancelled"), PrestaShop's the
# id of the order state (2 payment accepted, 3 processing in progress, 10 awaiting bank wire).
PENDING_BY_PLATFORM: dict[str, tuple[str, ...]] = {
    "woocommerce": DEFAULT_PENDING_STATUSES,
    "shopify": ("paid", "authorized", "partially_paid"),
    "prestashop": ("2", "3", "10"),
}
# Page size: (default, maximum) per platform.
PER_PAGE: dict[str, tuple[int, int]] = {
    "woocommerce": (100, 100),
    "shopify": (250, 250),
    "prestashop": (100, 1000),
}
# The keys naming a secret, per platform (each must name an environment variable).
SECRET_KEYS: dict[str, tuple[str, ...]] = {
    "woocommerce": ("key_env", "secret_env"),
    "shopify": ("token_env",),
    "prestashop": ("key_env",),
}


@dataclass(frozen=True, slots=True)
class StoreConfig:
    name: str
    platform: str
    url: str
    timezone: str
    key_env: str = ""
    secret_env: str = ""
    auth: str = "basic"
    per_page: int = 100
    concurrency: int = 8
    timeout: float = 30.0
    retries: int = 5
    overlap_minutes: int = 10
    pending_statuses: tuple[str, ...] = DEFAULT_PENDING_STATUSES
    token_env: str = ""  # Shopify: the variable holding the Admin API access token
    api_version: str = DEFAULT_SHOPIFY_API_VERSION  # Shopify: the versioned path, e.g. 2025-07
    mode: str = "auto"  # Shopify: "rest", "bulk", or "auto" (bulk for very large ranges)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def credentials(self) -> tuple[str, str]:
        """The key and secret from the environment, or a ConfigError saying which variable is missing."""
        values = []
        for key, env in (("key_env", self.key_env), ("secret_env", self.secret_env)):
            value = os.environ.get(env)
            if not value:
                raise ConfigError(
                    f"store '{self.name}': the environment variable {env} (named by {key}) is not set",
                    key=f"stores.{self.name}.{key}",
                )
            values.append(value)
        return values[0], values[1]

    def secret(self, key: str) -> str:
        """The value of the environment variable named by ``key`` (``token_env``, ``key_env``...)."""
        env = str(getattr(self, key))
        value = os.environ.get(env) if env else None
        if not value:
            raise ConfigError(
                f"store '{self.name}': the environment variable {env} (named by {key}) is not set",
                key=f"stores.{self.name}.{key}",
            )
        return value


@dataclass(frozen=True, slots=True)
class Config:
    database: Path
    stores: tuple[StoreConfig, ...]
    source: Path | None = None
    raw: dict[str, Any] = field(default_factory=dict)

    def store(self, name: str | None) -> StoreConfig:
        if name is None:
            if len(self.stores) == 1:
                return self.stores[0]
            names = ", ".join(s.name for s in self.stores)
            raise ConfigError(
                f"several stores are configured ({names}): choose one with --store", key="stores"
            )
        for store in self.stores:
            if store.name == name:
                return store
        names = ", ".join(s.name for s in self.stores) or "none"
        raise ConfigError(f"no store named '{name}' in the configuration (configured: {names})", key="stores")


def load_config(path: Path | str | None = None) -> Config:
    """Read and validate the configuration file (``fastimport.toml`` when ``path`` is None)."""
    chosen = Path(path) if path is not None else DEFAULT_CONFIG
    if not chosen.exists():
        raise ConfigError(
            f"configuration file {chosen} not found: create it (see the README) or pass --config",
            key="config",
        )
    try:
        raw = tomllib.loads(chosen.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"configuration file {chosen} is not valid TOML: {exc}", key="config") from exc
    return parse_config(raw, base_dir=chosen.resolve().parent, source=chosen)


def parse_config(raw: dict[str, Any], base_dir: Path = Path("."), source: Path | None = None) -> Config:
    database = _table(raw, "database")
    db_path = Path(_str(database, "path", "database.path"))
    if not db_path.is_absolute():
        db_path = base_dir / db_path
    stores_raw = raw.get("stores")
    if not isinstance(stores_raw, list) or not stores_raw:
        raise ConfigError("at least one [[stores]] table is required", key="stores")
    stores = tuple(_store(entry, i) for i, entry in enumerate(stores_raw))
    seen: set[str] = set()
    for store in stores:
        if store.name in seen:
            raise ConfigError(f"two stores are named '{store.name}': names must be unique", key="stores.name")
        seen.add(store.name)
    return Config(database=db_path, stores=stores, source=source, raw=raw)


def _store(entry: Any, index: int) -> StoreConfig:
    where = f"stores[{index}]"
    if not isinstance(entry, dict):
        raise ConfigError(f"{where} must be a table", key=where)
    name = _str(entry, "name", f"{where}.name")
    where = f"stores[{index}] ('{name}')"
    platform = _str(entry, "platform", f"{where}.platform")
    if platform not in PLATFORMS:
        raise ConfigError(
            f"{where}.platform must be one of {', '.join(PLATFORMS)} (got '{platform}')",
            key=f"{where}.platform",
        )
    url = _str(entry, "url", f"{where}.url").rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise ConfigError(
            f"{where}.url must start with http:// or https:// (got '{url}')", key=f"{where}.url"
        )
    timezone = _str(entry, "timezone", f"{where}.timezone")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(
            f"{where}.timezone '{timezone}' is not a known time zone (use an IANA name like Europe/Paris)",
            key=f"{where}.timezone",
        ) from exc
    auth = entry.get("auth", "basic")
    if auth not in WOOCOMMERCE_AUTH:
        raise ConfigError(
            f"{where}.auth must be one of {', '.join(WOOCOMMERCE_AUTH)} (got '{auth}')", key=f"{where}.auth"
        )
    pending = entry.get("pending_statuses", list(PENDING_BY_PLATFORM[platform]))
    if not isinstance(pending, list) or not all(isinstance(s, str) for s in pending):
        raise ConfigError(
            f"{where}.pending_statuses must be a list of strings", key=f"{where}.pending_statuses"
        )
    secrets = {key: _str(entry, key, f"{where}.{key}") for key in SECRET_KEYS[platform]}
    mode = entry.get("mode", "auto")
    if platform == "shopify" and mode not in SHOPIFY_MODES:
        raise ConfigError(
            f"{where}.mode must be one of {', '.join(SHOPIFY_MODES)} (got {mode!r})", key=f"{where}.mode"
        )
    api_version = entry.get("api_version", DEFAULT_SHOPIFY_API_VERSION)
    if not isinstance(api_version, str) or not re.fullmatch(r"\d{4}-\d{2}|unstable", api_version):
        raise ConfigError(
            f'{where}.api_version must look like "2025-07" (got {api_version!r})', key=f"{where}.api_version"
        )
    page_default, page_max = PER_PAGE[platform]
    return StoreConfig(
        name=name,
        platform=platform,
        url=url,
        timezone=timezone,
        key_env=secrets.get("key_env", ""),
        secret_env=secrets.get("secret_env", ""),
        auth=auth,
        per_page=_int(entry, "per_page", f"{where}.per_page", page_default, 1, page_max),
        concurrency=_int(entry, "concurrency", f"{where}.concurrency", 8, 1, 256),
        timeout=_seconds(entry, "timeout", f"{where}.timeout", 30.0),
        retries=_int(entry, "retries", f"{where}.retries", 5, 0, 100),
        overlap_minutes=_int(entry, "overlap_minutes", f"{where}.overlap_minutes", 10, 0, 10080),
        pending_statuses=tuple(pending),
        token_env=secrets.get("token_env", ""),
        api_version=api_version,
        mode=str(mode),
    )


def _table(raw: dict[str, Any], key: str) -> dict[str, Any]:
    value = raw.get(key)
    if not isinstance(value, dict):
        raise ConfigError(f"the [{key}] table is missing", key=key)
    return value


def _str(table: dict[str, Any], key: str, where: str) -> str:
    value = table.get(key)
    if value is None:
        raise ConfigError(f"{where} is missing", key=where)
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where} must be a non-empty string (got {value!r})", key=where)
    return value.strip()


def _int(table: dict[str, Any], key: str, where: str, default: int, low: int, high: int) -> int:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigError(f"{where} must be a whole number from {low} to {high} (got {value!r})", key=where)
    return value


def _seconds(table: dict[str, Any], key: str, where: str, default: float) -> float:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 3600:
        raise ConfigError(
            f"{where} must be a number of seconds above 0, at most 3600 (got {value!r})", key=where
        )
    return float(value)
