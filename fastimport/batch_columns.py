"""Column work on a page's or a batch's orders and lines (pyarrow), shared by the import and ingest; the pool their buffers come from."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import pyarrow as pa
import pyarrow.compute as pc


def take_orders(orders: pa.Table, lines: pa.Table, indices: pa.Array) -> tuple[pa.Table, pa.Table]:
    """Keep the orders at ``indices`` and their lines, renumbering ``order_index``."""
    kept = orders.take(indices)
    if lines.num_rows == 0:
        return kept, lines
    # old order index -> new position (or null when dropped)
    remap = pa.array(_remap_list(orders.num_rows, indices.to_pylist()), type=pa.int32())
    new_index = pc.take(remap, lines.column("order_index"))
    mask = pc.is_valid(new_index)
    lines = lines.filter(mask)
    lines = lines.set_column(
        lines.schema.get_field_index("order_index"), "order_index", pc.drop_null(new_index)
    )
    return kept, lines


def _remap_list(n: int, keep: Sequence[int]) -> list[int | None]:
    out: list[int | None] = [None] * n
    for new, old in enumerate(keep):
        out[old] = new
    return out


def last_version_only(orders: pa.Table) -> pa.Table:
    """An order changed on the shop while we paged can arrive twice in one batch: keep its last version."""
    ids = orders.column("order_id")
    if pc.count_distinct(ids).as_py() == orders.num_rows:
        return orders
    last: dict[int, int] = {}
    for position, order_id in enumerate(ids.to_pylist()):
        last[order_id] = position
    return orders.take(pa.array(sorted(last.values()), pa.int64()))


def line_counts(n_orders: int, line_index: pa.ChunkedArray | pa.Array) -> pa.Array:
    """Lines per order; the core emits lines grouped by order, in order."""
    if isinstance(line_index, pa.ChunkedArray):
        line_index = line_index.combine_chunks()
    runs = pc.run_end_encode(line_index, run_end_type=pa.int32())
    if len(runs.values) == n_orders:  # every order has lines: the run lengths are the counts
        ends = runs.run_ends
        return pc.subtract(ends, pa.concat_arrays([pa.array([0], pa.int32()), ends.slice(0, n_orders - 1)]))
    counts = [0] * n_orders
    if len(line_index):
        tally = pc.value_counts(line_index)
        for idx, count in zip(tally.field(0).to_pylist(), tally.field(1).to_pylist(), strict=True):
            counts[idx] = count
    return pa.array(counts, type=pa.int32())


@contextmanager
def arrow_memory_pool() -> Iterator[None]:
    """Arrow's buffers from jemalloc while the import runs, where pyarrow has it (Linux wheels).

    The parse thread allocates a page's columns and the store thread frees them: Arrow's default
    pool (mimalloc) keeps such memory for the thread that allocated it, so the peak grew with the run
    (300,000 orders: 520 MB; with jemalloc, the smaller batch and DuckDB's smaller pool: 345 MB, same
    speed).  Buffers remember their pool, so putting the default back afterwards is safe."""
    try:
        pool = pa.jemalloc_memory_pool()
    except NotImplementedError:
        yield
        return
    previous = pa.default_memory_pool()
    pa.set_memory_pool(pool)
    try:
        yield
    finally:
        pa.set_memory_pool(previous)
