# The page walk (included by _core.pyx): one pass over the page that records the
# spec's values (order and line tries), reads the orders and lines arrays, and
# checks the page is valid UTF-8.

ctypedef Py_ssize_t (*scan_fn)(St* st, Py_ssize_t i, int depth, Trie* t, int32_t node, Rec* recs) noexcept nogil
cdef scan_fn scan_value_ptr = NULL


cdef Py_ssize_t scan_lines(St* st, Py_ssize_t i, int depth) noexcept nogil:
    """The lines array of an order: each element is read with the line trie."""
    cdef const unsigned char* p = st.p
    cdef Py_ssize_t n = st.n
    cdef Rec* row
    cdef Rec* grown
    cdef Py_ssize_t cap
    i = skip_ws(st, i + 1)
    if i < n and p[i] == 93:
        return i + 1
    while True:
        if st.nlines == st.line_cap:
            cap = st.line_cap * 2 if st.line_cap else 64
            grown = <Rec*> realloc(st.line_recs, cap * st.line_t.n * sizeof(Rec))
            if grown == NULL:
                st.oom = 1
                return syntax_error(st, i, 0, 0)
            st.line_recs = grown
            st.line_cap = cap
        row = st.line_recs + st.nlines * st.line_t.n
        memset(row, 0, st.line_t.n * sizeof(Rec))
        st.nlines += 1
        i = scan_value_ptr(st, i, depth + 1, st.line_t, 0, row)
        if i < 0:
            return -1
        i = skip_ws(st, i)
        if i < n and p[i] == 44:
            i = skip_ws(st, i + 1)
        elif i < n and p[i] == 93:
            return i + 1
        else:
            return syntax_error(st, i, 0, 0)


cdef Py_ssize_t scan_orders(St* st, Py_ssize_t i, int depth) noexcept nogil:
    """The orders array: each element is read with the order trie, then converted."""
    cdef const unsigned char* p = st.p
    cdef Py_ssize_t n = st.n, start
    reset_outputs(st)
    i = skip_ws(st, i + 1)
    if i < n and p[i] == 93:
        return i + 1
    while True:
        memset(st.order_recs, 0, st.order_t.n * sizeof(Rec))
        st.nlines = 0
        start = i
        i = scan_value_ptr(st, i, depth + 1, st.order_t, 0, st.order_recs)
        if i < 0:
            return -1
        if st.ferr.code == 0:
            finish_order(st, start, i)
        st.norders += 1
        i = skip_ws(st, i)
        if i < n and p[i] == 44:
            i = skip_ws(st, i + 1)
        elif i < n and p[i] == 93:
            return i + 1
        else:
            return syntax_error(st, i, 0, 0)


