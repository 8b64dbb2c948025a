"""Reading ``fastimport.toml``: typed tables (msgspec), one plain-words error naming the bad key.

``[database]`` and each ``[[stores]]`` table are read here; a store's table is the Struct its
platform describes (:attr:`fastimport.io.platform.Platform.store`): the keys every store has,
below, plus the platform's own keys and defaults.  Other top-level tables (``[seller]``,
``[printer]``...) are read by their rooms from :attr:`Config.raw`.

Secrets never live in the file: a store names the environment variables that hold its
credentials (``key_env`` + ``secret_env``, ``token_env``...), read when the store is used.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec
from msgspec import Meta

from fastimport.errors import ConfigError
from fastimport.typed import convert, invalid

DEFAULT_CONFIG = Path("fastimport.toml")


def _non_empty_strings(table: msgspec.Struct) -> None:
    """Strip every text value; a blank one is as good as missing, so say so."""
    for name in table.__struct_fields__:
        value = getattr(table, name)
        if isinstance(value, str):
            if not value.strip():
                raise invalid(name, "must be a non-empty string")  # the reader adds "(got ...)"
            msgspec.structs.force_setattr(table, name, value.strip())


class PushStatuses(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """``[stores.push_statuses]``: what the shop is told at each step, in the platform's own words.

    Unset: the platform's default (see the README); ``""``: change nothing at that step (the note
    is still written).  WooCommerce takes an order status (``completed``, or a custom one such as
    ``en-preparation``); Shopify a tag added to the order; PrestaShop an order-state id or the name
    of the shop configuration holding it (``PS_OS_PREPARATION``, ``PS_OS_SHIPPING``...).
    """

    prepared: str | None = None
    invoiced: str | None = None
    shipped: str | None = None
    refunded: str | None = None
    partially_refunded: str | None = None

    def for_step(self, step: str) -> str | None:
        return getattr(self, step, None)


class StoreConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One ``[[stores]]`` table: the keys every platform shares.

    Never built directly from a file: each platform subclasses it with its own keys (and its own
    ``per_page`` bound and ``pending_statuses`` default), and the configuration converts a table
    with the subclass its ``platform`` names.
    """

    name: str
    platform: str
    url: str
    timezone: str
    per_page: Annotated[int, Meta(ge=1)] = 100
    concurrency: Annotated[int, Meta(ge=1, le=256)] = 8
    timeout: Annotated[float, Meta(gt=0, le=3600)] = 30.0
    retries: Annotated[int, Meta(ge=0, le=100)] = 5
    overlap_minutes: Annotated[int, Meta(ge=0, le=10080)] = 10
    pending_statuses: tuple[str, ...] = ()
    push_statuses: PushStatuses = PushStatuses()

    def __post_init__(self) -> None:
        _non_empty_strings(self)
        msgspec.structs.force_setattr(self, "url", self.url.rstrip("/"))
        if not self.url.startswith(("http://", "https://")):
            raise invalid("url", "must start with http:// or https://")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise invalid(
                "timezone",
                f"'{self.timezone}' is not a known time zone (use an IANA name like Europe/Paris)",
            ) from exc

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def credentials(self) -> tuple[str, str]:
        """The key and secret from the environment, or a ConfigError saying which variable is missing."""
        return self.secret("key_env"), self.secret("secret_env")

    def secret(self, key: str) -> str:
        """The value of the environment variable named by ``key`` (``token_env``, ``key_env``...)."""
        env = str(getattr(self, key, ""))
        value = os.environ.get(env) if env else None
        if not value:
            raise ConfigError(
                f"store '{self.name}': the environment variable {env} (named by {key}) is not set",
                key=f"stores.{self.name}.{key}",
            )
        return value


class DatabaseTable(msgspec.Struct, frozen=True):
    path: str | None = None
    # The name of an environment variable holding a postgresql:// URL: the store on that server.
    url_env: str | None = None

    def __post_init__(self) -> None:
        _non_empty_strings(self)


