# Column builders (included by _core.pyx): find a field's value along its trie
# chain, convert it into its column buffer (or record the first field error),
# and finish an order: its fields, its lines and its raw bytes.

cdef inline void set_ferr(St* st, int code, int where, int32_t line, int32_t field, int32_t nsteps, Rec* rec) noexcept nogil:
    st.ferr.code = code
    st.ferr.where = where
    st.ferr.order = <int32_t> st.norders
    st.ferr.line = line
    st.ferr.field = field
    st.ferr.nsteps = nsteps
    if rec != NULL:
        st.ferr.vtype = rec.type
        st.ferr.start = rec.start
        st.ferr.end = rec.end
    else:
        st.ferr.vtype = T_OBJ
        st.ferr.start = 0
        st.ferr.end = 0


cdef Rec* resolve(St* st, Trie* t, Rec* recs, int32_t* chain, int32_t nsteps,
                  int where, int32_t line, int32_t field) noexcept nogil:
    """The record at the end of ``chain``; NULL when absent, or when an error was set."""
    cdef int32_t k
    cdef Rec* cont
    cdef int ty
    for k in range(nsteps):
        if k == 0:
            if not t.nodes[chain[0]].is_key:
                set_ferr(st, E_EXPECT_ARR, where, line, field, 0, NULL)
                return NULL
            continue
        cont = &recs[chain[k - 1]]
        ty = cont.type
        if ty == T_MISSING or ty == T_NULL:
            return NULL
        if t.nodes[chain[k]].is_key:
            if ty == T_OBJ:
                continue
            if ty == T_ARR and cont.flags & F_EMPTY:
                return NULL
            set_ferr(st, E_EXPECT_OBJ, where, line, field, k, cont)
            return NULL
        if ty != T_ARR:
            set_ferr(st, E_EXPECT_ARR, where, line, field, k, cont)
            return NULL
    return &recs[chain[nsteps - 1]]


cdef int convert(St* st, Col* col, FieldInfo* fi, Trie* t, Rec* recs, int where, int32_t line, int32_t field) noexcept nogil:
    """Append one value to ``col``; 0 ok, -1 error recorded in st.ferr."""
    cdef Rec* rec = resolve(st, t, recs, st.chains + fi.chain_off, fi.nsteps, where, line, field)
    cdef int code = 0, r
    cdef int64_t v = 0
    cdef uint8_t b = 0
    cdef const unsigned char* s
    cdef Py_ssize_t sn
    cdef int isnull = 0
    if st.ferr.code:
        return -1
    if rec == NULL or rec.type == T_MISSING or rec.type == T_NULL:
        isnull = 1
    else:
        if rec.type == T_STR:
            if rec.flags & F_ESC and fi.kind != K_STR:
                st.scratch.len = 0
                r = decode_string(st.p, rec.start + 1, rec.end - 1, &st.scratch)
                if r == -2:
                    st.oom = 1
                    return -1
                if r == -1:
                    # an unpaired surrogate can match no grammar but "str"'s
                    s = <const unsigned char*> ""
                    sn = -1
                else:
                    s = <const unsigned char*> st.scratch.data
                    sn = st.scratch.len
            else:
                s = st.p + rec.start + 1
                sn = rec.end - rec.start - 2
        else:
            s = st.p + rec.start
            sn = rec.end - rec.start
        if fi.kind == K_INT:
            if rec.type == T_NUM:
                code = parse_int_text(s, sn, 1, &v)
            elif rec.type == T_STR and sn >= 0:
                code = parse_int_text(s, sn, 0, &v)
            else:
                code = E_EXPECT_INT
        elif fi.kind == K_MONEY:
            if (rec.type == T_NUM or rec.type == T_STR) and sn >= 0:
                code = parse_money(s, sn, &v)
            else:
                code = E_EXPECT_MONEY
        elif fi.kind == K_DT:
            if rec.type == T_STR and sn >= 0:
                r = parse_datetime(s, sn, &v)
                if r == 1:
                    isnull = 1
                elif r < 0:
                    code = E_EXPECT_DT
            else:
                code = E_EXPECT_DT
        elif fi.kind == K_BOOL:
            if rec.type == T_TRUE:
                b = 1
            elif rec.type == T_FALSE:
                b = 0
            elif rec.type == T_STR and sn == 1 and (s[0] == 48 or s[0] == 49):
                b = s[0] == 49
            else:
                code = E_EXPECT_BOOL
        else:  # K_STR
            if rec.type == T_STR:
                if rec.flags & F_ESC:
                    r = decode_string(st.p, rec.start + 1, rec.end - 1, &col.data)
                    if r == -2:
                        st.oom = 1
                        return -1
                    if r == -1:
                        code = E_SURROGATE
                else:
                    if buf_put(&col.data, s, sn):
                        st.oom = 1
                        return -1
            elif rec.type == T_NUM:
                if buf_put(&col.data, s, sn):
                    st.oom = 1
                    return -1
            else:
                code = E_EXPECT_STR
        if code:
            set_ferr(st, code, where, line, field, fi.nsteps, rec)
            return -1
    if isnull:
        if fi.required:
            set_ferr(st, E_REQUIRED_MISSING if rec == NULL or rec.type == T_MISSING else E_REQUIRED_NULL,
                     where, line, field, fi.nsteps, NULL)
            return -1
        col.nulls += 1
        v = 0
        b = 0
    if buf_u8(&col.valid, 0 if isnull else 1):
        st.oom = 1
        return -1
    if fi.kind == K_STR:
        r = buf_i64(&col.vals, col.data.len)
    elif fi.kind == K_BOOL:
        r = buf_u8(&col.vals, b)
    else:
        r = buf_i64(&col.vals, v)
    if r:
        st.oom = 1
        return -1
    return 0


