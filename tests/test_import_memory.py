"""What bounds an import's memory: DuckDB's pool sized to the store, Arrow's allocator, the batch."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from fastimport.batch_columns import arrow_memory_pool
from fastimport.importer import DEFAULT_BATCH_ORDERS
from fastimport.store.db import INGEST_MEMORY_BASE_MB, Connection, connect, ingest_memory_mb, ingest_settings


def _limit_mb(con: Connection) -> float:
    text = con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]
    number, unit = text.split()
    return float(number) * {"MiB": 1.048576, "GiB": 1073.741824, "KiB": 0.001024}[unit]


def test_pool_follows_the_store_and_is_put_back(tmp_path: Path) -> None:
    con = connect(tmp_path / "till.duckdb")
    before = _limit_mb(con)
    with ingest_settings(con) as memory:
        assert memory is not None
        assert round(_limit_mb(con)) == INGEST_MEMORY_BASE_MB  # an empty store
        memory.grow(1_000_000)  # a million orders on their way: room for their indexes
        assert round(_limit_mb(con)) == ingest_memory_mb(1_000_000) > 128
        memory.grow(10)  # too few to matter: the setting is left alone
        assert memory.limit_mb == ingest_memory_mb(1_000_000)
    assert round(_limit_mb(con)) == round(before)  # DuckDB reports it rounded to 0.1 MiB
    con.close()


def test_pool_grows_with_the_store() -> None:
    # 550,000 orders failed a checkpoint under a fixed 64 MB: the sized pool gives them more.
    assert ingest_memory_mb(0) == INGEST_MEMORY_BASE_MB
    assert ingest_memory_mb(550_000) > 128
    assert ingest_memory_mb(2_000_000) > ingest_memory_mb(1_000_000)


def test_arrow_pool_is_put_back() -> None:
    before = pa.default_memory_pool().backend_name
    with arrow_memory_pool():
        inside = pa.default_memory_pool().backend_name
        data = pa.array(range(1000))
    assert inside in ("jemalloc", before)  # jemalloc where this pyarrow has it
    assert pa.default_memory_pool().backend_name == before
    assert data.sum().as_py() == 499_500  # a buffer from the import's pool outlives it


def test_batch_bounds_memory() -> None:
    # Three batches are alive at once (filling, packing, writing): a smaller one is a lower peak.
    assert DEFAULT_BATCH_ORDERS <= 5_000
