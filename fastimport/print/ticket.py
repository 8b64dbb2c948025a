"""The intermediate ticket: a paper description and a list of print operations.

Layouts produce a :class:`Ticket`; renderers turn it into a text preview,
ESC/POS bytes or a PNG.  Invariants (checked in :class:`Text`):

* a normal :class:`Text` line is exactly ``paper.columns`` characters;
* a double-size line is exactly ``paper.columns // 2`` characters (each
  counts two columns on paper);
* every character encodes to one byte of ``paper.codepage`` and none is a
  control character (layouts pass all text through
  :class:`~fastimport.print.text.CodePageText`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Dots per CODE128 character and fixed overhead (start, check, stop, quiet zones), module = 1 dot.
_CODE128_MODULES_PER_CHAR = 11
_CODE128_OVERHEAD = 35 + 20
BARCODE_MODULE_DOTS = 2


@dataclass(frozen=True, slots=True)
class Paper:
    """What a layout needs to know about the printer."""

    columns: int = 48
    codepage: str = "CP858"  # python-escpos code page name
    codec: str = "cp858"  # the Python codec for it
    codepage_number: int = 19  # the ESC t n value on this profile
    pixel_width: int = 576
    native_qr: bool = True
    code128: bool = True
    max_text_lines: int = 6  # a shop name or note is cut to this many lines, ending "..."

    @property
    def half(self) -> int:
        """Characters on a double-width line."""
        return self.columns // 2

    def code128_fits(self, data: str) -> bool:
        modules = _CODE128_MODULES_PER_CHAR * (len(data) + 1) + _CODE128_OVERHEAD
        return self.code128 and data.isascii() and modules * BARCODE_MODULE_DOTS <= self.pixel_width


@dataclass(frozen=True, slots=True)
class Text:
    text: str
    bold: bool = False
    double: bool = False  # double width and double height


@dataclass(frozen=True, slots=True)
class Barcode:
    """A CODE128 barcode (printed by the printer, human-readable text below)."""

    data: str


@dataclass(frozen=True, slots=True)
class QRCode:
    data: str


@dataclass(frozen=True, slots=True)
class Feed:
    lines: int = 1


@dataclass(frozen=True, slots=True)
class Cut:
    pass


Op = Text | Barcode | QRCode | Feed | Cut


@dataclass(frozen=True, slots=True)
class Ticket:
    kind: str
    ref: str
    paper: Paper
    ops: tuple[Op, ...] = field(default_factory=tuple)
    copy_number: int = 0

    def check(self) -> None:
        """Raise ``ValueError`` if a text line breaks the width or code page invariants."""
        for index, op in enumerate(self.ops):
            if not isinstance(op, Text):
                continue
            width = self.paper.half if op.double else self.paper.columns
            if len(op.text) != width:
                raise ValueError(f"line {index} is {len(op.text)} characters, expected {width}: {op.text!r}")
            if any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in op.text):
                raise ValueError(f"line {index} carries a control character: {op.text!r}")
            op.text.encode(self.paper.codec)


def marker(op: Barcode | QRCode) -> str:
    """How the text preview shows a code: ``[CODE128: W10482]`` / ``[QR: FA-2026-000042]``."""
    if isinstance(op, Barcode):
        return f"[CODE128: {op.data}]"
    return f"[QR: {op.data}]"
