# Number and date conversion (included by _core.pyx): int64 from text, money as
# exact cents (half-even), and ISO date-times to UTC microseconds; each returns
# the error code the twin raises for the same text.

cdef inline int parse_int_text(const unsigned char* s, Py_ssize_t n, int literal, int64_t* out) noexcept nogil:
    """0 ok, E_EXPECT_INT, E_INT_RANGE; ``literal``: a JSON number token (no '.' or exponent allowed)."""
    cdef Py_ssize_t i = 0
    cdef int neg = 0
    cdef uint64_t v = 0, limit
    cdef unsigned char c
    if n and s[0] == 45:
        neg = 1
        i = 1
    if i >= n:
        return E_EXPECT_INT
    limit = (<uint64_t> 1) << 63 if neg else ((<uint64_t> 1) << 63) - 1
    while i < n:
        c = s[i]
        if c < 48 or c > 57:
            return E_EXPECT_INT
        if v > (limit - (c - 48)) // 10:
            # still need to know it is all digits for the right message
            i += 1
            while i < n:
                if s[i] < 48 or s[i] > 57:
                    return E_EXPECT_INT
                i += 1
            return E_INT_RANGE
        v = v * 10 + (c - 48)
        i += 1
    out[0] = <int64_t> (0 - v) if neg else <int64_t> v
    return 0


cdef int EXP_CLAMP = 100000


cdef int parse_money(const unsigned char* s, Py_ssize_t n, int64_t* out) noexcept nogil:
    """0 ok, E_EXPECT_MONEY, E_MONEY_RANGE; exact decimal to cents, half-even."""
    cdef Py_ssize_t i = 0, ist, ni, fst, nf = 0, nd, k, point
    cdef int neg = 0, eneg = 0, allzero = 1, sticky = 0, rd
    cdef int64_t e = 0
    cdef uint64_t cents = 0, limit
    cdef unsigned char d
    if i < n and s[i] == 45:
        neg = 1
        i += 1
    ist = i
    while i < n and 48 <= s[i] <= 57:
        i += 1
    ni = i - ist
    if ni == 0:
        return E_EXPECT_MONEY
    fst = i
    if i < n and s[i] == 46:
        i += 1
        fst = i
        while i < n and 48 <= s[i] <= 57:
            i += 1
        nf = i - fst
        if nf == 0:
            return E_EXPECT_MONEY
    if i < n and (s[i] == 101 or s[i] == 69):
        i += 1
        if i < n and (s[i] == 43 or s[i] == 45):
            eneg = s[i] == 45
            i += 1
        k = i
        while i < n and 48 <= s[i] <= 57:
            e = e * 10 + (s[i] - 48)
            if e > EXP_CLAMP:
                e = EXP_CLAMP
            i += 1
        if i == k:
            return E_EXPECT_MONEY
        if eneg:
            e = -e
    if i != n:
        return E_EXPECT_MONEY
    nd = ni + nf
    for k in range(nd):
        d = s[ist + k] if k < ni else s[fst + k - ni]
        if d != 48:
            allzero = 0
            break
    if allzero:
        out[0] = 0
        return 0
    limit = (<uint64_t> 1) << 63 if neg else ((<uint64_t> 1) << 63) - 1
    point = ni + e + 2
    for k in range(point if point > 0 else 0):
        d = (s[ist + k] if k < ni else s[fst + k - ni]) - 48 if k < nd else 0
        if cents > (limit - d) // 10:
            return E_MONEY_RANGE
        cents = cents * 10 + d
    if point < 0:
        rd = 0
        sticky = 1
    else:
        rd = ((s[ist + point] if point < ni else s[fst + point - ni]) - 48) if point < nd else 0
        for k in range(point + 1, nd):
            if (s[ist + k] if k < ni else s[fst + k - ni]) != 48:
                sticky = 1
                break
    if rd > 5 or (rd == 5 and (sticky or (cents & 1))):
        if cents + 1 > limit:
            return E_MONEY_RANGE
        cents += 1
    out[0] = <int64_t> (0 - cents) if neg else <int64_t> cents
    return 0


cdef inline int dig2(const unsigned char* s, int* ok) noexcept nogil:
    if s[0] < 48 or s[0] > 57 or s[1] < 48 or s[1] > 57:
        ok[0] = 0
        return 0
    return (s[0] - 48) * 10 + (s[1] - 48)


cdef int parse_datetime(const unsigned char* s, Py_ssize_t n, int64_t* out) noexcept nogil:
    """0 ok, 1 the "unset" date (null), -1 not a valid date-time."""
    cdef int ok = 1, y, mo, d, h, mi, sec, oh = 0, om = 0, leap, dim, k
    cdef int64_t us = 0, offset = 0, yy, era, yoe, doy, doe, days
    cdef Py_ssize_t i
    if n == 19 and (memcmp(s, b"0000-00-00 00:00:00", 19) == 0 or memcmp(s, b"0000-00-00T00:00:00", 19) == 0):
        return 1
    if n < 19:
        return -1
    y = dig2(s, &ok) * 100 + dig2(s + 2, &ok)
    mo = dig2(s + 5, &ok)
    d = dig2(s + 8, &ok)
    h = dig2(s + 11, &ok)
    mi = dig2(s + 14, &ok)
    sec = dig2(s + 17, &ok)
    if not ok or s[4] != 45 or s[7] != 45 or (s[10] != 84 and s[10] != 32) or s[13] != 58 or s[16] != 58:
        return -1
    i = 19
    if i < n and s[i] == 46:
        i += 1
        k = 0
        while i < n and 48 <= s[i] <= 57:
            if k < 6:
                us = us * 10 + (s[i] - 48)
            k += 1
            i += 1
        if k == 0 or k > 9:
            return -1
        while k < 6:
            us *= 10
            k += 1
    if i < n:
        if s[i] == 90:
            i += 1
        elif (s[i] == 43 or s[i] == 45) and i + 6 <= n and s[i + 3] == 58:
            oh = dig2(s + i + 1, &ok)
            om = dig2(s + i + 4, &ok)
            if not ok or oh > 23 or om > 59:
                return -1
            offset = oh * 3600 + om * 60
            if s[i] == 45:
                offset = -offset
            i += 6
        else:
            return -1
    if i != n:
        return -1
    leap = y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)
    if y < 1 or mo < 1 or mo > 12 or h > 23 or mi > 59 or sec > 59:
        return -1
    if mo == 2:
        dim = 29 if leap else 28
    elif mo == 4 or mo == 6 or mo == 9 or mo == 11:
        dim = 30
    else:
        dim = 31
    if d < 1 or d > dim:
        return -1
    yy = y - (1 if mo <= 2 else 0)
    era = yy // 400
    yoe = yy - era * 400
    doy = (153 * (mo + (-3 if mo > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    days = era * 146097 + doe - 719468
    out[0] = (days * 86400 + h * 3600 + mi * 60 + sec - offset) * 1000000 + us
    return 0
