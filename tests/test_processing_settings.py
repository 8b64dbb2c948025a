"""[seller], [invoicing], [carriers], [payment_methods]: typed tables whose errors name the key."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from fastimport.config import Config
from fastimport.errors import ConfigError
from fastimport.processing.settings import DEFAULT_TAX_CLASSES, ProcessingTables, load_settings
from fastimport.typed import convert

SELLER = {
    "name": " Boutique ",
    "legal_form": "SARL",
    "address": "3 place Bellecour 69002 Lyon",
    "siren": "123456789",
    "siret": "12345678900012",
    "vat_number": "FR12123456789",
    "capital": 10000,
}


def _settings(raw: dict[str, Any]) -> Any:
    return load_settings(Config(database=Path("x.duckdb"), stores=(), raw=raw))


def test_defaults_and_readme_example() -> None:
    raw = tomllib.loads(
        '[invoicing]\nsecret_env = "KEY"\n[invoicing.tax_classes]\n"taux-reduit" = "10"\n'
        '[carriers]\nflat_rate = "Colissimo"\n[payment_methods]\nstripe = "CB Stripe"\n'
    )
    s = _settings({**raw, "seller": SELLER})
    assert (s.series, s.credit_series, s.delivery_series, s.chunk) == (
        "FA-{year}-{store}",
        "AV-{year}-{store}",
        "BL-{year}",
        5000,
    )
    assert s.tax_classes == DEFAULT_TAX_CLASSES and s.carriers == {"flat_rate": "Colissimo"}
    assert s.secret_env == "KEY" and s.payment_label("stripe", None) == "CB Stripe"
    assert s.require_seller().name == "Boutique"
    assert s.require_seller().as_dict()["capital"] == "10000"
    assert _settings({}).seller_problem == "there is no [seller] table"


@pytest.mark.parametrize(
    ("raw", "key", "words"),
    [
        (
            {"invoicing": {"chunk": 0}},
            "invoicing.chunk",
            "invoicing.chunk must be a whole number from 1 to 100000 (got 0)",
        ),
        ({"invoicing": {"series": "FA-{x}"}}, "invoicing.series", "may only use {year} and {store}"),
        ({"invoicing": {"series": "A", "credit_series": "A"}}, "invoicing.series", "must differ"),
        (
            {"invoicing": {"sekret_env": "K"}},
            "invoicing.sekret_env",
            "invoicing.sekret_env is not a known key",
        ),
        ({"invoicing": {"tax_classes": {"x": [1]}}}, "invoicing.tax_classes.x", "must be text"),
        ({"seller": {**SELLER, "nme": "x"}}, "seller.nme", "seller.nme is not a known key"),
        ({"carriers": {"flat_rate": {"a": 1}}}, "carriers.flat_rate", "carriers.flat_rate must be text"),
        ({"payment_methods": 3}, "payment_methods", "payment_methods must be a table"),
    ],
)
def test_bad_values_name_the_key(raw: dict[str, Any], key: str, words: str) -> None:
    with pytest.raises(ConfigError) as info:
        convert(raw, ProcessingTables)
    assert info.value.key == key
    assert words in str(info.value)


def test_incomplete_seller_is_refused_at_invoicing_not_at_load() -> None:
    s = _settings({"seller": {**SELLER, "siret": "  "}})
    assert s.seller is None and s.seller_problem == "missing seller.siret"
    with pytest.raises(ConfigError, match=r"seller\.siret"):
        s.require_seller()
