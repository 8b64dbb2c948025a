"""Exact money on integer cents (and unit prices on 1/10000): no float ever touches an amount."""

from __future__ import annotations

from decimal import Decimal

# French VAT rates ×10 (20 %, 10 %, 5.5 %, 2.1 %, 0 %).
FRENCH_RATES = (200, 100, 55, 21, 0)


def div_round(n: int, d: int) -> int:
    """n / d rounded half away from zero (d > 0)."""
    q = (2 * abs(n) + d) // (2 * d)
    return q if n >= 0 else -q


def cents(value: int) -> str:
    """1234 -> "12.34", -5 -> "-0.05"."""
    sign = "-" if value < 0 else ""
    v = abs(value)
    return f"{sign}{v // 100}.{v % 100:02d}"


def ten_thousandths(value: int) -> str:
    sign = "-" if value < 0 else ""
    v = abs(value)
    return f"{sign}{v // 10000}.{v % 10000:04d}"


def rate_text(rate10: int) -> str:
    """200 -> "20", 55 -> "5.5"."""
    return str(rate10 // 10) if rate10 % 10 == 0 else f"{rate10 // 10}.{rate10 % 10}"


def to_cents(value: Decimal | str | int) -> int:
    if type(value) is str:  # the shops' usual "12.34" without a Decimal (a sixth of an invoice's build)
        whole, dot, frac = value.partition(".")
        digits = whole[1:] if whole[:1] == "-" else whole
        if (
            len(digits) <= 18  # exact in Decimal's 28 digits, as below
            and digits.isascii()
            and digits.isdigit()
            and len(frac) <= 2
            and (frac.isdigit() and frac.isascii() if frac else not dot)
        ):
            cents = int(digits) * 100 + (int(frac) * 10 if len(frac) == 1 else int(frac or 0))
            return -cents if whole[:1] == "-" else cents
    return int((Decimal(value) * 100).to_integral_exact())


def rate10_from_text(text: str) -> int:
    return int((Decimal(text) * 10).to_integral_exact())


def vat_rate(total_c: int, tax_c: int | None, class_rate10: int | None) -> int:
    """The line's VAT rate ×10: its tax class's rate when the amounts agree (to the cent), else the
    French rate nearest to total_tax / total."""
    if tax_c is None or total_c == 0:
        return class_rate10 if class_rate10 is not None else (0 if not tax_c else 200)
    if class_rate10 is not None and abs(tax_c * 1000 - total_c * class_rate10) <= 1000:
        return class_rate10
    return min(FRENCH_RATES, key=lambda r: abs(tax_c * 1000 - total_c * r))
