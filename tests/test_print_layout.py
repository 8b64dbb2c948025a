"""Layouts and renderers: widths, code page, sanitising, previews (no network)."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from PIL import Image

from fastimport.print.config import paper_for
from fastimport.print.layout import layout
from fastimport.print.render import preview_lines, render_escpos, render_png, render_text
from fastimport.print.samples import (
    sample_credit_note,
    sample_delivery_note,
    sample_invoice,
    sample_slip,
)
from fastimport.print.text import CodePageText, money, sanitise
from tests.printer_fixture import decode

PROFILES = [("TM-T20II", 48), ("TM-T88V", 42), ("Sunmi-V2", 32)]
DOCUMENTS = [sample_invoice, sample_credit_note, sample_slip, sample_delivery_note]


@pytest.mark.parametrize(("profile", "columns"), PROFILES)
@pytest.mark.parametrize("make", DOCUMENTS, ids=lambda f: f.__name__)
def test_preview_is_exactly_what_is_printed(profile: str, columns: int, make: object) -> None:
    paper = paper_for(profile)
    assert paper.columns == columns
    ticket = layout(make(), paper)  # type: ignore[operator]
    data = render_escpos(ticket, profile)
    printed = decode(data, paper.codec, columns)
    preview = [line.rstrip(" ") for line in preview_lines(ticket)]
    assert printed.lines == preview
    text_lines = [line for line in printed.lines if not line.lstrip().startswith("[")]
    assert max(len(line) for line in text_lines) <= columns
    assert all(len(line) == columns for line in preview_lines(ticket) if not line.lstrip().startswith("["))
    assert printed.ends_with_cut
    assert printed.inits == [0]
    assert printed.codepages == [paper.codepage_number]
    assert printed.drawer_pulses == 0 and not printed.stray_controls and not printed.unknown


def test_invoice_mentions_accents_and_euro() -> None:
    paper = paper_for("TM-T20II")
    text = render_text(layout(sample_invoice(), paper))
    for needle in (
        "FA-2026-004211",
        "Émise le 16/05/2026 10:15",
        "TOTAL TTC",
        "54,60 €",
        "Reste dû",
        "ORIGINAL",
        "SIRET 123 456 789 00012",
        "TVA FR12 123456789",
        "T1 TVA 20,00%",
        "Logiciel fastimport v0.1.0",
        "Signature: 8F3A...C91E",
        "[QR: FA-2026-004211]",
    ):
        assert needle in text
    # characters CP858 lacks are mapped to close equivalents
    assert "- édition oeuvre..." in text and "—" not in text and "œ" not in text
    data = render_escpos(layout(sample_invoice(), paper), "TM-T20II")
    assert "54,60 €".encode("cp858") in data and "Émise".encode("cp858") in data


def test_duplicata_on_reprint() -> None:
    text = render_text(layout(sample_invoice(copy_number=3), paper_for()))
    assert "DUPLICATA 3" in text and "ORIGINAL" not in text


def test_euro_becomes_eur_on_a_page_without_it() -> None:
    paper = paper_for("TM-T20II", codepage="CP437")
    text = render_text(layout(sample_invoice(), paper))
    assert "54,60 EUR" in text and "€" not in text
    assert CodePageText("cp437").fit("’—œ…€") == "'-oe...EUR"


def test_sanitise_removes_every_control_character() -> None:
    nasty = "Jean\x1bp\x00\x19\x19Dupont\x1b@\x1dV\x00\x7f\x85\x9b\u200b\u202e"
    assert sanitise(nasty) == "JeanpDupont@V"
    assert sanitise("a\tb\r\nc", keep_newlines=True) == "a b\nc"


def test_money_is_french() -> None:
    assert money(Decimal("19.9")) == "19,90"
    assert money(Decimal("-1234567.005")) == "-1 234 567,01"
    assert money(Decimal("0")) == "0,00"


def test_long_names_wrap_and_double_width_counts_double() -> None:
    slip = sample_slip(order_number="123456789012345678901234567890")
    paper = paper_for("Sunmi-V2")
    ticket = layout(slip, paper)
    lines = preview_lines(ticket)
    assert all(len(line) == 32 for line in lines if not line.lstrip().startswith("["))
    assert any("CMD WEB" in line for line in lines)  # too long for double width: printed normal


def test_png_preview_has_the_paper_width() -> None:
    for profile in ("TM-T20II", "TM-T88V", "Sunmi-V2"):
        paper = paper_for(profile)
        image = Image.open(io.BytesIO(render_png(layout(sample_slip(), paper))))
        image.load()
        assert image.format == "PNG"
        assert image.width == paper.pixel_width
        assert image.height > 400


def test_rendering_keeps_stdout_clean(capfd: pytest.CaptureFixture[str]) -> None:
    paper = paper_for("TM-T20II")
    for make in DOCUMENTS:
        ticket = layout(make(), paper)
        render_escpos(ticket, "TM-T20II")
        render_png(ticket)
    out, _ = capfd.readouterr()
    assert out == ""
