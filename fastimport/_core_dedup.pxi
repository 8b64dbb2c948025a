# The dedup hash set (included by _core.pyx): Dedup maps order id -> (modified_at,
# content_hash) in dense entries behind an open-addressing int32 index.

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

    def settle(self, order_ids, modified_at, content_hash):
        """(unchanged, repeated) when every order is known with this very fingerprint, marked as seen as
        ``classify`` would; else None and nothing changes (the page then goes the whole way)."""
        cdef const int64_t[::1] ids = sh.as_int64(order_ids, "order_ids")
        cdef const int64_t[::1] mod = sh.as_int64(modified_at, "modified_at")
        cdef const int64_t[::1] hs = sh.as_int64(content_hash, "content_hash")
        cdef Py_ssize_t i, count = ids.shape[0], repeated = 0
        cdef int32_t e
        cdef bint known = 1
        if mod.shape[0] != count or hs.shape[0] != count:
            sh.check_same_length(memoryview(ids), memoryview(mod), memoryview(hs))
        if self.n == 0:
            return None if count else (0, 0)
        with nogil:
            for i in range(count):
                e = self.index[self._slot(ids[i])]
                if e < 0 or self.entries[e].modified != mod[i] or self.entries[e].chash != hs[i]:
                    known = 0
                    break
            if known:
                for i in range(count):
                    e = self.index[self._slot(ids[i])]
                    repeated += self.seen[e]
                    self.seen[e] = 1
        if not known:
            return None
        return (count - repeated, repeated)

    def memory_bytes(self):
        """Bytes held by the table (entries, flags and index)."""
        return self.ecap * (sizeof(Entry) + 1) + self.icap * sizeof(int32_t)

    def __len__(self):
        return self.n

    def __contains__(self, order_id):
        if not isinstance(order_id, int) or not -(2**63) <= order_id < 2**63 or self.n == 0:
            return False
        return self.index[self._slot(order_id)] >= 0
