"""The form of WooCommerce refund objects laid onto orders, and how their ids are split into /refunds requests
(fastimport/io/woocommerce/refunds.py): pure functions, on bytes as the real endpoints send them."""

from __future__ import annotations

import orjson
import pytest

from fastimport.io.woocommerce.refunds import MAX_IDS, Wanted, batches, per_order_form


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        (  # as /refunds sends it (WordPress escapes "/"): parent_id after id, a refunded_by link
            b'[{"id":9,"parent_id":7,"refunded_by":1,"a":[{"parent_id":3}],"_links":{"self":[{"href":'
            b'"h:\\/\\/s\\/wp-json\\/wc\\/v3\\/orders\\/7\\/refunds\\/9"}],"up":[{"href":"u"}],'
            b'"refunded_by":[{"embeddable":true,"href":"h:\\/\\/s\\/wp-json\\/wp\\/v2\\/users\\/1"}]}},'
            b'{"id":8,"parent_id":7,"_links":{"refunded_by":[{"embeddable":true,"href":"x"}],"up":[]}}]',
            b'[{"id":9,"refunded_by":1,"a":[{"parent_id":3}],"_links":{"self":[{"href":'
            b'"h:\\/\\/s\\/wp-json\\/wc\\/v3\\/orders\\/7\\/refunds\\/9"}],"up":[{"href":"u"}]}},'
            b'{"id":8,"_links":{"up":[]}}]',
        ),
        (b'[{"id":1,"a":"\\"parent_id\\":2","parent_id":7}]', b'[{"id":1,"a":"\\"parent_id\\":2"}]'),
        (b'[ {"id" : 1 , "parent_id" : 7 } ]', b'[ {"id" : 1 } ]'),
        # as /orders/<id>/refunds sends it: nothing to take out, every byte kept
        (
            b'[{"id":1,"reason":"parent_id","refunded_by":2}]',
            b'[{"id":1,"reason":"parent_id","refunded_by":2}]',
        ),
        (b"[]", b"[]"),
    ],
)
def test_only_what_the_listing_adds_is_taken_out(given: bytes, kept: bytes) -> None:
    assert per_order_form(given) == kept
    orjson.loads(kept)  # still JSON


def test_requests_name_at_most_100_refunds_and_an_order_whole() -> None:
    wanted = [Wanted(1, tuple(range(60))), Wanted(2, tuple(range(50))), Wanted(3, (7,)), Wanted(4, ())]
    wanted.append(Wanted(5, tuple(range(MAX_IDS + 1))))
    groups, alone = batches(wanted)
    assert [[w.order_id for w in g] for g in groups] == [[1], [2, 3]]
    assert [w.order_id for w in alone] == [4, 5]
