# The compiled spec (included by _core.pyx): a PageSpec's paths become three
# small tries (page, order, line) with open-addressing key tables, plus the
# field descriptions the scanner converts with; one _Spec per spec, cached.

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
