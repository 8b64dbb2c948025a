"""The processing tables of ``fastimport.toml``: ``[seller]``, ``[invoicing]``, ``[carriers]``, ``[payment_methods]``.

Read from ``Config.raw`` so the core configuration stays the importer's.  The
signing key never lives in the file: ``[invoicing].secret_env`` names the
environment variable that holds it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import msgspec
import orjson
from msgspec import UNSET, UnsetType

from fastimport.config import Config
from fastimport.errors import ConfigError
from fastimport.processing import numbering
from fastimport.store.db import Connection
from fastimport.typed import convert, invalid

# Mandatory on every invoice (CGI annexe II art. 242 nonies A, Code de commerce L441-9).
SELLER_REQUIRED = ("name", "legal_form", "address", "siren", "siret", "vat_number")
SELLER_OPTIONAL = ("capital", "rcs", "shop_name", "shop_address", "email", "phone")
DEFAULT_SERIES = "FA-{year}-{store}"
DEFAULT_CREDIT_SERIES = "AV-{year}-{store}"
DEFAULT_DELIVERY_SERIES = "BL-{year}"
# Invoices per transaction in batch: each statement of a chunk costs some milliseconds whatever its size
# (a scan of the orders, lines and documents), so 5000 took a fifth off the batch's CPU against 2000
# (bench_invoice, 20,000 orders); a process killed mid-chunk loses (and retries) at most that chunk.
DEFAULT_CHUNK = 5000
# WooCommerce tax classes of a French shop, and the rates they carry (percent).
DEFAULT_TAX_CLASSES = {
    "": "20",
    "standard": "20",
    "reduced-rate": "10",
    "taux-reduit": "10",
    "taux-reduit-5-5": "5.5",
    "taux-particulier": "2.1",
    "zero-rate": "0",
}


_Text = str | int | float  # a value the tables accept as text (``capital = 10000`` is fine)


class SellerSettings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The ``[seller]`` table: the identity printed on every invoice (frozen into each record)."""

    name: str | UnsetType = UNSET
    legal_form: str | UnsetType = UNSET
    address: str | UnsetType = UNSET
    siren: str | UnsetType = UNSET
    siret: str | UnsetType = UNSET
    vat_number: str | UnsetType = UNSET
    capital: _Text | UnsetType = UNSET
    rcs: _Text | UnsetType = UNSET
    shop_name: _Text | UnsetType = UNSET
    shop_address: _Text | UnsetType = UNSET
    email: _Text | UnsetType = UNSET
    phone: _Text | UnsetType = UNSET

    def problem(self) -> str | None:
        """Why invoicing must refuse this identity (a mandatory mention is missing), or None."""
        missing = [k for k in SELLER_REQUIRED if not str(getattr(self, k) or "").strip()]
        return "missing " + ", ".join(f"seller.{k}" for k in missing) if missing else None

    def as_dict(self) -> dict[str, str]:
        out = {k: str(getattr(self, k) or "").strip() for k in SELLER_REQUIRED}
        for k in SELLER_OPTIONAL:
            value = getattr(self, k)
            if value is not UNSET and value != "":
                out[k] = str(value).strip()
        return out

    def canonical(self) -> str:
        """The identity as frozen into each invoice: sorted-keys compact JSON."""
        return orjson.dumps(self.as_dict(), option=orjson.OPT_SORT_KEYS).decode()


