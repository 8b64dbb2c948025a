"""``stock push``: send the changed levels to each store (Polars plan, batched calls), record what was accepted."""

from __future__ import annotations

import asyncio
from typing import Any

import duckdb

from fastimport.config import Config, StoreConfig
from fastimport.errors import FetchError
from fastimport.io.fetcher import Fetcher
from fastimport.processing import stock


def push_stock(con: duckdb.DuckDBPyConnection, config: Config) -> dict[str, Any]:
    from fastimport.io.connector import fetcher_for
    from fastimport.io.woocommerce_push import StockUpdate, WooCommercePush, session

    stock.ensure_initial_levels(con)
    plan = stock.push_plan(con)
    names = {int(r[0]): str(r[1]) for r in con.execute("SELECT store_id, name FROM stores").fetchall()}
    results: list[tuple[stock.PushItem, bool, str | None]] = []

    async def run() -> None:
        async with session() as http:
            for store_id in sorted({p.store_id for p in plan}):
                cfg = config.store(names[store_id])
                items = [p for p in plan if p.store_id == store_id]
                by_key = {(p.product_id, p.variation_id): p for p in items}
                fetcher = fetcher_for(cfg, http)
                if cfg.platform != "woocommerce":
                    results.extend(await _push_one_by_one(cfg, fetcher, items))
                    continue
                pusher = WooCommercePush(cfg, fetcher)
                answers = await pusher.push_stock(
                    [StockUpdate(p.product_id, p.variation_id, p.level) for p in items]
                )
                for a in answers:
                    results.append(
                        (by_key[(a.update.product_id, a.update.variation_id)], a.accepted, a.error)
                    )

    if plan:
        asyncio.run(run())
        stock.record_pushes(con, results)
    accepted = [r for r in results if r[1]]
    return {
        "changed": len(plan),
        "accepted": len(accepted),
        "refused": [
            {"store": names[r[0].store_id], "product_id": r[0].product_id, "variation_id": r[0].variation_id,
             "sku": r[0].sku, "level": r[0].level, "error": r[2]}
            for r in results if not r[1]
        ],
        "pushed": [
            {"store": names[r[0].store_id], "product_id": r[0].product_id, "variation_id": r[0].variation_id,
             "sku": r[0].sku, "level": r[0].level}
            for r in accepted
        ],
    }  # fmt: skip


async def _push_one_by_one(
    cfg: StoreConfig, fetcher: Fetcher, items: list[stock.PushItem]
) -> list[tuple[stock.PushItem, bool, str | None]]:
    """Platforms without a batch endpoint for stock (Shopify, PrestaShop): one call per article, by SKU."""
    from fastimport.io.connector import PushBack, connector_for

    connector = connector_for(cfg)
    out: list[tuple[stock.PushItem, bool, str | None]] = []
    for item in items:
        if not isinstance(connector, PushBack):
            out.append((item, False, f"fastimport cannot write stock back to {cfg.platform} shops"))
        elif not item.sku:
            out.append((item, False, "the article has no SKU, which this platform needs to find it"))
        else:
            try:
                await connector.set_stock(fetcher, item.sku, item.level)
                out.append((item, True, None))
            except FetchError as exc:
                out.append((item, False, exc.message))
    return out
