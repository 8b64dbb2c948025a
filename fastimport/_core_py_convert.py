"""The pure-Python twin's number and date conversion (``_core_convert.pxi`` of ``_core``).

Each converter returns the column value or raises :class:`_Bad` with the error
code the compiled core gives for the same value.
"""

from __future__ import annotations

import re
from typing import Any, Final

from fastimport import _core_shared as sh
from fastimport._core_shared import Num

INT64_MIN: Final[int] = -(2**63)
INT64_MAX: Final[int] = 2**63 - 1


_INT_STR = re.compile(r"-?[0-9]+\Z")
_INT_LIT = re.compile(r"-?(?:0|[1-9][0-9]*)\Z")
_MONEY = re.compile(r"(-?)([0-9]+)(?:\.([0-9]+))?(?:[eE]([+-]?[0-9]+))?\Z")
_DT = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[T ]([0-9]{2}):([0-9]{2}):([0-9]{2})"
    r"(?:\.([0-9]{1,9}))?(Z|[+-][0-9]{2}:[0-9]{2})?\Z"
)
_ZERO_DATES = ("0000-00-00 00:00:00", "0000-00-00T00:00:00")
_EXP_CLAMP = 100_000


class _Bad(Exception):
    def __init__(self, code: int) -> None:
        self.code = code


def _parse_int_text(text: str) -> int:
    digits = text.lstrip("-").lstrip("0")
    if len(digits) > 19:
        raise _Bad(sh.E_INT_RANGE)
    v = int(text)
    if not INT64_MIN <= v <= INT64_MAX:
        raise _Bad(sh.E_INT_RANGE)
    return v


def _to_int(v: Any) -> int:
    if isinstance(v, Num):
        if not _INT_LIT.match(v):
            raise _Bad(sh.E_EXPECT_INT)
        return _parse_int_text(v)
    if type(v) is str and _INT_STR.match(v):
        return _parse_int_text(v)
    raise _Bad(sh.E_EXPECT_INT)


def _to_str(v: Any) -> str:
    if isinstance(v, Num):
        return str(v)
    if type(v) is str:
        try:
            v.encode("utf-8")
        except UnicodeEncodeError:
            raise _Bad(sh.E_SURROGATE) from None
        return v
    raise _Bad(sh.E_EXPECT_STR)


def _to_money(v: Any) -> int:
    if not isinstance(v, str):
        raise _Bad(sh.E_EXPECT_MONEY)
    m = _MONEY.match(v)
    if m is None:
        raise _Bad(sh.E_EXPECT_MONEY)
    neg, ipart, fpart, exp = m.groups()
    digits = ipart + (fpart or "")
    if digits.strip("0") == "":
        return 0
    e = 0
    if exp:
        mag = exp.lstrip("+-").lstrip("0")
        e = min(int(mag), _EXP_CLAMP) if len(mag) < 7 else _EXP_CLAMP
        if exp[0] == "-":
            e = -e
    point = len(ipart) + e + 2  # digits[:point] are whole cents
    cents = 0
    limit = 2**63 if neg else INT64_MAX
    for i in range(max(point, 0)):
        d = ord(digits[i]) - 48 if i < len(digits) else 0
        cents = cents * 10 + d
        if cents > limit:
            raise _Bad(sh.E_MONEY_RANGE)
    if point < 0:
        round_digit, sticky = 0, any(c != "0" for c in digits)
    else:
        round_digit = ord(digits[point]) - 48 if point < len(digits) else 0
        sticky = any(c != "0" for c in digits[point + 1 :])
    if round_digit > 5 or (round_digit == 5 and (sticky or cents & 1)):
        cents += 1
        if cents > limit:
            raise _Bad(sh.E_MONEY_RANGE)
    return -cents if neg else cents


_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _days_from_civil(y: int, m: int, d: int) -> int:
    y -= m <= 2
    era = (y if y >= 0 else y - 399) // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def _to_datetime(v: Any) -> int | None:
    if type(v) is not str:
        raise _Bad(sh.E_EXPECT_DT)
    if v in _ZERO_DATES:
        return None
    m = _DT.match(v)
    if m is None:
        raise _Bad(sh.E_EXPECT_DT)
    y, mo, d, h, mi, sec = (int(g) for g in m.groups()[:6])
    frac, off = m.group(7), m.group(8)
    leap = y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)
    if not (y >= 1 and 1 <= mo <= 12 and h <= 23 and mi <= 59 and sec <= 59):
        raise _Bad(sh.E_EXPECT_DT)
    if not 1 <= d <= _DAYS[mo - 1] + (mo == 2 and leap):
        raise _Bad(sh.E_EXPECT_DT)
    offset = 0
    if off and off != "Z":
        oh, om = int(off[1:3]), int(off[4:6])
        if oh > 23 or om > 59:
            raise _Bad(sh.E_EXPECT_DT)
        offset = (oh * 3600 + om * 60) * (-1 if off[0] == "-" else 1)
    us = int((frac or "0")[:6].ljust(6, "0"))
    secs = _days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - offset
    return secs * 1_000_000 + us


def _to_bool(v: Any) -> bool:
    if v is True or v is False:
        return v
    if type(v) is str and v in ("0", "1"):
        return v == "1"
    raise _Bad(sh.E_EXPECT_BOOL)


_CONVERT = {"int": _to_int, "str": _to_str, "money": _to_money, "datetime": _to_datetime, "bool": _to_bool}
