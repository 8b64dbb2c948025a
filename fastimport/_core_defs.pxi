# Constants and buffers of the compiled core (included by _core.pyx): value types,
# field kinds, error places and codes (from _core_shared), the byte-class tables
# of the JSON scanner, and the growable C buffers the columns are built in.

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
