"""Raw order payloads: kept byte for byte, compressed a page of orders at a time.

An order's JSON is stored as (chunk, offset, length) into a zstd-compressed
chunk holding the raw bytes of the orders kept from one page.  ``pack`` runs
on the parse thread (it is CPU work), the store only inserts the chunks.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import pyarrow as pa
import pyarrow.compute as pc

from fastimport.store.db import Connection

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
            cache = {chunk_id: _inflate(chunks[chunk_id])}  # rows are sorted by chunk: keep one at a time
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
            current, data = chunk_id, _inflate(chunks[chunk_id])
        out[i] = data[offset : offset + length]
    return out


def payload(con: Connection, store_id: int, order_id: int) -> bytes | None:
    return payloads(con, [(store_id, order_id)]).get((store_id, order_id))


def _chunks(con: Connection, chunk_ids: list[int]) -> dict[int, tuple[str, int, bytes]]:
    if not chunk_ids:
        return {}
    rows = con.execute(
        "SELECT chunk_id, codec, size, data FROM raw_chunks WHERE chunk_id IN (SELECT unnest(?::BIGINT[]))",
        [chunk_ids],
    ).fetchall()
    return {int(r[0]): (str(r[1]), int(r[2]), bytes(r[3])) for r in rows}


def _inflate(entry: tuple[str, int, bytes]) -> bytes:
    codec, size, data = entry
    out: bytes = pa.decompress(data, decompressed_size=size, codec=codec, asbytes=True)
    return out


def slice_of(con: Connection, chunk_id: int, offset: int, length: int) -> bytes | None:
    """One payload by its place (a chunk already written, in this transaction or before)."""
    chunks = _chunks(con, [chunk_id])
    if chunk_id not in chunks:
        return None
    return _inflate(chunks[chunk_id])[offset : offset + length]


def latest_version(con: Connection, store_id: int, order_id: int) -> bytes | None:
    """The last version of an order the till has seen: the newest one kept with an event (an invoiced
    order's later versions), else the stored one."""
    row = con.execute(
        "SELECT raw_chunk, raw_offset, raw_length FROM order_events WHERE store_id = ? AND order_id = ? AND "
        "raw_chunk IS NOT NULL ORDER BY happened_at DESC, event_id DESC LIMIT 1",
        [store_id, order_id],
    ).fetchone()
    if row is not None:
        found = slice_of(con, int(row[0]), int(row[1]), int(row[2]))
        if found is not None:
            return found
    return payload(con, store_id, order_id)
