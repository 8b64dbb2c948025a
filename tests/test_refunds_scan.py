"""The WooCommerce refunds scan (``refunds.scan``) on pages the core cannot read: it names what it can, in
plain terms, and never stops the import with a Python error (the import reads the page and sets aside what
it must)."""

from __future__ import annotations

import copy
from typing import Any

import orjson

from fastimport.io.woocommerce.refunds import Wanted, scan
from fastimport.sim import SimOptions, SimShop


def _orders(n: int = 30) -> list[dict[str, Any]]:
    shop = SimShop(SimOptions(orders=n))
    return [copy.deepcopy(shop.store.order(i)) for i in range(n)]


def _refunds(*ids: Any) -> list[dict[str, Any]]:
    return [{"id": rid, "reason": "", "total": "-1.00"} for rid in ids]


def test_a_refund_id_that_is_no_number_has_its_order_asked_alone() -> None:
    orders = _orders()
    orders[1]["refunds"] = _refunds(71)
    orders[2]["refunds"] = _refunds("83", 82)  # a string of digits reads as the core reads an int
    orders[4]["status"], orders[4]["refunds"] = "refunded", _refunds(100)
    orders[6]["refunds"] = _refunds("not a number", 61)
    wanted = scan(orjson.dumps(orders)).wanted
    assert wanted == [
        (Wanted(int(orders[1]["id"]), (71,)), None),
        (Wanted(int(orders[2]["id"]), (83, 82)), None),
        (Wanted(int(orders[6]["id"]), ()), None),  # no refund ids: asked by /orders/<id>/refunds
    ]


def test_an_order_whose_id_is_no_number_is_left_to_the_import() -> None:
    orders = _orders()
    orders[3]["id"], orders[3]["refunds"] = "three", _refunds(9)
    orders[4]["id"], orders[4]["refunds"] = str(2**63), _refunds(10)  # past a 64-bit id, as the core reads it
    orders[5]["refunds"] = _refunds(12)
    orders[7]["refunds"] = ["not an object"]  # unreadable refunds: the order is asked alone
    assert scan(orjson.dumps(orders)).wanted == [
        (Wanted(int(orders[5]["id"]), (12,)), None),
        (Wanted(int(orders[7]["id"]), ()), None),
    ]


def test_a_page_that_is_no_json_names_no_order() -> None:
    assert scan(b'[{"id": 1, "refunds": [{"id": 2}],}]').wanted == []
    assert scan(b'{"refunds": [{"id": 2}]}').wanted == []
