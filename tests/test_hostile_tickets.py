"""Hostile shop text on tickets: layouts and renderers never raise and never let a shop's bytes
become a printer command.

Every text field a shop fills (names, addresses, notes, order numbers, SKUs, payment words...) gets
control bytes, ESC/GS sequences (drawer, reset, cut, size), right-to-left marks, 10,000-character
names, emoji, combining marks, lone surrogates; each ticket is laid out for three printer profiles
and rendered as text, ESC/POS and (one profile) PNG.  The ESC/POS stream is decoded by the
loopback printer's decoder: one reset at the start, no drawer pulse, no unknown command, no stray
control byte, a cut at the end, and exactly the lines of the text preview.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from fastimport.print.config import paper_for
from fastimport.print.layout import layout
from fastimport.print.render import preview_lines, render_escpos, render_png, render_text
from fastimport.print.samples import sample_credit_note, sample_delivery_note, sample_invoice, sample_slip
from tests.printer_fixture import decode

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "40"))
PROPERTY_TIMEOUT = 120 + EXAMPLES  # seconds: a hang fails the test, a long make chaos run does not
HOSTILE = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
PROFILES = ("TM-T20II", "TM-T88V", "Sunmi-V2")
DOCUMENTS = {
    "slip": sample_slip,
    "invoice": sample_invoice,
    "credit_note": sample_credit_note,
    "delivery_note": sample_delivery_note,
}
# The fields a shop fills, per document (the seller's own data comes from the till's settings).
SHOP_FIELDS = {
    "slip": ("order_number", "customer_name", "customer_phone", "shipping_method", "shipping_address",
             "lines", "customer_note", "payment_state", "qr_content"),
    "invoice": ("web_order_ref", "buyer_name", "buyer_address", "buyer_vat_number", "buyer_siren", "lines",
                "payments"),
    "credit_note": ("web_order_ref", "buyer_name", "buyer_address", "lines", "payments", "reason"),
    "delivery_note": ("web_order_ref", "delivery_name", "delivery_address", "carrier", "tracking", "lines"),
}  # fmt: skip
PIECES = [
    "\x1b@", "\x1bp\x00\x19\xfa", "\x1dV\x00", "\x1dV\x41\x03", "\x1b!\x30", "\x1bt\x10", "\x1d(k\x03\x001P0",
    "\x10\x04\x01", "\x00", "\x07", "\x7f", "\x85", "\x9b", "\r\n", "\t", "\u2028", "\ufeff", "\u202e", "\u200f",
    "\u061c", "\ud800", "\U0001f600", "\U0001f1eb\U0001f1f7", "e\u0301", "\u0301" * 20, "ß", "€", "œ", "中文",
    "عربي", "{", "{A", "{{", "}", "x" * 10_000, "é" * 300, " " * 60, "\n" * 20,
]  # fmt: skip
hostile_text = st.one_of(
    st.lists(st.sampled_from(PIECES) | st.text(max_size=4), min_size=1, max_size=5).map("".join),
    st.text(max_size=60),
)


def _hostile(value: Any, draw: Any) -> Any:
    """``value`` with every string in it replaced by hostile text."""
    if isinstance(value, str):
        return draw(hostile_text)
    if isinstance(value, tuple):
        return tuple(_hostile(v, draw) for v in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {f.name: _hostile(getattr(value, f.name), draw) for f in dataclasses.fields(value)}
        return dataclasses.replace(value, **changes)
    return value


def _check_rendering(document: Any, *, png: bool) -> None:
    for profile in PROFILES:
        paper = paper_for(profile)
        ticket = layout(document, paper)
        preview = preview_lines(ticket)
        render_text(ticket)
        data = render_escpos(ticket, profile)
        printed = decode(data, paper.codec, paper.columns)
        assert printed.inits == [0] and printed.codepages == [paper.codepage_number]
        assert printed.drawer_pulses == 0 and not printed.unknown and not printed.stray_controls
        assert printed.ends_with_cut and len(printed.cuts) == 1
        assert printed.lines == [line.rstrip(" ") for line in preview]
        # A 10,000-character name is cut to the paper's max_text_lines: the ticket stays a ticket.
        assert len(preview) < 400, len(preview)
        if png and profile == PROFILES[0]:
            assert render_png(ticket)[:8] == b"\x89PNG\r\n\x1a\n"


@HOSTILE
@pytest.mark.timeout(PROPERTY_TIMEOUT)
@given(kind=st.sampled_from(sorted(DOCUMENTS)), data=st.data(), png=st.integers(0, 9))
@example(kind="slip", data=None, png=0)
def test_hostile_shop_text_never_reaches_the_printer_as_commands(kind: str, data: Any, png: int) -> None:
    document = DOCUMENTS[kind]()
    if data is None:  # the explicit example: every piece at once, in every shop field
        changes = {
            name: _hostile(getattr(document, name), lambda _: "".join(PIECES)) for name in SHOP_FIELDS[kind]
        }
    else:
        changes = {name: _hostile(getattr(document, name), data.draw) for name in SHOP_FIELDS[kind]}
    _check_rendering(dataclasses.replace(document, **changes), png=png == 0)


@pytest.mark.timeout(120)
@pytest.mark.parametrize("number", ["{A1234", "12{34", "{{", "{", "1{B2", "W{1"])
def test_barcode_data_from_the_shop_cannot_switch_code_sets(number: str) -> None:
    """Found while writing the property above: CODE128 data opens with ``{B`` and a ``{`` in it starts a
    code-set switch or a function code (``{A``, ``{1``...), so an order number could print another code."""
    for profile in PROFILES:
        paper = paper_for(profile)
        data = render_escpos(layout(sample_slip(number), paper), profile)
        assert b"{BW" + number.replace("{", "{{").encode() + b"\x1b" in data
        printed = decode(data, paper.codec, paper.columns)
        assert printed.barcodes == [f"W{number}"]
        assert f"[CODE128: W{number}]" in render_text(layout(sample_slip(number), paper))
