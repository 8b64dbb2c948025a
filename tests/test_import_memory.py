"""What bounds an import's memory: DuckDB's fixed pool, Arrow's allocator, the batch."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from fastimport.batch_columns import arrow_memory_pool
from fastimport.importer import DEFAULT_BATCH_ORDERS
from fastimport.store.db import (
    INGEST_MEMORY_MB,
    MEMORY_LIMIT,
    Connection,
    connect,
    ingest_settings,
)

_UNITS = {"MiB": 1.048576, "GiB": 1073.741824, "KiB": 0.001024}


def _mb(con: Connection, setting: str) -> float:
    text = con.execute(f"SELECT current_setting('{setting}')").fetchall()[0][0]
    number, unit = text.split()
    return float(number) * _UNITS[unit]


def test_pool_is_set_for_the_import_and_put_back(tmp_path: Path) -> None:
    con = connect(tmp_path / "till.duckdb")
    before = _mb(con, "memory_limit")
    assert round(before) == int(MEMORY_LIMIT.removesuffix("MB"))
    with ingest_settings(con):
        assert round(_mb(con, "memory_limit")) == INGEST_MEMORY_MB
    assert round(_mb(con, "memory_limit")) == round(before)  # DuckDB reports it rounded to 0.1 MiB
    con.close()


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