class InvoicingSettings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The ``[invoicing]`` table (and ``[invoicing.tax_classes]``)."""

    secret_env: str | UnsetType = UNSET
    series: str = DEFAULT_SERIES
    credit_series: str = DEFAULT_CREDIT_SERIES
    delivery_series: str = DEFAULT_DELIVERY_SERIES
    chunk: int = DEFAULT_CHUNK
    tax_classes: dict[str, Any] = msgspec.field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.secret_env, UnsetType) and not self.secret_env.strip():
            raise invalid("secret_env", "must be the name of an environment variable")
        for key, default in (
            ("series", DEFAULT_SERIES),
            ("credit_series", DEFAULT_CREDIT_SERIES),
            ("delivery_series", DEFAULT_DELIVERY_SERIES),
        ):
            _check_pattern(key, getattr(self, key), default)
        if len({self.series.strip(), self.credit_series.strip(), self.delivery_series.strip()}) != 3:
            raise invalid(
                "series",
                "(with credit_series and delivery_series) must differ: each is its own continuous series",
            )
        if not 1 <= self.chunk <= 100_000:
            raise invalid("chunk", "must be a whole number from 1 to 100000")
        _check_names_to_text("tax_classes", self.tax_classes)


class ProcessingTables(msgspec.Struct, frozen=True, kw_only=True):
    """The processing tables of ``fastimport.toml``, as written (other tables belong to other rooms)."""

    seller: SellerSettings | UnsetType = UNSET
    invoicing: InvoicingSettings = msgspec.field(default_factory=InvoicingSettings)
    carriers: dict[str, Any] = msgspec.field(default_factory=dict)
    payment_methods: dict[str, Any] = msgspec.field(default_factory=dict)

    def __post_init__(self) -> None:
        _check_names_to_text("carriers", self.carriers)
        _check_names_to_text("payment_methods", self.payment_methods)


@dataclass(frozen=True, slots=True)
class ProcessingSettings:
    seller: SellerSettings | None
    seller_problem: str | None
    secret_env: str | None
    series: str = DEFAULT_SERIES
    credit_series: str = DEFAULT_CREDIT_SERIES
    delivery_series: str = DEFAULT_DELIVERY_SERIES
    chunk: int = DEFAULT_CHUNK
    tax_classes: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_TAX_CLASSES))
    carriers: dict[str, str] = field(default_factory=dict)
    payment_methods: dict[str, str] = field(default_factory=dict)

    def key(self) -> bytes:
        """The HMAC key, or a ConfigError in plain words when it is not available."""
        if not self.secret_env:
            raise ConfigError(
                "invoicing is not set up: add secret_env to the [invoicing] table, naming the environment "
                "variable that holds the invoice signing key",
                key="invoicing.secret_env",
            )
        value = os.environ.get(self.secret_env)
        if not value:
            raise ConfigError(
                f"the invoice signing key is missing: set the environment variable {self.secret_env} "
                "(named by [invoicing].secret_env) before invoicing or verifying",
                key="invoicing.secret_env",
            )
        return value.encode()

    def checked_key(self, con: Connection) -> bytes:
        """The HMAC key, once compared with the fingerprint of the key this till's records were signed with."""
        from fastimport.processing import chain

        key = self.key()
        chain.check_key(con, key, self.secret_env)
        return key

    def require_seller(self) -> SellerSettings:
        if self.seller is None:
            raise ConfigError(
                f"invoicing refuses to start: the seller identity is incomplete ({self.seller_problem}); "
                "fill the [seller] table with name, legal_form, address, siren, siret and vat_number",
                key="seller",
            )
        return self.seller

    def fingerprint(self) -> str:
        """What the journal compares to record setting changes (never the key itself)."""
        data = {
            "seller": self.seller.as_dict() if self.seller else None,
            "series": [self.series, self.credit_series, self.delivery_series],
            "secret_env": self.secret_env,
            "tax_classes": self.tax_classes,
            "carriers": self.carriers,
            "payment_methods": self.payment_methods,
        }
        return orjson.dumps(data, option=orjson.OPT_SORT_KEYS).decode()

    def carrier_for(self, shipping_method: str | None, title: str | None) -> str | None:
        for key in (shipping_method, title):
            if key and key in self.carriers:
                return self.carriers[key]
        return None

    def payment_label(self, method: str | None, title: str | None) -> str:
        if method and method in self.payment_methods:
            return self.payment_methods[method]
        return title or method or "unknown"


def load_settings(config: Config) -> ProcessingSettings:
    raw = config.raw
    tables = convert({k: raw[k] for k in _TABLES if k in raw}, ProcessingTables)
    inv = tables.invoicing
    seller = tables.seller
    problem = "there is no [seller] table" if isinstance(seller, UnsetType) else seller.problem()
    if not isinstance(seller, UnsetType):  # mandatory mentions are printed as written, without stray spaces
        seller = msgspec.structs.replace(
            seller, **{k: str(getattr(seller, k)).strip() for k in SELLER_REQUIRED}
        )
    return ProcessingSettings(
        seller=None if problem or isinstance(seller, UnsetType) else seller,
        seller_problem=problem,
        secret_env=None if isinstance(inv.secret_env, UnsetType) else inv.secret_env.strip() or None,
        series=inv.series.strip(),
        credit_series=inv.credit_series.strip(),
        delivery_series=inv.delivery_series.strip(),
        chunk=inv.chunk,
        tax_classes={**DEFAULT_TAX_CLASSES, **_as_text(inv.tax_classes)},
        carriers=_as_text(tables.carriers),
        payment_methods=_as_text(tables.payment_methods),
    )


_TABLES = tuple(ProcessingTables.__struct_fields__)


def _check_pattern(key: str, value: str, default: str) -> None:
    if not value.strip():
        raise invalid(key, f"must be a non-empty pattern like {default!r}")
    try:
        numbering.series_for(value, year=2000, store="s")
    except (KeyError, IndexError, ValueError):
        raise invalid(key, f"{value!r} may only use {{year}} and {{store}} in braces") from None


def _check_names_to_text(table: str, mapping: dict[str, Any]) -> None:
    """``[carriers]``-like tables map names to text; a number is taken as its text (``"10" = 10``)."""
    for key, value in mapping.items():
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise invalid(f"{table}.{key}", f"must be text (got {value!r})")


def _as_text(mapping: dict[str, Any]) -> dict[str, str]:
    return {str(k): str(v) for k, v in mapping.items()}
