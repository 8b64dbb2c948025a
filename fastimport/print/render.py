"""Renderers: a :class:`Ticket` as text preview, ESC/POS bytes, or a PNG image.

* :func:`render_text` — exactly what the printer prints, column for column:
  double-size characters are followed by a space (they take two columns),
  codes show as ``[CODE128: ...]`` / ``[QR: ...]`` lines, centred.
* :func:`render_escpos` — the bytes for the printer, built with
  python-escpos's ``Dummy`` printer for the configured profile: one ``ESC @``
  at the very start, one ``ESC t n`` for the fixed code page, text encoded on
  that page (never the "magic" encoder), native QR (``GS ( k``), hardware
  CODE128 (``GS k``), and a cut at the end.  Trailing blanks of a line are not
  sent.
* :func:`render_png` — a preview image as wide as the paper in dots.
"""

from __future__ import annotations

import importlib
import io
from typing import Any

from fastimport.errors import PrintError
from fastimport.print._escpos import escpos_module
from fastimport.print.ticket import Barcode, Cut, Feed, QRCode, Text, Ticket, marker

ESC_INIT = b"\x1b@"
ESC_CODEPAGE = b"\x1bt"
LF = b"\n"
GS_CUT = b"\x1dV\x00"


def preview_lines(ticket: Ticket) -> list[str]:
    """The text preview as lines, each exactly ``columns`` wide (codes may be wider)."""
    width = ticket.paper.columns
    lines: list[str] = []
    for op in ticket.ops:
        if isinstance(op, Text):
            lines.append("".join(c + " " for c in op.text) if op.double else op.text)
        elif isinstance(op, Barcode | QRCode):
            lines.append(marker(op).center(width))
        elif isinstance(op, Feed):
            lines.extend([" " * width] * op.lines)
    return lines


def render_text(ticket: Ticket) -> str:
    return "\n".join(preview_lines(ticket)) + "\n"


def render_escpos(ticket: Ticket, profile: str) -> bytes:
    """ESC/POS bytes for ``ticket`` on a printer of python-escpos profile ``profile``."""
    escpos = escpos_module()
    from escpos.constants import QR_ECLEVEL_M

    printer: Any = escpos.printer.Dummy(profile=profile)
    paper = ticket.paper
    printer._raw(ESC_INIT)  # the only INIT of the job: it resets size, bold, alignment, code page
    printer._raw(ESC_CODEPAGE + bytes([paper.codepage_number]))
    bold = False
    double = False
    for op in ticket.ops:
        if isinstance(op, Text):
            if op.double != double:
                # ESC ! 0 then the size: python-escpos sends both; bold is reset by ESC ! 0 too.
                printer.set(double_width=op.double, double_height=op.double, normal_textsize=not op.double)
                double = op.double
                bold = False
            if op.bold != bold:
                printer.set(bold=op.bold)
                bold = op.bold
            data = op.text.rstrip(" ").encode(paper.codec)
            if any(b < 0x20 or b == 0x7F for b in data):  # layouts never let one through
                raise PrintError(f"refusing to print a control character in {ticket.kind} {ticket.ref}")
            printer._raw(data + LF)
        elif isinstance(op, Barcode):
            # _hw_barcode, not barcode(): the public method prints to stdout.
            # CODE128 set B: "{" starts a code-set switch or a function code ("{A", "{1"), so a
            # shop's "{" is sent as "{{" (one "{" printed), never as a command to the printer.
            printer._hw_barcode(
                "{B" + op.data.replace("{", "{{"),
                "CODE128",
                height=64,
                width=2,
                pos="BELOW",
                font="A",
                align_ct=True,
                function_type="B",
            )
            printer.set(align="left")
        elif isinstance(op, QRCode):
            printer.set(align="center")
            printer.qr(op.data, ec=QR_ECLEVEL_M, size=5, native=True)
            printer.set(align="left")
        elif isinstance(op, Feed):
            printer._raw(LF * op.lines)
        elif isinstance(op, Cut):
            if double or bold:
                printer.set(normal_textsize=True, bold=False)
                double = bold = False
            if printer.profile.supports("paperFullCut") or printer.profile.supports("paperPartCut"):
                printer.cut()
            else:  # the profile lists no cutter: feed and send the cut anyway (ignored without one)
                printer.print_and_feed(6)
                printer._raw(GS_CUT)
    return bytes(printer.output)


