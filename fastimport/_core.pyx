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

# The sections, in the order Cython reads them (each uses the types of those above it).
include "_core_defs.pxi"
include "_core_spec.pxi"
include "_core_json.pxi"
include "_core_convert.pxi"
include "_core_columns.pxi"
include "_core_scan.pxi"
include "_core_page.pxi"
include "_core_dedup.pxi"
