"""The processing tables of ``fastimport.toml``: ``[seller]``, ``[invoicing]``, ``[carriers]``, ``[payment_methods]``.

Read from ``Config.raw`` so the core configuration stays the importer's.  The
signing key never lives in the file: ``[invoicing].secret_env`` names the
environment variable that holds it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import orjson

from fastimport.config import Config
from fastimport.errors import ConfigError
from fastimport.processing import numbering

# Mandatory on every invoice (CGI annexe II art. 242 nonies A, Code de commerce L441-9).
SELLER_REQUIRED = ("name", "legal_form", "address", "siren", "siret", "vat_number")
SELLER_OPTIONAL = ("capital", "rcs", "shop_name", "shop_address", "email", "phone")
DEFAULT_SERIES = "FA-{year}-{store}"
DEFAULT_CREDIT_SERIES = "AV-{year}-{store}"
DEFAULT_DELIVERY_SERIES = "BL-{year}"
DEFAULT_CHUNK = 2000
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


@dataclass(frozen=True, slots=True)
class Seller:
    name: str
    legal_form: str
    address: str
    siren: str
    siret: str
    vat_number: str
    extra: tuple[tuple[str, str], ...] = ()

    def as_dict(self) -> dict[str, str]:
        out = {k: getattr(self, k) for k in SELLER_REQUIRED}
        out.update(dict(self.extra))
        return out

    def canonical(self) -> str:
        """The identity as frozen into each invoice: sorted-keys compact JSON."""
        return orjson.dumps(self.as_dict(), option=orjson.OPT_SORT_KEYS).decode()


@dataclass(frozen=True, slots=True)
class ProcessingSettings:
    seller: Seller | None
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

    def require_seller(self) -> Seller:
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
    seller, problem = _seller(raw.get("seller"))
    inv = raw.get("invoicing", {})
    if not isinstance(inv, dict):
        raise ConfigError("[invoicing] must be a table", key="invoicing")
    secret_env = inv.get("secret_env")
    if secret_env is not None and (not isinstance(secret_env, str) or not secret_env.strip()):
        raise ConfigError(
            "invoicing.secret_env must be the name of an environment variable", key="invoicing.secret_env"
        )
    series = _pattern(inv, "series", DEFAULT_SERIES)
    credit = _pattern(inv, "credit_series", DEFAULT_CREDIT_SERIES)
    delivery = _pattern(inv, "delivery_series", DEFAULT_DELIVERY_SERIES)
    if len({series, credit, delivery}) != 3:
        raise ConfigError(
            "invoicing.series, credit_series and delivery_series must differ: each is its own continuous series",
            key="invoicing.series",
        )
    chunk = inv.get("chunk", DEFAULT_CHUNK)
    if isinstance(chunk, bool) or not isinstance(chunk, int) or not 1 <= chunk <= 100_000:
        raise ConfigError("invoicing.chunk must be a whole number from 1 to 100000", key="invoicing.chunk")
    tax_classes = dict(DEFAULT_TAX_CLASSES)
    tax_classes.update(_str_map(inv.get("tax_classes", {}), "invoicing.tax_classes"))
    return ProcessingSettings(
        seller=seller,
        seller_problem=problem,
        secret_env=secret_env.strip() if secret_env else None,
        series=series,
        credit_series=credit,
        delivery_series=delivery,
        chunk=chunk,
        tax_classes=tax_classes,
        carriers=_str_map(raw.get("carriers", {}), "carriers"),
        payment_methods=_str_map(raw.get("payment_methods", {}), "payment_methods"),
    )


def _seller(table: Any) -> tuple[Seller | None, str | None]:
    if table is None:
        return None, "there is no [seller] table"
    if not isinstance(table, dict):
        raise ConfigError("[seller] must be a table", key="seller")
    missing = [k for k in SELLER_REQUIRED if not isinstance(table.get(k), str) or not table[k].strip()]
    if missing:
        return None, "missing " + ", ".join(f"seller.{k}" for k in missing)
    extra = tuple((k, str(table[k]).strip()) for k in SELLER_OPTIONAL if table.get(k) not in (None, ""))
    name, form, address, siren, siret, vat = (str(table[k]).strip() for k in SELLER_REQUIRED)
    return Seller(name, form, address, siren, siret, vat, extra), None


def _pattern(table: dict[str, Any], key: str, default: str) -> str:
    value = table.get(key, default)
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(
            f"invoicing.{key} must be a non-empty pattern like {default!r}", key=f"invoicing.{key}"
        )
    try:
        numbering.series_for(value, year=2000, store="s")
    except (KeyError, IndexError, ValueError) as exc:
        raise ConfigError(
            f"invoicing.{key} = {value!r}: only {{year}} and {{store}} may appear in braces",
            key=f"invoicing.{key}",
        ) from exc
    return value.strip()


def _str_map(value: Any, where: str) -> dict[str, str]:
    if not isinstance(value, dict) or not all(isinstance(v, str | int | float) for v in value.values()):
        raise ConfigError(f"[{where}] must be a table of names to text", key=where)
    return {str(k): str(v) for k, v in value.items()}
