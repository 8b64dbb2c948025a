"""``stock push``: send the changed levels to each store (Polars plan, batched calls), record what was accepted."""

from __future__ import annotations

import asyncio
from typing import Any

from fastimport.config import Config
from fastimport.processing import stock
from fastimport.store.db import Connection


def push_stock(con: Connection, config: Config) -> dict[str, Any]:
    from fastimport.io.connector import fetcher_for
    from fastimport.io.pushback import StockLevel, push_stock, session
    from fastimport.io.registry import push_back_for

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
                levels = [StockLevel(p.product_id, p.variation_id, p.sku, p.level) for p in items]
                # Batched where the platform offers it, else one call per SKU.
                answers = await push_stock(push_back_for(cfg), fetcher_for(cfg, http), levels)
                for a in answers:
                    results.append((by_key[(a.item.product_id, a.item.variation_id)], a.accepted, a.error))

    if plan:
        # Written before the shop is called: a run killed mid-call leaves these last, and the next
        # run pushes those articles again whatever the shop took (see stock.IN_FLIGHT).
        stock.record_pushes(con, [(p, False, stock.IN_FLIGHT) for p in plan])
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
