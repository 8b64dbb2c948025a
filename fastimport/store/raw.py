"""Raw order payloads: kept byte for byte, compressed a page of orders at a time.

An order's JSON is stored as (chunk, offset, length) into a zstd-compressed
chunk holding the raw bytes of the orders kept from one page.  ``pack`` runs
on the pack thread (it is CPU work), the store only writes the chunks: into
the payload log beside a DuckDB file (:mod:`fastimport.store.payload_log`),
inline in ``raw_chunks.data`` elsewhere.  Readers take both.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from fastimport.errors import StoreError
from fastimport.store import payload_log
from fastimport.store.db import Connection, first_row

CODEC = "zstd"


def pack(raws: pa.Array) -> tuple[bytes, int, pa.Array, pa.Array]:
    """Compress the payloads of one page: (chunk, uncompressed size, int32 offsets, int32 lengths)."""
    binary = raws.combine_chunks() if isinstance(raws, pa.ChunkedArray) else raws
    if binary.type != pa.binary():
        binary = binary.cast(pa.binary())
    if binary.offset or binary.null_count:
        binary = pa.concat_arrays([binary])  # a slice: rebase its buffers
    offsets_buffer = binary.buffers()[1]
    data_buffer = binary.buffers()[2]
    all_offsets = pa.Array.from_buffers(pa.int32(), len(binary) + 1, [None, offsets_buffer], offset=0)
    start = all_offsets[0].as_py()
    end = all_offsets[len(binary)].as_py()
    body = data_buffer[start:end] if data_buffer is not None else pa.py_buffer(b"")
    offsets = pc.subtract(all_offsets.slice(0, len(binary)), start)
    lengths = pc.binary_length(binary)
    chunk = pa.compress(body, codec=CODEC, asbytes=True)
    return chunk, body.size, offsets, pc.cast(lengths, pa.int32())


def insert_chunks(con: Connection, chunks: pa.Table, base: int, store_id: int) -> None:
    """Store a batch's chunks (``chunk_local``, ``size``, ``data``) as ``raw_chunks`` ``base + chunk_local``,
    inside the caller's transaction: in the payload log beside a DuckDB file (durable before the
    commit), else inline."""
    log = payload_log.of(con)
    if log is None:
        rows = chunks
        columns = "size, data, NULL, NULL, NULL, NULL"
    else:
        rows = chunks.drop_columns(["data"])
        placed = log.append(con, chunks.column("data"))
        for name in placed.column_names:
            rows = rows.append_column(name, placed.column(name))
        columns = "size, NULL, log_segment, log_offset, log_length, log_checksum"
    con.register("batch_chunk_rows", rows)
    try:
        con.execute(
            f"INSERT INTO raw_chunks ({_CHUNK_COLUMNS}) SELECT chunk_local + ?, ?, ?, {columns} FROM batch_chunk_rows",
            [base, store_id, CODEC],
        )
    finally:
        con.unregister("batch_chunk_rows")


_CHUNK_COLUMNS = "chunk_id, store_id, codec, size, data, log_segment, log_offset, log_length, log_checksum"


def payloads(con: Connection, keys: Iterable[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
    """The raw JSON of each (store_id, order_id) asked for; orders not stored are absent."""
    wanted = list(keys)
    if not wanted:
        return {}
    table = pa.table(
        {
            "store_id": pa.array([k[0] for k in wanted], pa.int32()),
            "order_id": pa.array([k[1] for k in wanted], pa.int64()),
        }
    )
    con.register("wanted_payloads", table)
    try:
        rows = con.execute(
            "SELECT o.store_id, o.order_id, o.raw_chunk, o.raw_offset, o.raw_length FROM wanted_payloads w "
            "JOIN orders o ON o.store_id = w.store_id AND o.order_id = w.order_id ORDER BY o.raw_chunk"
        ).fetchall()
        chunk_ids = sorted({r[2] for r in rows})
        chunks = _chunks(con, chunk_ids)
    finally:
        con.unregister("wanted_payloads")
    out: dict[tuple[int, int], bytes] = {}
    cache: dict[int, bytes] = {}
    for store_id, order_id, chunk_id, offset, length in rows:
        if chunk_id not in cache:
            # rows are sorted by chunk: keep one at a time
            cache = {chunk_id: _inflate(_data(con, chunks[chunk_id], f"order {order_id}"))}
        out[(store_id, order_id)] = cache[chunk_id][offset : offset + length]
    return out


def payloads_at(con: Connection, places: Sequence[tuple[int, int, int]]) -> list[bytes]:
    """The payloads at these places (chunk, offset, length), in the order asked: a caller that read the
    orders' places with their rows needs no second look-up by key."""
    by_chunk = sorted(range(len(places)), key=lambda i: places[i][0])
    chunks = _chunks(con, sorted({p[0] for p in places}))
    out: list[bytes] = [b""] * len(places)
    current, data = None, b""
    for i in by_chunk:  # one chunk inflated at a time, as payloads()
        chunk_id, offset, length = places[i]
        if chunk_id != current:
            current, data = (
                chunk_id,
                _inflate(_data(con, chunks[chunk_id], f"the orders in chunk {chunk_id}")),
            )
        out[i] = data[offset : offset + length]
    return out