# -- PNG ------------------------------------------------------------------------

_FONT_CANDIDATES = ("DejaVuSansMono.ttf", "LiberationMono-Regular.ttf", "Courier New.ttf")
_BOLD_CANDIDATES = ("DejaVuSansMono-Bold.ttf", "LiberationMono-Bold.ttf", "Courier New Bold.ttf")
LINE_HEIGHT = 24
MARGIN = 8


def _font(bold: bool, size: int) -> Any:
    from PIL import ImageFont

    for name in _BOLD_CANDIDATES if bold else _FONT_CANDIDATES:
        try:
            return ImageFont.truetype(name, size)
        except OSError:
            continue
    return ImageFont.load_default(size)


def render_png(ticket: Ticket) -> bytes:
    """A PNG preview ``paper.pixel_width`` dots wide; text drawn on a fixed grid."""
    from PIL import Image, ImageDraw

    paper = ticket.paper
    width = paper.pixel_width
    cell = max(1, width // paper.columns)
    offset = (width - cell * paper.columns) // 2
    pieces: list[tuple[str, Any]] = []
    height = MARGIN * 2
    for op in ticket.ops:
        if isinstance(op, Text):
            height += LINE_HEIGHT * (2 if op.double else 1)
        elif isinstance(op, QRCode):
            image = _qr_image(op.data)
            pieces.append(("qr", image))
            height += image.height + 8
        elif isinstance(op, Barcode):
            height += 64 + LINE_HEIGHT + 8
        elif isinstance(op, Feed):
            height += LINE_HEIGHT * op.lines
    canvas = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(canvas)
    fonts = {(b, d): _font(b, 40 if d else 20) for b in (False, True) for d in (False, True)}
    y = MARGIN
    qr_images = iter(image for kind, image in pieces if kind == "qr")
    for op in ticket.ops:
        if isinstance(op, Text):
            step = 2 if op.double else 1
            font = fonts[(op.bold, op.double)]
            for i, char in enumerate(op.text):
                if char != " ":
                    draw.text((offset + i * cell * step, y), char, fill=0, font=font)
            y += LINE_HEIGHT * step
        elif isinstance(op, QRCode):
            image = next(qr_images)
            canvas.paste(image, ((width - image.width) // 2, y + 4))
            y += image.height + 8
        elif isinstance(op, Barcode):
            _draw_code128(draw, op.data, width, y + 4)
            label = op.data
            x = (width - len(label) * cell) // 2
            for i, char in enumerate(label):
                draw.text((x + i * cell, y + 68), char, fill=0, font=fonts[(False, False)])
            y += 64 + LINE_HEIGHT + 8
        elif isinstance(op, Feed):
            y += LINE_HEIGHT * op.lines
    out = io.BytesIO()
    canvas.save(out, format="PNG")
    return out.getvalue()


def _qr_image(data: str) -> Any:
    qrcode: Any = importlib.import_module("qrcode")

    code = qrcode.QRCode(border=1, box_size=5, error_correction=qrcode.constants.ERROR_CORRECT_M)
    code.add_data(data)
    code.make(fit=True)
    return code.make_image().get_image().convert("L")


def _draw_code128(draw: Any, data: str, width: int, y: int) -> None:
    codex: Any = importlib.import_module("barcode.codex")

    modules = codex.Code128(data).build()[0]
    module = 2 if len(modules) * 2 <= width else 1
    x = (width - len(modules) * module) // 2
    for i, bit in enumerate(modules):
        if bit == "1":
            draw.rectangle((x + i * module, y, x + (i + 1) * module - 1, y + 63), fill=0)