cdef Py_ssize_t scan_value(St* st, Py_ssize_t i, int depth, Trie* t, int32_t node, Rec* recs) noexcept nogil:
    """Validate the value at ``i`` and record it (and the spec's values inside it) in ``recs``."""
    cdef const unsigned char* p = st.p
    cdef Py_ssize_t n = st.n, ks, ke, count
    cdef unsigned char c
    cdef int32_t flags = 0, child
    cdef Node* nd = &t.nodes[node]
    cdef Rec* rec = &recs[node]
    if i >= n:
        return syntax_error(st, i, 0, 0)
    c = p[i]
    rec.start = i
    if c == 123:
        rec.type = T_OBJ
        if nd.ht_mask < 0:
            i = skip_value(st, i, depth)
        else:
            if depth + 1 > MAX_DEPTH:
                return syntax_error(st, i, 0, 1)
            i = skip_ws(st, i + 1)
            if i < n and p[i] == 125:
                i += 1
            else:
                while True:
                    if i >= n or p[i] != 34:
                        return syntax_error(st, i, 0, 0)
                    ks = i
                    flags = 0
                    i = scan_string(st, i, &flags)
                    if i < 0:
                        return -1
                    ke = i
                    i = skip_ws(st, i)
                    if i >= n or p[i] != 58:
                        return syntax_error(st, i, 0, 0)
                    i = skip_ws(st, i + 1)
                    if flags & F_ESC:
                        st.scratch.len = 0
                        if decode_string(p, ks + 1, ke - 1, &st.scratch) == 0:
                            child = trie_key_child(t, node, <unsigned char*> st.scratch.data, st.scratch.len)
                        else:
                            child = -1
                    else:
                        child = trie_key_child(t, node, p + ks + 1, ke - ks - 2)
                    if child >= 0:
                        clear_subtree(st, t, child, recs)
                        i = scan_value(st, i, depth + 1, t, child, recs)
                    else:
                        i = skip_value(st, i, depth + 1)
                    if i < 0:
                        return -1
                    i = skip_ws(st, i)
                    if i < n and p[i] == 44:
                        i = skip_ws(st, i + 1)
                    elif i < n and p[i] == 125:
                        i += 1
                        break
                    else:
                        return syntax_error(st, i, 0, 0)
    elif c == 91:
        rec.type = T_ARR
        if depth + 1 > MAX_DEPTH:
            return syntax_error(st, i, 0, 1)
        ks = skip_ws(st, i + 1)
        if ks < n and p[ks] == 93:
            rec.flags = F_EMPTY
            i = ks + 1
        elif nd.special:
            if t.kind == 1:
                i = scan_lines(st, i, depth)
            else:
                i = scan_orders(st, i, depth)
        elif nd.idx_n == 0:
            i = skip_value(st, i, depth)
        else:
            i = ks
            count = 0
            while True:
                if count < nd.idx_n and t.table[nd.idx_off + count] >= 0:
                    child = t.table[nd.idx_off + count]
                    clear_subtree(st, t, child, recs)
                    i = scan_value(st, i, depth + 1, t, child, recs)
                else:
                    i = skip_value(st, i, depth + 1)
                if i < 0:
                    return -1
                count += 1
                i = skip_ws(st, i)
                if i < n and p[i] == 44:
                    i = skip_ws(st, i + 1)
                elif i < n and p[i] == 93:
                    i += 1
                    break
                else:
                    return syntax_error(st, i, 0, 0)
    elif c == 34:
        rec.type = T_STR
        i = scan_string(st, i, &flags)
        rec.flags = flags
    elif c == 45 or 48 <= c <= 57:
        rec.type = T_NUM
        i = scan_number(st, i)
    elif c == 116:
        rec.type = T_TRUE
        i = scan_word(st, i, "true", 4)
    elif c == 102:
        rec.type = T_FALSE
        i = scan_word(st, i, "false", 5)
    elif c == 110:
        rec.type = T_NULL
        i = scan_word(st, i, "null", 4)
    else:
        return syntax_error(st, i, 0, 0)
    rec.end = i
    return i


cdef int run_scan(St* st) noexcept nogil:
    cdef Py_ssize_t i = skip_ws(st, 0)
    i = scan_value(st, i, 0, st.page_t, 0, st.page_recs)
    if i < 0:
        return -1
    i = skip_ws(st, i)
    if i != st.n:
        syntax_error(st, i, 0, 0)
        return -1
    return 0


cdef Py_ssize_t utf8_check(const unsigned char* p, Py_ssize_t n) noexcept nogil:
    """Offset of the first invalid UTF-8 sequence (as Python's decoder reports it), or -1."""
    cdef Py_ssize_t i = 0
    cdef unsigned char c, c1
    cdef int need
    while i < n:
        while i + 8 <= n and ((<const uint64_t*> (p + i))[0] & 0x8080808080808080ULL) == 0:
            i += 8
        if i >= n:
            break
        c = p[i]
        if c < 0x80:
            i += 1
            continue
        if 0xC2 <= c <= 0xDF:
            need = 1
        elif 0xE0 <= c <= 0xEF:
            need = 2
        elif 0xF0 <= c <= 0xF4:
            need = 3
        else:
            return i
        if i + 1 >= n:
            return i
        c1 = p[i + 1]
        if c == 0xE0:
            if c1 < 0xA0 or c1 > 0xBF:
                return i
        elif c == 0xED:
            if c1 < 0x80 or c1 > 0x9F:
                return i
        elif c == 0xF0:
            if c1 < 0x90 or c1 > 0xBF:
                return i
        elif c == 0xF4:
            if c1 < 0x80 or c1 > 0x8F:
                return i
        elif c1 < 0x80 or c1 > 0xBF:
            return i
        if need >= 2:
            if i + 2 >= n or p[i + 2] < 0x80 or p[i + 2] > 0xBF:
                return i
        if need == 3:
            if i + 3 >= n or p[i + 3] < 0x80 or p[i + 3] > 0xBF:
                return i
        i += need + 1
    return -1


scan_value_ptr = scan_value
