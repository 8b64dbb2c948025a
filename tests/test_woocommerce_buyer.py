"""The WooCommerce buyer, field by field: its fast reader fills ``Buyer`` by position (``buyer_from``)."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

import orjson

from fastimport.io.connector import Buyer
from fastimport.io.payload import Node
from fastimport.io.registry import buyer_reader
from fastimport.io.woocommerce import spec

# Every field the order can fill holds its own value: two fields swapped in the reader cannot go unseen.
ORDER: dict[str, Any] = {
    "id": 42,
    "billing": {
        "first_name": "Hélène",
        "last_name": "Martin",
        "company": "Atelier Martin",
        "address_1": "3 rue des Lilas",
        "address_2": "Bâtiment B",
        "postcode": "69003",
        "city": "Lyon",
        "country": "FR",
        "email": "helene@example.org",
        "phone": "+33 4 00 00 00 00",
    },
    "shipping": {"first_name": "Zoé", "last_name": "Durand", "address_1": "8 quai Nord", "city": "Annecy"},
    "shipping_tax": "3.10",
    "meta_data": [
        {"id": 1, "key": "_billing_vat_number", "value": "fr 12 345678901"},
        {"id": 2, "key": "_billing_siren", "value": "345 678 901"},
    ],
    "fee_lines": [],
    "refunds": [],
}

EXPECTED: dict[str, Any] = {
    "first_name": "Hélène",
    "last_name": "Martin",
    "company": "Atelier Martin",
    "address_1": "3 rue des Lilas",
    "address_2": "Bâtiment B",
    "postcode": "69003",
    "city": "Lyon",
    "country": "FR",
    "email": "helene@example.org",
    "vat_number": "FR12345678901",  # spaces out, upper case
    "siren": "345678901",
    "shipping_tax": "3.10",
    "fees": (),
    "ship_first_name": "Zoé",  # the shipping address's, not the billing one's
    "refunded": None,
    "refunds_in_total": True,  # WooCommerce's total keeps its refunds
}


def test_every_buyer_field_is_named_here_with_its_own_value() -> None:
    assert list(EXPECTED) == [f.name for f in fields(Buyer)]
    texts = [v for v in EXPECTED.values() if isinstance(v, str)]
    assert len(set(texts)) == len(texts) == 13


def test_the_woocommerce_buyer_reads_each_field_from_its_place() -> None:
    buyer = buyer_reader("woocommerce")(orjson.dumps(ORDER))  # what an invoice batch calls
    assert {name: getattr(buyer, name) for name in EXPECTED} == EXPECTED
    # The order takes the fast positional reader (no fallback to the Node reader, which names fields).
    assert spec._plain_buyer(orjson.loads(orjson.dumps(ORDER))) == buyer
    assert spec._node_buyer(Node.load(orjson.dumps(ORDER))) == buyer