def payload(con: Connection, store_id: int, order_id: int) -> bytes | None:
    return payloads(con, [(store_id, order_id)]).get((store_id, order_id))


@dataclass(frozen=True, slots=True)
class StoredChunk:
    """A raw_chunks row: its bytes inline (``data``), or their place in the payload log."""

    codec: str
    size: int
    data: bytes | None
    segment: int | None = None
    offset: int = 0
    length: int = 0
    checksum: int = 0


def _chunks(con: Connection, chunk_ids: list[int]) -> dict[int, StoredChunk]:
    if not chunk_ids:
        return {}
    rows = con.execute(
        "SELECT chunk_id, codec, size, data, log_segment, log_offset, log_length, log_checksum FROM raw_chunks "
        "WHERE chunk_id IN (SELECT unnest(?::BIGINT[]))",
        [chunk_ids],
    ).fetchall()
    return {
        int(r[0]): StoredChunk(
            str(r[1]),
            int(r[2]),
            None if r[3] is None else bytes(r[3]),
            None if r[4] is None else int(r[4]),
            int(r[5] or 0),
            int(r[6] or 0),
            int(r[7] or 0),
        )
        for r in rows
    }


def _data(con: Connection, chunk: StoredChunk, what: str) -> tuple[str, int, bytes]:
    """The chunk's compressed bytes (codec, size, bytes), read from the payload log when not inline."""
    return _data_from(payload_log.of(con) if chunk.data is None else None, chunk, what)


def _data_from(log: payload_log.PayloadLog | None, chunk: StoredChunk, what: str) -> tuple[str, int, bytes]:
    if chunk.data is not None:
        return chunk.codec, chunk.size, chunk.data
    if log is None or chunk.segment is None:
        raise StoreError(
            f"the saved copy of {what} from the shop is not in this database: "
            "it was kept in the folder beside a DuckDB database; restore it from your backup"
        )
    return chunk.codec, chunk.size, log.read(chunk.segment, chunk.offset, chunk.length, chunk.checksum, what)


def _inflate(entry: tuple[str, int, bytes]) -> bytes:
    codec, size, data = entry
    out: bytes = pa.decompress(data, decompressed_size=size, codec=codec, asbytes=True)
    return out


def slice_of(con: Connection, chunk_id: int, offset: int, length: int) -> bytes | None:
    """One payload by its place (a chunk already written, in this transaction or before)."""
    chunks = _chunks(con, [chunk_id])
    if chunk_id not in chunks:
        return None
    return _inflate(_data(con, chunks[chunk_id], f"payload chunk {chunk_id}"))[offset : offset + length]


def inlined(batch: pa.RecordBatch, log: payload_log.PayloadLog | None) -> pa.RecordBatch:
    """raw_chunks rows with every frame read back from the source's payload log (``payload_log.of``)
    into ``data``, and no place in the log: what a store moved to PostgreSQL holds, needing no folder."""
    if batch.column("log_segment").null_count == batch.num_rows:  # all inline already
        return batch
    rows = batch.to_pylist()
    for row in rows:
        if row["data"] is None and row["log_segment"] is not None:
            chunk = StoredChunk(
                row["codec"],
                row["size"],
                None,
                row["log_segment"],
                row["log_offset"],
                row["log_length"],
                row["log_checksum"],
            )
            row["data"] = _data_from(log, chunk, f"payload chunk {row['chunk_id']}")[2]
        for name in ("log_segment", "log_offset", "log_length", "log_checksum"):
            row[name] = None
    return pa.RecordBatch.from_pylist(rows, schema=batch.schema)


def latest_version(con: Connection, store_id: int, order_id: int) -> bytes | None:
    """The last version of an order the till has seen: the newest one kept with an event (an invoiced
    order's later versions), else the stored one."""
    row = first_row(
        con.execute(
            "SELECT raw_chunk, raw_offset, raw_length FROM order_events WHERE store_id = ? AND order_id = ? AND "
            "raw_chunk IS NOT NULL ORDER BY happened_at DESC, event_id DESC LIMIT 1",
            [store_id, order_id],
        )
    )
    if row is not None:
        found = slice_of(con, int(row[0]), int(row[1]), int(row[2]))
        if found is not None:
            return found
    return payload(con, store_id, order_id)
