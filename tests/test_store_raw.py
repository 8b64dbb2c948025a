"""Raw payloads: compressed a page at a time, given back byte for byte."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from fastimport.store import connect, raw
from tests.conftest import store_target


@settings(max_examples=40, deadline=None)
@given(st.lists(st.binary(max_size=300), min_size=1, max_size=30), st.integers(min_value=0, max_value=5))
def test_pack_gives_back_every_payload(payloads: list[bytes], skip: int) -> None:
    skip = min(skip, len(payloads) - 1)
    array = pa.array(payloads, pa.binary()).slice(skip)  # slices, as after a filter, must work too
    chunk, size, offsets, lengths = raw.pack(array)
    body = raw._inflate((raw.CODEC, size, chunk))
    got = [body[o : o + n] for o, n in zip(offsets.to_pylist(), lengths.to_pylist(), strict=True)]
    assert got == payloads[skip:]


def test_payloads_reads_orders_back_from_the_database(tmp_path: Path) -> None:
    con = connect(store_target(tmp_path))
    pages = [[b'{"id":1,"n":"\\u00e9t\\u00e9"}', '{"id":2,"n":"Bœuf"}'.encode()], [b'{"id":3}']]
    for chunk_id, page in enumerate(pages, start=1):
        chunk, size, offsets, lengths = raw.pack(pa.array(page, pa.binary()))
        con.execute(
            "INSERT INTO raw_chunks (chunk_id, store_id, codec, size, data) VALUES (?, 1, ?, ?, ?)",
            [chunk_id, raw.CODEC, size, chunk],
        )
        for i, payload in enumerate(page):
            order_id = int(payload.split(b":")[1].split(b",")[0].rstrip(b"}"))
            con.execute(
                "INSERT INTO orders (store_id, order_id, shop_status, created_at, modified_at, total, line_count, "
                "content_hash, raw_chunk, raw_offset, raw_length, first_run, last_run, imported_at, updated_at) "
                "VALUES (1, ?, 'processing', now(), now(), 1, 0, 0, ?, ?, ?, 1, 1, now(), now())",
                [order_id, chunk_id, offsets[i].as_py(), lengths[i].as_py()],
            )
    got = raw.payloads(con, [(1, 3), (1, 1), (1, 2), (1, 99)])
    assert got == {(1, 1): pages[0][0], (1, 2): pages[0][1], (1, 3): pages[1][0]}
    assert raw.payload(con, 1, 99) is None
    # By place, in the order asked, chunks interleaved (invoicing reads the places with its order rows).
    places = con.execute(
        "SELECT raw_chunk, raw_offset, raw_length FROM orders WHERE order_id IN (2, 3, 1) ORDER BY order_id DESC"
    ).fetchall()
    assert raw.payloads_at(con, [places[1], places[0], places[2], places[1]]) == [
        pages[0][1], pages[1][0], pages[0][0], pages[0][1],
    ]  # fmt: skip
    assert raw.payloads_at(con, []) == []