@dataclass(frozen=True, slots=True)
class Config:
    database: Path | None  # the DuckDB file; None when the store is on PostgreSQL (url_env)
    stores: tuple[StoreConfig, ...]
    source: Path | None = None
    raw: dict[str, Any] = field(default_factory=dict)
    url_env: str | None = None

    @property
    def target(self) -> Path | str:
        """Where the store is: the DuckDB file, or the ``postgresql://`` URL read from ``url_env``."""
        if self.url_env is None:
            assert self.database is not None
            return self.database
        url = os.environ.get(self.url_env)
        if not url:
            raise ConfigError(
                f"the environment variable {self.url_env} (named by [database] url_env) is not set: "
                "set it to the PostgreSQL store's postgresql://… URL",
                key="database.url_env",
            )
        if not url.startswith(("postgresql://", "postgres://")):
            raise ConfigError(
                f"the environment variable {self.url_env} (named by [database] url_env) must hold a "
                "postgresql://… URL",
                key="database.url_env",
            )
        return url

    @property
    def till(self) -> str | None:
        """``[till] name``: which till this is, when several share one store (its print jobs are its own)."""
        table = self.raw.get("till")
        if table is None:
            return None
        name = table.get("name") if isinstance(table, dict) else None
        if name is None and isinstance(table, dict):  # a [till] table giving only its anchors
            return None
        if not isinstance(name, str) or not name.strip():
            raise ConfigError(
                '[till] name must be a non-empty string (e.g. name = "comptoir-1")', key="till.name"
            )
        return name.strip()

    @property
    def till_anchors(self) -> Path | None:
        """``[till] anchors``: this till's witness of a PostgreSQL store's chain heads (None: the
        default file in the user's state directory); relative to the configuration file."""
        table = self.raw.get("till")
        value = table.get("anchors") if isinstance(table, dict) else None
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(
                '[till] anchors must be a non-empty string (a file, e.g. anchors = "comptoir-1.anchors")',
                key="till.anchors",
            )
        path = Path(value.strip()).expanduser()
        base = self.source.resolve().parent if self.source is not None else Path(".")
        return path if path.is_absolute() else base / path

    @property
    def where(self) -> str:
        """The store's place for messages: the DuckDB file, or the server's URL without its password."""
        if self.url_env is None:
            return str(self.database)
        from fastimport.store.postgres import shown

        return shown(str(self.target))

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
    if not isinstance(raw.get("database"), dict):
        raise ConfigError("the [database] table is missing", key="database")
    database = convert(raw["database"], DatabaseTable, where="database")
    if database.path is not None and database.url_env is not None:
        raise ConfigError(
            "[database] has both path (a DuckDB file) and url_env (a PostgreSQL server): keep one",
            key="database",
        )
    if database.path is None and database.url_env is None:
        raise ConfigError(
            "[database] needs path (a DuckDB file) or url_env (the variable holding a postgresql:// URL)",
            key="database.path",
        )
    db_path = None if database.path is None else Path(database.path)
    if db_path is not None and not db_path.is_absolute():
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
    return Config(database=db_path, stores=stores, source=source, raw=raw, url_env=database.url_env)


def _store(entry: Any, index: int) -> StoreConfig:
    # The platform packages define the store tables; they import this module, so ask them late.
    from fastimport.io.registry import platform, platform_names

    where = f"stores[{index}]"
    if not isinstance(entry, dict):
        raise ConfigError(f"{where} must be a table", key=where)
    if isinstance(entry.get("name"), str):
        where += f" ('{entry['name']}')"
    word = entry.get("platform")
    if word is None:
        raise ConfigError(f"{where}.platform is missing", key=f"{where}.platform")
    if word not in platform_names():
        raise ConfigError(
            f"{where}.platform must be one of {', '.join(platform_names())} (got {word!r})",
            key=f"{where}.platform",
        )
    return platform(word).build(entry, where)
