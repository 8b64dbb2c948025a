# The JSON scanner (included by _core.pyx): the scanner state, syntax errors,
# whitespace, strings, numbers and literals, skipping a whole value, and decoding
# a string's escapes into UTF-8; all without the GIL.

cdef struct Col:
    int32_t kind
    int32_t required
    Buf vals
    Buf data
    Buf valid
    Py_ssize_t nulls


cdef struct FErr:
    int32_t code
    int32_t where
    int32_t order
    int32_t line
    int32_t field
    int32_t nsteps
    int32_t vtype
    Py_ssize_t start
    Py_ssize_t end


cdef struct St:
    const unsigned char* p
    Py_ssize_t n
    # syntax error
    int syn
    Py_ssize_t syn_pos
    int syn_in_string
    int syn_deep
    int oom
    # tries and records
    Trie* page_t
    Trie* order_t
    Trie* line_t
    Rec* page_recs
    Rec* order_recs
    Rec* line_recs      # line_cap rows of line_t.n records
    Py_ssize_t line_cap
    Py_ssize_t nlines   # lines of the order being scanned
    # fields
    FieldInfo* ofields
    FieldInfo* lfields
    int32_t n_of
    int32_t n_lf
    int32_t* chains
    int32_t lines_chain_off
    int32_t lines_nsteps
    # outputs
    Col* ocols
    Col* lcols
    Buf raw_off
    Buf raw_data
    Buf line_order
    Buf line_no
    Py_ssize_t norders    # orders seen (index of the next order)
    Py_ssize_t nrows      # orders written
    Py_ssize_t nlrows     # lines written
    Buf scratch
    FErr ferr


cdef inline Py_ssize_t syntax_error(St* st, Py_ssize_t at, int in_string, int deep) noexcept nogil:
    st.syn = 1
    st.syn_pos = at
    st.syn_in_string = in_string
    st.syn_deep = deep
    return -1


cdef inline Py_ssize_t skip_ws(St* st, Py_ssize_t i) noexcept nogil:
    cdef const unsigned char* p = st.p
    cdef Py_ssize_t n = st.n
    while i < n and WS[p[i]]:
        i += 1
    return i


cdef inline Py_ssize_t scan_string(St* st, Py_ssize_t i, int32_t* flags) noexcept nogil:
    """``i`` at the opening quote; returns the index after the closing quote, -1 on error."""
    cdef const unsigned char* p = st.p
    cdef Py_ssize_t n = st.n
    cdef unsigned char c
    cdef int k
    i += 1
    while True:
        while i + 8 <= n:
            if STR_STOP[p[i]]:
                break
            if STR_STOP[p[i + 1]]:
                i += 1
                break
            if STR_STOP[p[i + 2]]:
                i += 2
                break
            if STR_STOP[p[i + 3]]:
                i += 3
                break
            i += 4
        while i < n and not STR_STOP[p[i]]:
            i += 1
        if i >= n:
            return syntax_error(st, i, 1, 0)
        c = p[i]
        if c == 34:
            return i + 1
        if c == 92:
            flags[0] |= F_ESC
            i += 1
            if i >= n:
                return syntax_error(st, i, 1, 0)
            c = p[i]
            if SIMPLE_ESC[c]:
                i += 1
            elif c == 117:
                i += 1
                for k in range(4):
                    if i >= n or not HEX[p[i]]:
                        return syntax_error(st, i, 1, 0)
                    i += 1
            else:
                return syntax_error(st, i, 1, 0)
        else:
            return syntax_error(st, i, 1, 0)


cdef inline Py_ssize_t scan_digits(St* st, Py_ssize_t i) noexcept nogil:
    cdef const unsigned char* p = st.p
    cdef Py_ssize_t n = st.n
    if i >= n or p[i] < 48 or p[i] > 57:
        return syntax_error(st, i, 0, 0)
    while i < n and 48 <= p[i] <= 57:
        i += 1
    return i


cdef inline Py_ssize_t scan_number(St* st, Py_ssize_t i) noexcept nogil:
    cdef const unsigned char* p = st.p
    cdef Py_ssize_t n = st.n
    if p[i] == 45:
        i += 1
    if i >= n:
        return syntax_error(st, i, 0, 0)
    if p[i] == 48:
        i += 1
    else:
        i = scan_digits(st, i)
        if i < 0:
            return -1
    if i < n and p[i] == 46:
        i = scan_digits(st, i + 1)
        if i < 0:
            return -1
    if i < n and (p[i] == 101 or p[i] == 69):
        i += 1
        if i < n and (p[i] == 43 or p[i] == 45):
            i += 1
        i = scan_digits(st, i)
    return i


cdef inline Py_ssize_t scan_word(St* st, Py_ssize_t i, const char* word, Py_ssize_t wn) noexcept nogil:
    cdef Py_ssize_t k
    for k in range(wn):
        if i + k >= st.n or st.p[i + k] != <unsigned char> word[k]:
            return syntax_error(st, i + k, 0, 0)
    return i + wn


