"""Helpers for the processing tests (no tests here): a seller, a signing key, orders imported on the real path."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from fastimport import ranges
from fastimport.catalog import sync_catalog
from fastimport.config import Config, parse_config
from fastimport.importer import run_imports
from fastimport.store import connect
from tests.conftest import KEY_ENV, SECRET_ENV, SIGNING_ENV, SIGNING_KEY, database_table, store_table

W0 = dt.datetime(2026, 3, 23, tzinfo=dt.UTC)
W1 = dt.datetime(2026, 3, 31, tzinfo=dt.UTC)
SELLER = {
    "name": "Boutique Exemple",
    "legal_form": "SARL",
    "capital": "10 000 EUR",
    "address": "3 place Bellecour, 69002 Lyon",
    "siren": "123456789",
    "siret": "12345678900012",
    "rcs": "RCS Lyon 123 456 789",
    "vat_number": "FR12123456789",
}


def raw_config(tmp_path: Path, url: str, chunk: int = 500, **store: Any) -> dict[str, Any]:
    return {
        "database": database_table(tmp_path),
        "stores": [store_table(url, **store)],
        "seller": dict(SELLER),
        "invoicing": {"secret_env": SIGNING_ENV, "chunk": chunk},
        "carriers": {"colissimo": "Colissimo", "flat_rate": "La Poste"},
        "payment_methods": {"stripe": "Carte bancaire"},
    }


def processing_config(tmp_path: Path, url: str, chunk: int = 500, **store: Any) -> Config:
    return parse_config(raw_config(tmp_path, url, chunk, **store))


def write_toml(tmp_path: Path, url: str, chunk: int = 500) -> Path:
    raw = raw_config(tmp_path, url, chunk)
    out = ["[database]", *(f'{k} = "{v}"' for k, v in raw["database"].items()), "", "[[stores]]"]
    for k, v in raw["stores"][0].items():
        out.append(f"{k} = {v!r}".replace("'", '"') if isinstance(v, str) else f"{k} = {v}")
    for table in ("seller", "invoicing", "carriers", "payment_methods"):
        out.append(f"\n[{table}]")
        for k, v in raw[table].items():
            out.append(f'{k} = "{v}"' if isinstance(v, str) else f"{k} = {v}")
    path = tmp_path / "fastimport.toml"
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
    return path


def env() -> dict[str, str]:
    import os

    out = dict(os.environ)
    out[KEY_ENV], out[SECRET_ENV], out[SIGNING_ENV] = "ck_test", "cs_test", SIGNING_KEY
    return out


async def import_shop(config: Config, catalog: bool = True) -> None:
    con = connect(config.target)
    try:
        if catalog:
            await sync_catalog(con, config.stores[0])
        rng = ranges.ImportRange(W0, W1, "created", "range")
        reports = await run_imports(con, [(config.stores[0], rng)])
        assert reports[0].ok, reports[0].error
    finally:
        con.close()
