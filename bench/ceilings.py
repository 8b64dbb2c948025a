"""Ceilings: what each stage alone can do on this machine, measured in the same run.

- ``ceiling-fetch``: aiohttp, the same pages and concurrency as fastimport, bytes discarded;
- ``ceiling-orjson``: ``orjson.loads`` alone on the same page bytes, held in memory;
- ``ceiling-duckdb``: DuckDB inserts of ready Arrow columns (orders + lines shaped like fastimport's),
  in batches the size fastimport uses, the raw payload chunks in the log beside the file as fastimport
  keeps them (and, for the record, inline in DuckDB as before the log, and without raw payloads).
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from bench import cores
from bench.job import Job
from bench.shop import basic_auth

RETRY_STATUSES = (429, 503)


class _Fetched:
    def __init__(self) -> None:
        self.total = 0
        self.pages = 0
        self.bytes = 0
        self.retries = 0
        self.bodies: list[bytes] = []


async def fetch_pages(job: Job, keep: bool) -> _Fetched:
    """Every page of the job's range, ``job.concurrency`` in flight; kept in memory only if ``keep``."""
    out = _Fetched()
    headers = {"Authorization": basic_auth(), "Accept": "application/json"}
    url = job.api + "/orders"
    connector = aiohttp.TCPConnector(limit=job.concurrency, limit_per_host=0)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def get(page: int) -> tuple[bytes, Any]:
            for attempt in range(1, 100):
                async with session.get(url, params=job.listing_params(page), headers=headers) as resp:
                    body = await resp.read()
                    if resp.status == 200:
                        return body, resp.headers
                    if resp.status not in RETRY_STATUSES:
                        raise RuntimeError(f"page {page}: HTTP {resp.status}")
                out.retries += 1
                await asyncio.sleep(min(0.05 * attempt, 1.0))
            raise RuntimeError(f"page {page}: gave up")

        def take(body: bytes) -> None:
            out.pages += 1
            out.bytes += len(body)
            if keep:
                out.bodies.append(body)

        first, first_headers = await get(1)
        take(first)
        out.total = int(first_headers["X-WP-Total"])
        remaining = iter(range(2, int(first_headers["X-WP-TotalPages"]) + 1))

        async def worker() -> None:
            for page in remaining:  # one shared iterator: each page is fetched once
                body, _ = await get(page)
                take(body)

        await asyncio.gather(*(worker() for _ in range(job.concurrency)))
    return out


def run_fetch(job: Job) -> dict[str, Any]:
    t0 = time.perf_counter()
    fetched = asyncio.run(fetch_pages(job, keep=False))
    seconds = time.perf_counter() - t0
    return {
        "orders": fetched.total,
        "seconds": round(seconds, 3),
        "pages": fetched.pages,
        "mb": round(fetched.bytes / 1e6, 1),
        "bytes_per_order": round(fetched.bytes / max(1, fetched.total)),
        "retries": fetched.retries,
        "concurrency": job.concurrency,
    }


def run_orjson(job: Job) -> dict[str, Any]:
    fetched = asyncio.run(fetch_pages(job, keep=True))
    loads = orjson.loads
    orders = 0
    t0 = time.perf_counter()
    for body in fetched.bodies:
        orders += len(loads(body))
    seconds = time.perf_counter() - t0
    return {
        "orders": orders,
        "seconds": round(seconds, 4),
        "pages": fetched.pages,
        "mb": round(fetched.bytes / 1e6, 1),
    }


def _ready_batch(job: Job) -> tuple[pa.Table, pa.Table, str]:
    """About one batch of real orders, parsed by the core, shaped as the importer hands them to DuckDB."""
    module, description = cores.load(str(job.options.get("core", "native")))
    fetched = asyncio.run(fetch_pages(job, keep=True))
    spec = _page_spec()
    orders_parts, lines_parts = [], []
    base = 0
    for body in fetched.bodies:
        parsed = module.parse_page(body, spec)
        lines = parsed.lines
        lines = lines.set_column(0, "order_index", pc.add(lines.column("order_index").cast(pa.int64()), base))
        orders_parts.append(parsed.orders)
        lines_parts.append(lines)
        base += parsed.orders.num_rows
    orders = pa.concat_tables(orders_parts).combine_chunks()
    lines = pa.concat_tables(lines_parts).combine_chunks()
    counts = [0] * orders.num_rows
    for idx in lines.column("order_index").to_pylist():
        counts[idx] += 1
    orders = orders.append_column("line_count", pa.array(counts, type=pa.int32()))
    order_ids = orders.column("order_id").combine_chunks()
    lines = lines.append_column("order_id", pc.take(order_ids, lines.column("order_index")))
    return orders, lines, description


def _page_spec() -> Any:
    from fastimport.io.woocommerce.spec import WOOCOMMERCE_PAGE

    return WOOCOMMERCE_PAGE


_SQL_TYPES = {
    pa.int8(): "TINYINT",
    pa.int32(): "INTEGER",
    pa.int64(): "BIGINT",
    pa.bool_(): "BOOLEAN",
    pa.string(): "VARCHAR",
    pa.large_string(): "VARCHAR",
    pa.binary(): "BLOB",
    pa.large_binary(): "BLOB",
}


def _ddl(name: str, schema: pa.Schema, key: str | None) -> str:
    cols = [f'"{f.name}" {_SQL_TYPES.get(f.type, "VARCHAR")}' for f in schema]
    if key:
        cols.append(f"PRIMARY KEY ({key})")
    return f"CREATE TABLE {name} ({', '.join(cols)})"


