"""Catalogue sync: the shop's products (with variations) and customers into the store."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import aiohttp

from fastimport.config import StoreConfig
from fastimport.io.connector import fetcher_for
from fastimport.io.registry import connector_for
from fastimport.store import imports, queries
from fastimport.store.db import Connection


@dataclass(frozen=True, slots=True)
class CatalogReport:
    store: str
    products: int
    customers: int


async def sync_catalog(con: Connection, cfg: StoreConfig) -> CatalogReport:
    connector = connector_for(cfg)
    async with aiohttp.ClientSession() as session:
        fetcher = fetcher_for(cfg, session)
        products = await connector.catalog(fetcher)
        customers = await connector.customers(fetcher)
    store_id = imports.ensure_store(con, cfg.name, cfg.platform, cfg.url, cfg.timezone)
    queries.store_catalog(
        con, store_id, [dataclasses.asdict(p) for p in products], [dataclasses.asdict(c) for c in customers]
    )
    return CatalogReport(cfg.name, len(products), len(customers))
