# cython: language_level=3, binding=True, embedsignature=True, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Compiled parsing core: a single-pass JSON scanner and an int64 hash table.

Same names, results and error messages as the pure-Python twin ``_core_py``;
the error precedence is described in ``_core_shared``.  The scanner runs
without the GIL over the page's bytes: it validates the syntax, records where
the values named by the spec are (a small trie per spec, last duplicate key
wins), and converts each order as soon as it is closed into C column buffers,
which become Arrow arrays at the end.
"""

cimport cython
from libc.stdint cimport int32_t, int64_t, uint8_t, uint32_t, uint64_t
from libc.stdlib cimport calloc, free, malloc, realloc
from libc.string cimport memcmp, memcpy, memset
from cpython.buffer cimport PyBUF_READ
from cpython.bytes cimport PyBytes_FromStringAndSize
from cpython.memoryview cimport PyMemoryView_FromMemory

cdef extern from *:
    """
    #ifndef FASTIMPORT_BUILT_WITH
    #define FASTIMPORT_BUILT_WITH "Cython (unknown version)"
    #endif
    """
    const char* FASTIMPORT_BUILT_WITH

BUILT_WITH: str = FASTIMPORT_BUILT_WITH.decode()

import pyarrow as pa
from xxhash import xxh3_64_intdigest as _xxh3_64


from fastimport import _core_shared as sh
from fastimport._core_shared import ParsedPage
from fastimport.columns import CHANGED as _CHANGED, NEW as _NEW, REPEAT as _REPEAT, UNCHANGED as _UNCHANGED

__all__ = ["BUILT_WITH", "Dedup", "ParsedPage", "parse_page"]

cdef int MAX_DEPTH = sh.MAX_DEPTH

cdef enum:
    T_MISSING = 0
    T_NULL = 1
    T_TRUE = 2
    T_FALSE = 3
    T_NUM = 4
    T_STR = 5
    T_OBJ = 6
    T_ARR = 7

cdef enum:
    F_ESC = 1
    F_EMPTY = 2

cdef enum:
    K_INT = 0
    K_STR = 1
    K_MONEY = 2
    K_DT = 3
    K_BOOL = 4

cdef enum:
    W_ORDER_FIELD = 0
    W_LINE_FIELD = 1
    W_LINES = 2
    W_ORDER = 3
    W_LINE = 4
    W_PAGE = 5

cdef int E_REQUIRED_MISSING = sh.E_REQUIRED_MISSING
cdef int E_REQUIRED_NULL = sh.E_REQUIRED_NULL
cdef int E_EXPECT_OBJ = sh.E_EXPECT_OBJ
cdef int E_EXPECT_ARR = sh.E_EXPECT_ARR
cdef int E_EXPECT_INT = sh.E_EXPECT_INT
cdef int E_INT_RANGE = sh.E_INT_RANGE
cdef int E_EXPECT_STR = sh.E_EXPECT_STR
cdef int E_SURROGATE = sh.E_SURROGATE
cdef int E_EXPECT_MONEY = sh.E_EXPECT_MONEY
cdef int E_MONEY_RANGE = sh.E_MONEY_RANGE
cdef int E_EXPECT_DT = sh.E_EXPECT_DT
cdef int E_EXPECT_BOOL = sh.E_EXPECT_BOOL
cdef int E_EXPECT_ORDERS = sh.E_EXPECT_ORDERS

cdef signed char C_NEW = _NEW
cdef signed char C_CHANGED = _CHANGED
cdef signed char C_UNCHANGED = _UNCHANGED
cdef signed char C_REPEAT = _REPEAT

_KIND_CODES = {"int": K_INT, "str": K_STR, "money": K_MONEY, "datetime": K_DT, "bool": K_BOOL}

# byte classes
cdef uint8_t WS[256]
cdef uint8_t STR_STOP[256]   # '"', '\\' and control characters end a run of plain string bytes
cdef uint8_t HEX[256]        # 1 + value for hex digits, 0 otherwise
cdef uint8_t SIMPLE_ESC[256]  # the byte an escape stands for, 0 if not a one-byte escape


cdef void _init_tables() noexcept:
    cdef int c
    for c in range(256):
        WS[c] = c == 32 or c == 9 or c == 10 or c == 13
        STR_STOP[c] = c < 0x20 or c == 34 or c == 92
        HEX[c] = 0
        SIMPLE_ESC[c] = 0
    for c in range(10):
        HEX[48 + c] = 1 + c
    for c in range(6):
        HEX[97 + c] = 11 + c
        HEX[65 + c] = 11 + c
    SIMPLE_ESC[34] = 34
    SIMPLE_ESC[92] = 92
    SIMPLE_ESC[47] = 47
    SIMPLE_ESC[98] = 8
    SIMPLE_ESC[102] = 12
    SIMPLE_ESC[110] = 10
    SIMPLE_ESC[114] = 13
    SIMPLE_ESC[116] = 9


_init_tables()


# ---------------------------------------------------------------------------- growable buffers

cdef struct Buf:
    char* data
    Py_ssize_t len
    Py_ssize_t cap


cdef int buf_grow(Buf* b, Py_ssize_t extra) noexcept nogil:
    cdef Py_ssize_t cap = b.cap if b.cap else 256
    cdef char* new
    while cap < b.len + extra:
        cap *= 2
    new = <char*> realloc(b.data, cap)
    if new == NULL:
        return -1
    b.data = new
    b.cap = cap
    return 0


cdef inline int buf_reserve(Buf* b, Py_ssize_t extra) noexcept nogil:
    if b.len + extra <= b.cap:
        return 0
    return buf_grow(b, extra)


cdef inline int buf_i64(Buf* b, int64_t v) noexcept nogil:
    if buf_reserve(b, 8):
        return -1
    (<int64_t*> (b.data + b.len))[0] = v
    b.len += 8
    return 0


cdef inline int buf_i32(Buf* b, int32_t v) noexcept nogil:
    if buf_reserve(b, 4):
        return -1
    (<int32_t*> (b.data + b.len))[0] = v
    b.len += 4
    return 0


cdef inline int buf_u8(Buf* b, uint8_t v) noexcept nogil:
    if buf_reserve(b, 1):
        return -1
    b.data[b.len] = <char> v
    b.len += 1
    return 0


cdef inline int buf_put(Buf* b, const unsigned char* src, Py_ssize_t n) noexcept nogil:
    if buf_reserve(b, n):
        return -1
    memcpy(b.data + b.len, src, n)
    b.len += n
    return 0


cdef bytes buf_bytes(Buf* b):
    if b.data == NULL:
        return b""
    return PyBytes_FromStringAndSize(b.data, b.len)


# ---------------------------------------------------------------------------- compiled spec

cdef struct Node:
    int32_t is_key       # the step leading here is a key (1) or an index (0)
    int32_t key_off      # key bytes in Trie.keys
    int32_t key_len
    int32_t subtree_end  # nodes [self, subtree_end) are this node's subtree
    int32_t ht_off       # key children: open-addressing table in Trie.table
    int32_t ht_mask      # -1: no key children
    int32_t idx_off      # index children: Trie.table[idx_off + i] is the child for index i
    int32_t idx_n
    int32_t special      # the lines array (order trie) / the orders array (page trie)
    int32_t has_special  # the subtree contains the special node


cdef struct Trie:
    Node* nodes
    int32_t n
    unsigned char* keys
    int32_t* table
    int32_t kind         # 0 page, 1 order, 2 line


cdef struct Rec:
    int32_t type
    int32_t flags
    Py_ssize_t start
    Py_ssize_t end


cdef inline uint32_t key_hash(const unsigned char* s, Py_ssize_t n) noexcept nogil:
    cdef uint32_t h = 2166136261u
    cdef Py_ssize_t i
    for i in range(n):
        h = (h ^ s[i]) * 16777619u
    return h


cdef inline int32_t trie_key_child(Trie* t, int32_t node, const unsigned char* key, Py_ssize_t n) noexcept nogil:
    cdef Node* nd = &t.nodes[node]
    cdef uint32_t h, mask
    cdef int32_t child
    cdef Node* c
    if nd.ht_mask < 0:
        return -1
    mask = <uint32_t> nd.ht_mask
    h = key_hash(key, n) & mask
    while True:
        child = t.table[nd.ht_off + h]
        if child < 0:
            return -1
        c = &t.nodes[child]
        if c.key_len == n and memcmp(t.keys + c.key_off, key, n) == 0:
            return child
        h = (h + 1) & mask


@cython.wraparound(True)
def _build_trie(paths):
    """Nodes (DFS order) for a set of paths: [(step, children dict)], and each path's node chain."""
    root = {"step": None, "children": {}}
    for path in paths:
        cur = root
        for step in path:
            key = (isinstance(step, int), step)
            nxt = cur["children"].get(key)
            if nxt is None:
                nxt = {"step": step, "children": {}}
                cur["children"][key] = nxt
            cur = nxt
    order = []

    def visit(node):
        node["id"] = len(order)
        order.append(node)
        for child in node["children"].values():
            visit(child)
        node["end"] = len(order)

    visit(root)
    chains = []
    for path in paths:
        cur = root
        chain = []
        for step in path:
            cur = cur["children"][(isinstance(step, int), step)]
            chain.append(cur["id"])
        chains.append(chain)
    return order, chains


