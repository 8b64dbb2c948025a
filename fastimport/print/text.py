"""Text that is safe for a thermal printer: sanitised, mapped to one code page, measured.

Every string that reaches a ticket goes through :meth:`CodePageText.fit`:

1. :func:`sanitise` removes control characters (C0 except newline, DEL, C1 and
   Unicode format/private characters), so shop data can never carry a printer
   command (``ESC p`` opens the drawer, ``ESC @`` resets, ``GS V`` cuts);
2. characters the configured code page lacks are replaced by close
   equivalents (``’``→``'``, ``—``→``-``, ``œ``→``oe``, ``€``→``EUR`` on pages
   without the euro, accents stripped as a last resort, else ``?``).

After step 2 a string encodes to the code page one byte per character, so
``len()`` is its printed width and the text preview is exact.
"""

from __future__ import annotations

import codecs
import unicodedata
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

# Close equivalents for characters a code page may lack (tried in this order
# only when the character itself cannot be encoded).
FALLBACKS: dict[str, str] = {
    "’": "'",
    "‘": "'",
    "‚": ",",
    "“": '"',
    "”": '"',
    "„": '"',
    "«": '"',
    "»": '"',
    "—": "-",
    "–": "-",
    "‐": "-",
    "‑": "-",
    "−": "-",
    "…": "...",
    "œ": "oe",
    "Œ": "OE",
    "æ": "ae",
    "Æ": "AE",
    "ß": "ss",
    "€": "EUR",
    "•": "*",
    "·": ".",
    "×": "x",
    "\u00a0": " ",
    "\u202f": " ",
    "\u2009": " ",
    "\u2007": " ",
    "™": "TM",
    "©": "(c)",
    "®": "(R)",
    "°": "o",
    "²": "2",
    "³": "3",
    "½": "1/2",
    "¼": "1/4",
    "¾": "3/4",
}

_DROP_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})


def sanitise(value: object, *, keep_newlines: bool = False) -> str:
    """Remove every character that could be a printer command or is invisible.

    Tabs become spaces; ``\\r\\n`` and ``\\r`` become newlines, which are kept
    when ``keep_newlines`` is true and become spaces otherwise.
    """
    text = "" if value is None else str(value)
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    out: list[str] = []
    for char in text:
        if char == "\n":
            out.append("\n" if keep_newlines else " ")
            continue
        code = ord(char)
        if code < 0x20 or code == 0x7F or 0x80 <= code <= 0x9F:
            continue
        if code > 0x7F and unicodedata.category(char) in _DROP_CATEGORIES:
            continue
        out.append(char)
    return "".join(out)


class CodePageText:
    """Maps text onto one code page; results encode one byte per character."""

    def __init__(self, codec: str) -> None:
        self.codec = codecs.lookup(codec).name
        self._cache: dict[str, str] = {}

    def _encodable(self, char: str) -> bool:
        try:
            char.encode(self.codec)
        except UnicodeEncodeError:
            return False
        return True

    def _map_char(self, char: str) -> str:
        mapped = self._cache.get(char)
        if mapped is not None:
            return mapped
        if self._encodable(char):
            mapped = char
        else:
            mapped = "?"
            fallback = FALLBACKS.get(char)
            if fallback is not None and all(self._encodable(c) for c in fallback):
                mapped = fallback
            else:
                stripped = "".join(
                    c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c)
                )
                if stripped and stripped != char and all(self._encodable(c) for c in stripped):
                    mapped = stripped
        self._cache[char] = mapped
        return mapped

    def fit(self, value: object, *, keep_newlines: bool = False) -> str:
        """Sanitise ``value`` and map it onto the code page."""
        text = sanitise(value, keep_newlines=keep_newlines)
        if text.isascii():
            return text
        return "".join(self._map_char(c) if ord(c) > 0x7E else c for c in text)

    def encode(self, text: str) -> bytes:
        """Encode text already passed through :meth:`fit` (strict: a leak is a bug)."""
        return text.encode(self.codec)


@lru_cache(maxsize=16)
def code_page_text(codec: str) -> CodePageText:
    return CodePageText(codec)


_CENT = Decimal("0.01")


def money(amount: Decimal, *, grouping: bool = True) -> str:
    """French style: ``Decimal("1234.5")`` → ``"1 234,50"``, negatives ``"-19,90"``."""
    value = amount.quantize(_CENT, rounding=ROUND_HALF_UP)
    sign = "-" if value < 0 else ""
    units, cents = f"{abs(value):.2f}".split(".")
    if grouping and len(units) > 3:
        groups: list[str] = []
        while len(units) > 3:
            groups.insert(0, units[-3:])
            units = units[:-3]
        groups.insert(0, units)
        units = " ".join(groups)
    return f"{sign}{units},{cents}"


def quantity(value: Decimal | int) -> str:
    """``2`` → ``"2"``, ``Decimal("1.500")`` → ``"1,5"``."""
    if isinstance(value, int):
        return str(value)
    if value == value.to_integral_value():
        return str(int(value))
    return format(value.normalize(), "f").replace(".", ",")


def rate(value: Decimal) -> str:
    """VAT rate as printed: ``Decimal("20.0")`` → ``"20,00%"``, ``Decimal("5.5")`` → ``"5,50%"``."""
    return f"{value.quantize(_CENT, rounding=ROUND_HALF_UP):.2f}".replace(".", ",") + "%"


# Symbols printed after amounts; a currency not listed prints its ISO code.
CURRENCY_SYMBOLS: dict[str, str] = {
    "EUR": "€", "GBP": "£", "USD": "$", "CAD": "$", "AUD": "$", "JPY": "¥", "CHF": "CHF", "SEK": "kr",
    "NOK": "kr", "DKK": "kr", "PLN": "zł", "CZK": "Kč", "HUF": "Ft",
}  # fmt: skip


def currency_symbol(code: str | None) -> str:
    """``"GBP"`` → ``"£"``; an unknown code is printed as it is (``"XPF"``)."""
    iso = (code or "EUR").upper()
    return CURRENCY_SYMBOLS.get(iso, iso)