cdef Py_ssize_t skip_value(St* st, Py_ssize_t i, int depth) noexcept nogil:
    """Validate (and skip) the value at ``i``; ``depth`` containers enclose it."""
    cdef const unsigned char* p = st.p
    cdef Py_ssize_t n = st.n
    cdef unsigned char c, close
    cdef int32_t flags = 0
    if i >= n:
        return syntax_error(st, i, 0, 0)
    c = p[i]
    if c == 34:
        return scan_string(st, i, &flags)
    if c == 123 or c == 91:
        if depth + 1 > MAX_DEPTH:
            return syntax_error(st, i, 0, 1)
        close = c + 2
        i = skip_ws(st, i + 1)
        if i < n and p[i] == close:
            return i + 1
        while True:
            if c == 123:
                if i >= n or p[i] != 34:
                    return syntax_error(st, i, 0, 0)
                i = scan_string(st, i, &flags)
                if i < 0:
                    return -1
                i = skip_ws(st, i)
                if i >= n or p[i] != 58:
                    return syntax_error(st, i, 0, 0)
                i = skip_ws(st, i + 1)
            i = skip_value(st, i, depth + 1)
            if i < 0:
                return -1
            i = skip_ws(st, i)
            if i < n and p[i] == 44:
                i = skip_ws(st, i + 1)
            elif i < n and p[i] == close:
                return i + 1
            else:
                return syntax_error(st, i, 0, 0)
    if c == 45 or 48 <= c <= 57:
        return scan_number(st, i)
    if c == 116:
        return scan_word(st, i, "true", 4)
    if c == 102:
        return scan_word(st, i, "false", 5)
    if c == 110:
        return scan_word(st, i, "null", 4)
    return syntax_error(st, i, 0, 0)


cdef int decode_string(const unsigned char* p, Py_ssize_t start, Py_ssize_t end, Buf* out) noexcept nogil:
    """Append the UTF-8 text of the (validated) string body p[start:end] to ``out``.

    Returns 0, -1 on an unpaired surrogate escape (``out`` unchanged), -2 out of memory.
    """
    cdef Py_ssize_t i = start, run, old = out.len
    cdef unsigned char c
    cdef uint32_t cp, lo
    cdef unsigned char* o
    if buf_reserve(out, end - start):  # decoding never grows the text
        return -2
    o = <unsigned char*> out.data + out.len
    while i < end:
        c = p[i]
        if c != 92:
            run = i
            while i < end and p[i] != 92:
                i += 1
            memcpy(o, p + run, i - run)
            o += i - run
            continue
        c = p[i + 1]
        if c != 117:
            o[0] = SIMPLE_ESC[c]
            o += 1
            i += 2
            continue
        cp = ((HEX[p[i + 2]] - 1) << 12) | ((HEX[p[i + 3]] - 1) << 8) | ((HEX[p[i + 4]] - 1) << 4) | (HEX[p[i + 5]] - 1)
        i += 6
        if 0xD800 <= cp <= 0xDBFF:
            if i + 6 <= end and p[i] == 92 and p[i + 1] == 117:
                lo = ((HEX[p[i + 2]] - 1) << 12) | ((HEX[p[i + 3]] - 1) << 8) | ((HEX[p[i + 4]] - 1) << 4) | (HEX[p[i + 5]] - 1)
                if 0xDC00 <= lo <= 0xDFFF:
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00)
                    i += 6
                else:
                    out.len = old
                    return -1
            else:
                out.len = old
                return -1
        elif 0xDC00 <= cp <= 0xDFFF:
            out.len = old
            return -1
        if cp < 0x80:
            o[0] = cp
            o += 1
        elif cp < 0x800:
            o[0] = 0xC0 | (cp >> 6)
            o[1] = 0x80 | (cp & 0x3F)
            o += 2
        elif cp < 0x10000:
            o[0] = 0xE0 | (cp >> 12)
            o[1] = 0x80 | ((cp >> 6) & 0x3F)
            o[2] = 0x80 | (cp & 0x3F)
            o += 3
        else:
            o[0] = 0xF0 | (cp >> 18)
            o[1] = 0x80 | ((cp >> 12) & 0x3F)
            o[2] = 0x80 | ((cp >> 6) & 0x3F)
            o[3] = 0x80 | (cp & 0x3F)
            o += 4
    out.len = <Py_ssize_t> (<char*> o - out.data)
    return 0


cdef void reset_outputs(St* st) noexcept nogil:
    cdef int32_t f
    for f in range(st.n_of):
        st.ocols[f].vals.len = 0
        st.ocols[f].data.len = 0
        st.ocols[f].valid.len = 0
        st.ocols[f].nulls = 0
    for f in range(st.n_lf):
        st.lcols[f].vals.len = 0
        st.lcols[f].data.len = 0
        st.lcols[f].valid.len = 0
        st.lcols[f].nulls = 0
    st.raw_off.len = 0
    st.raw_data.len = 0
    st.line_order.len = 0
    st.line_no.len = 0
    st.norders = 0
    st.nrows = 0
    st.nlrows = 0
    st.ferr.code = 0


cdef inline void clear_subtree(St* st, Trie* t, int32_t node, Rec* recs) noexcept nogil:
    memset(&recs[node], 0, (t.nodes[node].subtree_end - node) * sizeof(Rec))
    if t.nodes[node].has_special:
        if t.kind == 1:
            st.nlines = 0
        elif t.kind == 0:
            reset_outputs(st)
