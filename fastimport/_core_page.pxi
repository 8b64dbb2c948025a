# parse_page (included by _core.pyx): runs the scan on a page and turns its
# buffers into Arrow arrays, its errors into ParseErrors (messages from
# _core_shared), and hashes each order's raw bytes.

cdef object _bitmap(Buf* valid, Py_ssize_t n):
    """Pack one byte per row into an Arrow bitmap."""
    cdef bytearray out = bytearray((n + 7) // 8)
    cdef unsigned char* o = out
    cdef const unsigned char* v = <const unsigned char*> valid.data
    cdef Py_ssize_t i
    for i in range(n):
        if v[i]:
            o[i >> 3] |= 1 << (i & 7)
    return pa.py_buffer(out)


cdef object _column(Col* col, Py_ssize_t n):
    validity = _bitmap(&col.valid, n) if col.nulls else None
    if col.kind == K_STR:
        offsets = b"\0" * 8 + buf_bytes(&col.vals)
        return pa.Array.from_buffers(pa.large_string(), n, [validity, pa.py_buffer(offsets),
                                                            pa.py_buffer(buf_bytes(&col.data))], col.nulls)
    if col.kind == K_BOOL:
        return pa.Array.from_buffers(pa.bool_(), n, [validity, _bitmap(&col.vals, n)], col.nulls)
    return pa.Array.from_buffers(pa.int64(), n, [validity, pa.py_buffer(buf_bytes(&col.vals))], col.nulls)


cdef object _make_error(St* st, _Spec comp, bytes page):
    cdef FErr* e = &st.ferr
    spec = comp.spec
    if e.code == E_REQUIRED_MISSING or e.code == E_REQUIRED_NULL:
        desc = ""
    elif e.vtype == T_OBJ:
        desc = "an object"
    elif e.vtype == T_ARR:
        desc = "an array"
    else:
        desc = sh.describe_token(page[e.start:e.end])
    lines_path = tuple(spec.lines_path)
    if e.where == W_ORDER_FIELD:
        rel = tuple(spec.order_fields[e.field].path)[: e.nsteps]
    elif e.where == W_LINE_FIELD:
        rel = lines_path + (e.line,) + tuple(spec.line_fields[e.field].path)[: e.nsteps]
    elif e.where == W_LINES:
        rel = lines_path[: e.nsteps]
    elif e.where == W_LINE:
        rel = lines_path + (e.line,)
    else:
        rel = ()
    return sh.field_error(e.code, tuple(spec.orders_path), e.order, rel, desc)


cdef object _page_outcome(St* st, _Spec comp, bytes page):
    """None when the orders array (or no orders) was found, else the ParseError."""
    cdef Trie* t = st.page_t
    cdef int32_t* chain = comp.chains + comp.orders_chain_off
    cdef int32_t k, nsteps = comp.orders_nsteps
    cdef Rec* cont
    cdef Rec* term
    path = tuple(comp.spec.orders_path)
    for k in range(nsteps):
        cont = &st.page_recs[0] if k == 0 else &st.page_recs[chain[k - 1]]
        if cont.type == T_MISSING or cont.type == T_NULL:
            return None
        if t.nodes[chain[k]].is_key:
            if cont.type == T_OBJ:
                continue
            if cont.type == T_ARR and cont.flags & F_EMPTY:
                return None
            return sh.page_error(E_EXPECT_OBJ, path[:k], _desc(cont, page))
        if cont.type != T_ARR:
            return sh.page_error(E_EXPECT_ARR, path[:k], _desc(cont, page))
    term = &st.page_recs[chain[nsteps - 1] if nsteps else 0]
    if term.type == T_MISSING or term.type == T_NULL or term.type == T_ARR:
        return None
    return sh.page_error(E_EXPECT_ORDERS, path, _desc(term, page))


cdef object _desc(Rec* rec, bytes page):
    if rec.type == T_OBJ:
        return "an object"
    if rec.type == T_ARR:
        return "an array"
    return sh.describe_token(page[rec.start:rec.end])


cdef int _hash_raws(bytes raw_data, bytes offsets, int64_t* out, Py_ssize_t n) except -1:
    """``out[i]`` = content hash of order ``i``'s raw bytes (``_core_shared.content_hash``).

    XXH3-64 through the ``xxhash`` package, which has no C API: one call of its
    ``xxh3_64_intdigest`` per order on a read-only memoryview straight over the
    order's bytes (no copy, no slicing); the unsigned digest is stored as its
    two's-complement int64.
    """
    cdef char* data = <char*> raw_data
    cdef const int32_t* offs = <const int32_t*> <const char*> offsets
    cdef Py_ssize_t i
    cdef uint64_t digest
    for i in range(n):
        digest = _xxh3_64(PyMemoryView_FromMemory(data + offs[i], offs[i + 1] - offs[i], PyBUF_READ))
        out[i] = <int64_t> digest
    return 0


cdef void _free_state(St* st) noexcept:
    cdef int32_t f
    if st.ocols != NULL:
        for f in range(st.n_of):
            free(st.ocols[f].vals.data)
            free(st.ocols[f].data.data)
            free(st.ocols[f].valid.data)
    if st.lcols != NULL:
        for f in range(st.n_lf):
            free(st.lcols[f].vals.data)
            free(st.lcols[f].data.data)
            free(st.lcols[f].valid.data)
    free(st.ocols)
    free(st.lcols)
    free(st.raw_off.data)
    free(st.raw_data.data)
    free(st.line_order.data)
    free(st.line_no.data)
    free(st.scratch.data)
    free(st.page_recs)
    free(st.order_recs)
    free(st.line_recs)


def parse_page(page, spec):
    """Read one page of orders into Arrow tables (see ``_core_shared`` for error precedence)."""
    cdef _Spec comp
    cdef St st
    cdef const unsigned char[::1] view
    cdef Py_ssize_t bad, i, n
    cdef int32_t f, r
    cdef int64_t* hashes
    if isinstance(page, str):
        raise TypeError("page must be bytes, not str")
    if type(page) is not bytes:
        page = bytes(page)
    comp = _compiled(spec)
    view = page
    memset(&st, 0, sizeof(St))
    st.p = &view[0] if len(page) else <const unsigned char*> ""
    st.n = len(page)
    with nogil:
        bad = utf8_check(st.p, st.n)
    if bad >= 0:
        raise sh.utf8_error(bad)
    try:
        st.page_t = &comp.page_trie.t
        st.order_t = &comp.order_trie.t
        st.line_t = &comp.line_trie.t
        st.ofields = comp.ofields
        st.lfields = comp.lfields
        st.n_of = comp.n_of
        st.n_lf = comp.n_lf
        st.chains = comp.chains
        st.lines_chain_off = comp.lines_chain_off
        st.lines_nsteps = comp.lines_nsteps
        st.page_recs = <Rec*> calloc(st.page_t.n, sizeof(Rec))
        st.order_recs = <Rec*> calloc(st.order_t.n, sizeof(Rec))
        st.ocols = <Col*> calloc(max(st.n_of, 1), sizeof(Col))
        st.lcols = <Col*> calloc(max(st.n_lf, 1), sizeof(Col))
        if st.page_recs == NULL or st.order_recs == NULL or st.ocols == NULL or st.lcols == NULL:
            raise MemoryError
        for f in range(st.n_of):
            st.ocols[f].kind = st.ofields[f].kind
            st.ocols[f].required = st.ofields[f].required
        for f in range(st.n_lf):
            st.lcols[f].kind = st.lfields[f].kind
            st.lcols[f].required = st.lfields[f].required
        with nogil:
            r = run_scan(&st)
        if st.oom:
            raise MemoryError
        if r < 0:
            reason = sh.syntax_reason(page, st.syn_pos, st.syn_in_string, st.syn_deep)
            raise sh.json_error(reason, st.syn_pos)
        err = _page_outcome(&st, comp, page)
        if err is not None:
            raise err
        if st.ferr.code:
            raise _make_error(&st, comp, page)
        n = st.nrows
        orders = [_column(&st.ocols[f], n) for f in range(st.n_of)]
        raw_data = buf_bytes(&st.raw_data)
        offsets = b"\0" * 4 + buf_bytes(&st.raw_off)
        orders.append(pa.Array.from_buffers(pa.binary(), n, [None, pa.py_buffer(offsets), pa.py_buffer(raw_data)]))
        hash_buf = bytearray(8 * n)
        _hash_raws(raw_data, offsets, <int64_t*> <char*> hash_buf, n)
        orders.append(pa.Array.from_buffers(pa.int64(), n, [None, pa.py_buffer(hash_buf)]))
        nl = st.nlrows
        lines = [
            pa.Array.from_buffers(pa.int32(), nl, [None, pa.py_buffer(buf_bytes(&st.line_order))]),
            pa.Array.from_buffers(pa.int32(), nl, [None, pa.py_buffer(buf_bytes(&st.line_no))]),
        ]
        lines += [_column(&st.lcols[f], nl) for f in range(st.n_lf)]
        return ParsedPage(
            pa.Table.from_arrays(orders, schema=comp.orders_schema),
            pa.Table.from_arrays(lines, schema=comp.lines_schema),
        )
    finally:
        _free_state(&st)
