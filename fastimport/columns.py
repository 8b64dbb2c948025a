"""The contract between connectors, the parsing core and the store.

A connector describes *what* to pull out of a page with a :class:`PageSpec`;
both cores (compiled ``_core`` and the pure-Python ``_core_py``) read this
description and produce the same Arrow columns.  Constants shared by the two
cores live here so they cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final, Literal

# Kinds of value a field can hold, and the Arrow type each becomes.
#   int       -> int64       JSON integer (or a string of digits: PrestaShop sends "12")
#   str       -> large_string  JSON string; numbers are rendered as their JSON literal
#   money     -> int64 cents   JSON string or number, e.g. "12.50", 12.5, "102.000000";
#                              more than 2 decimals are rounded half-even to the cent
#   datetime  -> int64 microseconds since the Unix epoch, UTC.  Accepts
#                "YYYY-MM-DDTHH:MM:SS[.ffffff][Z|+HH:MM|-HH:MM]" and the same with a
#                space instead of "T".  A value without offset is taken as UTC.
#                "0000-00-00 00:00:00" (PrestaShop's "unset") becomes null.
#   bool      -> bool          JSON true/false (or "0"/"1" strings)
Kind = Literal["int", "str", "money", "datetime", "bool"]
KINDS: Final[tuple[str, ...]] = ("int", "str", "money", "datetime", "bool")

# Dedup answers, one per order of a batch (int8 column).
NEW: Final[int] = 0  # never stored for this store
CHANGED: Final[int] = 1  # stored, but the shop's version differs (modified date or content hash)
UNCHANGED: Final[int] = 2  # stored and identical: nothing to write
REPEAT: Final[int] = 3  # already seen earlier in this run with the same fingerprint (page drift)

# The shop statuses every connector reports with these exact words (mapping its platform's own
# vocabulary onto them) for an order that will not be fulfilled: once invoiced, such a change
# calls for a credit note; while pending, the order leaves the pending table.
CLOSED_STATUSES: Final[tuple[str, ...]] = ("cancelled", "refunded", "failed", "voided")

PathPart = str | int


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One column to extract: ``path`` walks objects by key and arrays by index.

    A missing key, a JSON null, or an index past the end of an array gives null
    unless ``required`` is set, in which case it is a ParseError naming the path.
    """

    name: str
    path: tuple[PathPart, ...]
    kind: Kind
    required: bool = False


@dataclass(frozen=True, slots=True)
class PageSpec:
    """How to read one platform's page of orders.

    ``orders_path`` leads from the page root to the array of orders: ``()`` when
    the page *is* the array (WooCommerce, Shopify REST wraps it in ``("orders",)``).
    A page whose root is an empty array ``[]`` where an object was expected is
    accepted as "no orders" (PrestaShop does this).
    ``lines_path`` leads from an order to its array of lines.
    ``id_field`` and ``modified_field`` name the order columns the dedup uses;
    both must be ``required`` fields of kind int and datetime.
    """

    orders_path: tuple[PathPart, ...]
    order_fields: tuple[FieldSpec, ...]
    lines_path: tuple[PathPart, ...]
    line_fields: tuple[FieldSpec, ...]
    id_field: str = "order_id"
    modified_field: str = "modified_at"
    extra: dict[str, str] = field(default_factory=dict)


# Columns every parsed page carries in addition to the spec's fields.
RAW_COLUMN: Final[str] = "raw"  # orders: the order's JSON bytes exactly as the shop sent them (binary)
# orders: int64, XXH3-64 (xxHash, seed 0) of the raw bytes: the unsigned 64-bit digest
# (``xxhash.xxh3_64_intdigest``) reinterpreted as signed two's complement, i.e. ``d - 2**64``
# when ``d >= 2**63``.  Both cores compute it with ``_core_shared.content_hash``'s definition.
HASH_COLUMN: Final[str] = "content_hash"
ORDER_INDEX_COLUMN: Final[str] = "order_index"  # lines: int32 index of the parent order within the page
LINE_NO_COLUMN: Final[str] = "line_no"  # lines: int32 position of the line within its order, from 0