cdef void finish_order(St* st, Py_ssize_t start, Py_ssize_t end) noexcept nogil:
    cdef Rec* root = &st.order_recs[0]
    cdef Rec* lines_rec
    cdef Rec* row
    cdef int32_t f, j, nl = 0
    if not (root.type == T_OBJ or (root.type == T_ARR and root.flags & F_EMPTY)):
        set_ferr(st, E_EXPECT_OBJ, W_ORDER, -1, -1, 0, root)
        return
    for f in range(st.n_of):
        if convert(st, &st.ocols[f], &st.ofields[f], st.order_t, st.order_recs, W_ORDER_FIELD, -1, f):
            return
    lines_rec = resolve(st, st.order_t, st.order_recs, st.chains + st.lines_chain_off, st.lines_nsteps,
                        W_LINES, -1, -1)
    if st.ferr.code:
        return
    if lines_rec != NULL and lines_rec.type != T_MISSING and lines_rec.type != T_NULL:
        if lines_rec.type != T_ARR:
            set_ferr(st, E_EXPECT_ARR, W_LINES, -1, -1, st.lines_nsteps, lines_rec)
            return
        nl = 0 if lines_rec.flags & F_EMPTY else <int32_t> st.nlines
    for j in range(nl):
        row = st.line_recs + j * st.line_t.n
        if not (row[0].type == T_OBJ or (row[0].type == T_ARR and row[0].flags & F_EMPTY)):
            set_ferr(st, E_EXPECT_OBJ, W_LINE, j, -1, 0, &row[0])
            return
        for f in range(st.n_lf):
            if convert(st, &st.lcols[f], &st.lfields[f], st.line_t, row, W_LINE_FIELD, j, f):
                return
        if buf_i32(&st.line_order, <int32_t> st.norders) or buf_i32(&st.line_no, j):
            st.oom = 1
            return
        st.nlrows += 1
    if buf_put(&st.raw_data, st.p + start, end - start) or buf_i32(&st.raw_off, <int32_t> st.raw_data.len):
        st.oom = 1
        return
    st.nrows += 1