cdef class _Trie:
    cdef Trie t
    cdef bytes keys_blob

    def __cinit__(self):
        self.t.nodes = NULL
        self.t.table = NULL

    def __init__(self, list order, int kind, int special):
        cdef int32_t i, j, size
        cdef Node* nd
        keys = bytearray()
        table = []
        self.t.n = len(order)
        self.t.kind = kind
        self.t.nodes = <Node*> calloc(max(self.t.n, 1), sizeof(Node))
        if self.t.nodes == NULL:
            raise MemoryError
        for i, node in enumerate(order):
            nd = &self.t.nodes[i]
            step = node["step"]
            nd.is_key = isinstance(step, str)
            nd.key_off = len(keys)
            nd.key_len = 0
            if isinstance(step, str):
                kb = step.encode("utf-8")
                keys += kb
                nd.key_len = len(kb)
            nd.subtree_end = node["end"]
            nd.special = i == special
            nd.has_special = i <= special < node["end"]
            key_children = [c for (is_idx, _s), c in node["children"].items() if not is_idx]
            idx_children = [c for (is_idx, _s), c in node["children"].items() if is_idx]
            nd.ht_mask = -1
            if key_children:
                size = 4
                while size < 2 * len(key_children):
                    size *= 2
                slots = [-1] * size
                for c in key_children:
                    kb = c["step"].encode("utf-8")
                    h = _py_key_hash(kb) & (size - 1)
                    while slots[h] >= 0:
                        h = (h + 1) & (size - 1)
                    slots[h] = c["id"]
                nd.ht_off = len(table)
                nd.ht_mask = size - 1
                table += slots
            nd.idx_n = 0
            if idx_children:
                top = max(c["step"] for c in idx_children)
                slots = [-1] * (top + 1)
                for c in idx_children:
                    slots[c["step"]] = c["id"]
                nd.idx_off = len(table)
                nd.idx_n = top + 1
                table += slots
        self.keys_blob = bytes(keys) + b"\0"
        self.t.keys = <unsigned char*> <const char*> self.keys_blob
        self.t.table = <int32_t*> malloc(max(len(table), 1) * sizeof(int32_t))
        if self.t.table == NULL:
            raise MemoryError
        for j, v in enumerate(table):
            self.t.table[j] = v

    def __dealloc__(self):
        free(self.t.nodes)
        free(self.t.table)


