"""How document numbers look: invoices, credit notes and delivery notes, formatted and parsed here only.

A number is its series followed by a six-digit, gapless sequence: ``FA-2026-eshop-000042``.
The series comes from a pattern of ``[invoicing]`` (``series``, ``credit_series``,
``delivery_series``) where ``{year}`` and ``{store}`` are replaced.  Issuing (invoicing, credit,
shipping) and verification both call these functions, so changing the look of a number here
changes it everywhere at once; numbers already issued keep the look they were signed with.
"""

from __future__ import annotations

SEQ_DIGITS = 6
SEPARATOR = "-"


def series_for(pattern: str, *, year: int, store: str) -> str:
    """The series a document issued in ``year`` for ``store`` belongs to (``KeyError`` on unknown braces)."""
    return pattern.format(year=year, store=store)


def document_number(series: str, seq: int) -> str:
    """``("FA-2026-eshop", 42)`` → ``"FA-2026-eshop-000042"``."""
    return f"{series}{SEPARATOR}{seq:0{SEQ_DIGITS}d}"


def parse_number(number: str) -> tuple[str, int]:
    """``"FA-2026-eshop-000042"`` → ``("FA-2026-eshop", 42)``; ``ValueError`` if it is not a number."""
    series, sep, seq = number.rpartition(SEPARATOR)
    if not sep or not series or not seq.isdigit():
        raise ValueError(f"{number!r} is not a document number (series{SEPARATOR}{'0' * SEQ_DIGITS})")
    return series, int(seq)
