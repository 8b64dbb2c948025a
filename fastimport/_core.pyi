"""Stub for the compiled core (``_core.pyx``); the pure-Python twin has the same API."""

from typing import Any

import pyarrow as pa
from typing_extensions import disjoint_base

from fastimport._core_shared import ParsedPage as ParsedPage
from fastimport.columns import PageSpec

__all__ = ["BUILT_WITH", "Dedup", "ParsedPage", "parse_page"]

BUILT_WITH: str

def parse_page(page: bytes, spec: PageSpec) -> ParsedPage: ...

@disjoint_base
class Dedup:
    def __init__(self) -> None: ...
    def load(self, order_ids: Any, modified_at: Any, content_hash: Any) -> None: ...
    def classify(self, order_ids: Any, modified_at: Any, content_hash: Any) -> pa.Array: ...
    def memory_bytes(self) -> int: ...
    def __len__(self) -> int: ...
    def __contains__(self, order_id: object, /) -> bool: ...