def _py_key_hash(bytes kb):
    return key_hash(kb, len(kb))


cdef struct FieldInfo:
    int32_t kind
    int32_t required
    int32_t chain_off
    int32_t nsteps


cdef class _Spec:
    cdef object spec
    cdef _Trie page_trie, order_trie, line_trie
    cdef FieldInfo* ofields
    cdef FieldInfo* lfields
    cdef int32_t n_of, n_lf
    cdef int32_t* chains
    cdef int32_t lines_chain_off, lines_nsteps, orders_chain_off, orders_nsteps
    cdef object orders_schema, lines_schema
    cdef list ofield_info, lfield_info

    def __cinit__(self):
        self.ofields = NULL
        self.lfields = NULL
        self.chains = NULL

    @cython.wraparound(True)
    def __init__(self, spec):
        sh.check_spec(spec)
        self.spec = spec
        self.orders_schema = sh.orders_schema(spec)
        self.lines_schema = sh.lines_schema(spec)
        self.ofield_info = sh.field_info(spec.order_fields)
        self.lfield_info = sh.field_info(spec.line_fields)
        chains = []

        page_nodes, page_chains = _build_trie([tuple(spec.orders_path)])
        page_chain = page_chains[0]
        self.page_trie = _Trie(page_nodes, 0, page_chain[-1] if page_chain else 0)

        opaths = [tuple(f.path) for f in spec.order_fields] + [tuple(spec.lines_path)]
        order_nodes, order_chains = _build_trie(opaths)
        self.order_trie = _Trie(order_nodes, 1, order_chains[-1][-1])

        lpaths = [tuple(f.path) for f in spec.line_fields]
        line_nodes, line_chains = _build_trie(lpaths)
        self.line_trie = _Trie(line_nodes, 2, -1)

        self.n_of = len(spec.order_fields)
        self.n_lf = len(spec.line_fields)
        self.ofields = <FieldInfo*> calloc(max(self.n_of, 1), sizeof(FieldInfo))
        self.lfields = <FieldInfo*> calloc(max(self.n_lf, 1), sizeof(FieldInfo))
        if self.ofields == NULL or self.lfields == NULL:
            raise MemoryError
        flat = []
        for i, f in enumerate(spec.order_fields):
            self.ofields[i].kind = _KIND_CODES[f.kind]
            self.ofields[i].required = bool(f.required)
            self.ofields[i].chain_off = len(flat)
            self.ofields[i].nsteps = len(f.path)
            flat += order_chains[i]
        for i, f in enumerate(spec.line_fields):
            self.lfields[i].kind = _KIND_CODES[f.kind]
            self.lfields[i].required = bool(f.required)
            self.lfields[i].chain_off = len(flat)
            self.lfields[i].nsteps = len(f.path)
            flat += line_chains[i]
        self.lines_chain_off = len(flat)
        self.lines_nsteps = len(spec.lines_path)
        flat += order_chains[-1]
        self.orders_chain_off = len(flat)
        self.orders_nsteps = len(spec.orders_path)
        flat += page_chain
        self.chains = <int32_t*> malloc(max(len(flat), 1) * sizeof(int32_t))
        if self.chains == NULL:
            raise MemoryError
        for i, v in enumerate(flat):
            self.chains[i] = v

    def __dealloc__(self):
        free(self.ofields)
        free(self.lfields)
        free(self.chains)