def _as_stored(orders: pa.Table) -> tuple[pa.Table, pa.Table]:
    """Replace the raw column by what the store keeps: zstd chunks of a page each, and (chunk, offset, length)."""
    from fastimport.store import raw

    refs: list[pa.Table] = []
    chunk_rows: list[dict[str, Any]] = []
    for chunk_id, start in enumerate(range(0, orders.num_rows, 100)):
        page = orders.slice(start, 100)
        data, size, offsets, lengths = raw.pack(page.column("raw"))
        chunk_rows.append({"chunk_id": chunk_id, "size": size, "data": data})
        refs.append(
            pa.table(
                {
                    "raw_chunk": pa.repeat(pa.scalar(chunk_id, pa.int64()), page.num_rows),
                    "raw_offset": offsets,
                    "raw_length": lengths,
                }
            )
        )
    ref = pa.concat_tables(refs)
    stored = orders.drop_columns(["raw"])
    for name in ref.column_names:
        stored = stored.append_column(name, ref.column(name))
    chunks = pa.Table.from_pylist(
        chunk_rows, schema=pa.schema([("chunk_id", pa.int64()), ("size", pa.int32()), ("data", pa.binary())])
    )
    return stored, chunks


def run_duckdb(job: Job) -> dict[str, Any]:
    """Ready Arrow columns inserted as fastimport stores them: orders and lines in DuckDB, the raw
    payload chunks appended to the log beside the file (fsync'd before each commit), their places in
    ``raw_chunks``.  For the record, on the same columns: the chunks inline as BLOBs in DuckDB (the
    store before the log), batch by batch in turn with the first (both sets of tables grow alike, and
    a noisy machine slows both), and no raw payloads at all."""
    import duckdb

    from fastimport.store.payload_log import PayloadLog

    orders, lines, description = _ready_batch(job)
    orders, chunks = _as_stored(orders)
    n = orders.num_rows
    reps = max(1, math.ceil(job.target_orders / max(1, n)))
    stride = int(pc.max(orders.column("order_id")).as_py()) + 1
    con = duckdb.connect(job.db)
    log = PayloadLog(Path(job.db + ".payloads"))
    log.orphans_cut = True  # a new file: nothing to cut
    places = pa.schema(
        [
            ("log_segment", pa.int32()),
            ("log_offset", pa.int64()),
            ("log_length", pa.int32()),
            ("log_checksum", pa.int64()),
        ]
    )
    logged = pa.schema([*chunks.schema.remove(chunks.schema.get_field_index("data")), *places])
    for suffix, chunk_schema in (("", logged), ("_inline", chunks.schema)):
        con.execute(_ddl(f"orders{suffix}", orders.schema, "order_id"))
        con.execute(_ddl(f"order_lines{suffix}", lines.schema, None))
        con.execute(_ddl(f"raw_chunks{suffix}", chunk_schema, "chunk_id"))
    o_idx = orders.schema.get_field_index("order_id")
    l_idx = lines.schema.get_field_index("order_id")

    def insert(rep: int, suffix: str) -> float:
        shift = pa.scalar(rep * stride, pa.int64())
        con.register(
            "batch_orders", orders.set_column(o_idx, "order_id", pc.add(orders.column(o_idx), shift))
        )
        con.register("batch_lines", lines.set_column(l_idx, "order_id", pc.add(lines.column(l_idx), shift)))
        t = time.perf_counter()
        con.execute("BEGIN TRANSACTION")
        rows = chunks
        if not suffix:  # fastimport's way: the frames in the log first, durably, then their places
            placed = log.append(con, chunks.column("data"))
            rows = chunks.drop_columns(["data"])
            for name in placed.column_names:
                rows = rows.append_column(name, placed.column(name))
        con.register("batch_chunks", rows)
        con.execute(f"INSERT INTO orders{suffix} SELECT * FROM batch_orders")
        con.execute(f"INSERT INTO order_lines{suffix} SELECT * FROM batch_lines")
        con.execute(
            f"INSERT INTO raw_chunks{suffix} SELECT chunk_id + ?, * EXCLUDE (chunk_id) FROM batch_chunks",
            [rep * len(chunks)],
        )
        con.execute("COMMIT")
        spent = time.perf_counter() - t
        for name in ("batch_orders", "batch_lines", "batch_chunks"):
            con.unregister(name)
        return spent

    seconds = inline_seconds = 0.0
    for rep in range(reps):
        seconds += insert(rep, "")
        inline_seconds += insert(rep, "_inline")
    row = con.execute("SELECT (SELECT count(*) FROM orders), (SELECT count(*) FROM order_lines)").fetchone()
    assert row is not None
    # For the record: the same orders without their raw JSON (what keeping the raw bytes costs DuckDB).
    slim = orders.drop_columns(["raw_chunk", "raw_offset", "raw_length"])
    con.execute(_ddl("orders_noraw", slim.schema, "order_id"))
    slim_reps = min(reps, 10)
    t1 = time.perf_counter()
    for rep in range(slim_reps):
        shift = pa.scalar(rep * stride, pa.int64())
        con.register("batch_slim", slim.set_column(o_idx, "order_id", pc.add(slim.column(o_idx), shift)))
        con.execute("INSERT INTO orders_noraw SELECT * FROM batch_slim")
        con.unregister("batch_slim")
    noraw_rate = slim_reps * n / (time.perf_counter() - t1)
    con.close()
    return {
        "orders_noraw_per_s": round(noraw_rate),
        "orders_inline_per_s": round(reps * n / inline_seconds),
        "orders": int(row[0]),
        "lines": int(row[1]),
        "seconds": round(seconds, 3),
        "batch_orders": n,
        "batches": reps,
        "core_description": description,
    }


RUNNERS: dict[str, Callable[[Job], dict[str, Any]]] = {
    "ceiling-fetch": run_fetch,
    "ceiling-orjson": run_orjson,
    "ceiling-duckdb": run_duckdb,
}
