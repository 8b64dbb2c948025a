"""The workloads and how many orders each peer reads in them.

W1: a big import, no latency.  The slow peers (pure-Python core, naive script, dlt)
read the first part of the same range (fewer orders, reported per order).
W2: a slow shop (250 ms per page) that admits 8 requests at once (503 beyond).
W3: W1's range again into W1's database: nothing changed, nothing to write.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from bench.shop import ShopSpec

PER_PAGE = 100


@dataclass(frozen=True, slots=True)
class PeerPlan:
    key: str  # the row's name in the results
    peer: str  # what bench.child runs
    orders: int  # how many orders of the range it reads (0 = all of the shop)
    concurrency: int = 16
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Plan:
    w1: ShopSpec
    w1_peers: tuple[PeerPlan, ...]
    w2: ShopSpec
    w2_peers: tuple[PeerPlan, ...]
    batch_orders: int
    w3: bool = True

    @property
    def w2_bound(self) -> float:
        """Orders/s of a shop that serves ``max_concurrency`` pages at once, each taking ``latency``."""
        return self.w2.max_concurrency * PER_PAGE / self.w2.latency


def full(concurrency: int = 16, batch_orders: int = 20_000) -> Plan:
    n = 1_000_000
    return Plan(
        w1=ShopSpec(orders=n),
        w1_peers=(
            PeerPlan("ceiling-fetch", "ceiling-fetch", 0, concurrency),
            PeerPlan("ceiling-orjson", "ceiling-orjson", 200_000, concurrency),
            PeerPlan("ceiling-duckdb", "ceiling-duckdb", n, concurrency, {"core": "native"}),
            PeerPlan("fastimport-native", "fastimport", 0, concurrency, {"core": "native"}),
            PeerPlan("fastimport-python", "fastimport", 100_000, concurrency, {"core": "python"}),
            PeerPlan("competent", "competent", 200_000, concurrency),
            PeerPlan("naive", "naive", 1_000, 1),
            PeerPlan("dlt-parquet", "dlt", 10_000, 1, {"format": "parquet"}),
            PeerPlan("dlt-default", "dlt", 5_000, 1, {"format": "default"}),
        ),
        w2=ShopSpec(orders=100_000, latency=0.25, max_concurrency=8),
        w2_peers=(
            PeerPlan("ceiling-fetch", "ceiling-fetch", 0, 8),
            PeerPlan("fastimport-native", "fastimport", 0, 8, {"core": "native"}),
        ),
        batch_orders=batch_orders,
    )


def quick(concurrency: int = 16, batch_orders: int = 20_000) -> Plan:
    n = 20_000
    return Plan(
        w1=ShopSpec(orders=n),
        w1_peers=(
            PeerPlan("ceiling-fetch", "ceiling-fetch", 0, concurrency),
            PeerPlan("ceiling-orjson", "ceiling-orjson", 0, concurrency),
            PeerPlan("ceiling-duckdb", "ceiling-duckdb", n, concurrency, {"core": "native"}),
            PeerPlan("fastimport-native", "fastimport", 0, concurrency, {"core": "native"}),
            PeerPlan("fastimport-python", "fastimport", 5_000, concurrency, {"core": "python"}),
            PeerPlan("competent", "competent", 0, concurrency),
            PeerPlan("naive", "naive", 300, 1),
            PeerPlan("dlt-parquet", "dlt", 1_000, 1, {"format": "parquet"}),
            PeerPlan("dlt-default", "dlt", 500, 1, {"format": "default"}),
        ),
        w2=ShopSpec(orders=4_000, latency=0.25, max_concurrency=8),
        w2_peers=(
            PeerPlan("ceiling-fetch", "ceiling-fetch", 0, 8),
            PeerPlan("fastimport-native", "fastimport", 0, 8, {"core": "native"}),
        ),
        batch_orders=min(batch_orders, 5_000),
    )


def with_orders(plan: Plan, n: int) -> Plan:
    """W1 with ``n`` orders; no peer reads more than the shop has."""
    peers = tuple(replace(p, orders=min(p.orders, n)) if p.orders else p for p in plan.w1_peers)
    peers = tuple(replace(p, orders=n) if p.peer == "ceiling-duckdb" else p for p in peers)
    return replace(plan, w1=replace(plan.w1, orders=n), w1_peers=peers)


def only(plan: Plan, keys: set[str]) -> Plan:
    """Keep the named peers (``w3`` or ``fastimport-native`` keeps the re-import)."""
    return replace(
        plan,
        w1_peers=tuple(p for p in plan.w1_peers if p.key in keys),
        w2_peers=tuple(p for p in plan.w2_peers if p.key in keys or f"w2:{p.key}" in keys),
        w3=bool(keys & {"w3", "fastimport-native"}),
    )