_CACHE = {}


cdef _Spec _compiled(spec):
    hit = _CACHE.get(id(spec))
    if hit is not None and hit[0] is spec:
        return hit[1]
    if len(_CACHE) > 64:
        _CACHE.clear()
    comp = _Spec(spec)
    _CACHE[id(spec)] = (spec, comp)
    return comp


# ---------------------------------------------------------------------------- scanner state

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


# ---------------------------------------------------------------------------- conversions

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


# ---------------------------------------------------------------------------- Python side

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


# ---------------------------------------------------------------------------- dedup

cdef struct Entry:
    int64_t key
    int64_t modified
    int64_t chash


cdef inline uint64_t mix64(uint64_t x) noexcept nogil:
    x ^= x >> 30
    x *= 0xBF58476D1CE4E5B9ULL
    x ^= x >> 27
    x *= 0x94D049BB133111EBULL
    x ^= x >> 31
    return x


cdef class Dedup:
    """Order id -> fingerprint (modified_at, content_hash) for one store; see ``columns`` answers.

    Dense entries (24 bytes, plus one "seen in this run" byte) behind an
    open-addressing index of int32 slots, doubled when three quarters full.
    """

    cdef Entry* entries
    cdef uint8_t* seen
    cdef Py_ssize_t n
    cdef Py_ssize_t ecap
    cdef int32_t* index
    cdef Py_ssize_t icap

    def __cinit__(self):
        self.entries = NULL
        self.seen = NULL
        self.index = NULL
        self.n = 0
        self.ecap = 0
        self.icap = 0

    def __init__(self):
        pass

    def __dealloc__(self):
        free(self.entries)
        free(self.seen)
        free(self.index)

    cdef int _reserve(self, Py_ssize_t need) noexcept nogil:
        """Room for ``need`` entries in all; -1 when out of memory (or past 2**31 - 1 entries)."""
        cdef Py_ssize_t cap, i, slot
        cdef uint64_t mask
        cdef Entry* ne
        cdef uint8_t* ns
        cdef int32_t* ni
        if need > 0x7FFFFFFF:
            return -1
        if need > self.ecap:
            cap = self.ecap + self.ecap // 2
            if cap < need:
                cap = need
            if cap < 1024:
                cap = 1024
            ne = <Entry*> realloc(self.entries, cap * sizeof(Entry))
            if ne == NULL:
                return -1
            self.entries = ne
            ns = <uint8_t*> realloc(self.seen, cap)
            if ns == NULL:
                return -1
            self.seen = ns
            self.ecap = cap
        if need * 4 > self.icap * 3:
            cap = self.icap if self.icap else 2048
            while need * 4 > cap * 3:
                cap *= 2
            ni = <int32_t*> malloc(cap * sizeof(int32_t))
            if ni == NULL:
                return -1
            memset(ni, 0xFF, cap * sizeof(int32_t))
            mask = cap - 1
            for i in range(self.n):
                slot = mix64(<uint64_t> self.entries[i].key) & mask
                while ni[slot] >= 0:
                    slot = (slot + 1) & mask
                ni[slot] = <int32_t> i
            free(self.index)
            self.index = ni
            self.icap = cap
        return 0

    cdef inline Py_ssize_t _slot(self, int64_t key) noexcept nogil:
        """The index slot holding ``key``, or the empty slot where it would go."""
        cdef uint64_t mask = self.icap - 1
        cdef Py_ssize_t slot = mix64(<uint64_t> key) & mask
        cdef int32_t e
        while True:
            e = self.index[slot]
            if e < 0 or self.entries[e].key == key:
                return slot
            slot = (slot + 1) & mask

    def load(self, order_ids, modified_at, content_hash):
        """Bulk-load the fingerprints stored in the database (not "seen in this run")."""
        cdef const int64_t[::1] ids = sh.as_int64(order_ids, "order_ids")
        cdef const int64_t[::1] mod = sh.as_int64(modified_at, "modified_at")
        cdef const int64_t[::1] hs = sh.as_int64(content_hash, "content_hash")
        cdef Py_ssize_t i, slot, count = ids.shape[0]
        cdef int32_t e
        if mod.shape[0] != count or hs.shape[0] != count:
            sh.check_same_length(memoryview(ids), memoryview(mod), memoryview(hs))
        if self._reserve(self.n + count):
            raise MemoryError
        with nogil:
            for i in range(count):
                slot = self._slot(ids[i])
                e = self.index[slot]
                if e < 0:
                    e = <int32_t> self.n
                    self.n += 1
                    self.index[slot] = e
                    self.entries[e].key = ids[i]
                self.entries[e].modified = mod[i]
                self.entries[e].chash = hs[i]
                self.seen[e] = 0

    def classify(self, order_ids, modified_at, content_hash):
        """NEW / CHANGED / UNCHANGED / REPEAT per order (int8 array), remembering what it saw."""
        cdef const int64_t[::1] ids = sh.as_int64(order_ids, "order_ids")
        cdef const int64_t[::1] mod = sh.as_int64(modified_at, "modified_at")
        cdef const int64_t[::1] hs = sh.as_int64(content_hash, "content_hash")
        cdef Py_ssize_t i, slot, count = ids.shape[0]
        cdef int32_t e
        cdef Entry* en
        cdef signed char* o
        if mod.shape[0] != count or hs.shape[0] != count:
            sh.check_same_length(memoryview(ids), memoryview(mod), memoryview(hs))
        cdef int oom = 0
        if self._reserve(1):
            raise MemoryError
        out = bytearray(count)
        o = <signed char*> <char*> out if count else NULL
        with nogil:
            for i in range(count):
                slot = self._slot(ids[i])
                e = self.index[slot]
                if e < 0:
                    if self.n + 1 > self.ecap or (self.n + 1) * 4 > self.icap * 3:
                        if self._reserve(self.n + 1):
                            oom = 1
                            break
                        slot = self._slot(ids[i])
                    e = <int32_t> self.n
                    self.n += 1
                    self.index[slot] = e
                    en = &self.entries[e]
                    en.key = ids[i]
                    o[i] = C_NEW
                else:
                    en = &self.entries[e]
                    if en.modified == mod[i] and en.chash == hs[i]:
                        o[i] = C_REPEAT if self.seen[e] else C_UNCHANGED
                    else:
                        o[i] = C_CHANGED
                en.modified = mod[i]
                en.chash = hs[i]
                self.seen[e] = 1
        if oom:
            raise MemoryError("Dedup could not grow")
        return pa.Array.from_buffers(pa.int8(), count, [None, pa.py_buffer(out)])

    def memory_bytes(self):
        """Bytes held by the table (entries, flags and index)."""
        return self.ecap * (sizeof(Entry) + 1) + self.icap * sizeof(int32_t)

    def __len__(self):
        return self.n

    def __contains__(self, order_id):
        if not isinstance(order_id, int) or not -(2**63) <= order_id < 2**63 or self.n == 0:
            return False
        return self.index[self._slot(order_id)] >= 0
