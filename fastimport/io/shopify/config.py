"""The keys of a Shopify ``[[stores]]`` table beyond the shared ones, with their defaults."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from msgspec import Meta

from fastimport.config import StoreConfig
from fastimport.io.platform import PageSize
from fastimport.typed import invalid

PAGE_SIZE = PageSize(default=250, maximum=250)
# The financial status (or "fulfilled" / "cancelled") of orders waiting for the till.
# A partial refund before shipping (``partially_refunded``) leaves an order still to prepare and invoice.
PENDING_STATUSES = ("paid", "authorized", "partially_paid", "partially_refunded")
DEFAULT_API_VERSION = "2025-07"


class ShopifyStore(StoreConfig, frozen=True, kw_only=True, forbid_unknown_fields=True):
    token_env: str  # the variable holding the Admin API access token
    api_version: str = DEFAULT_API_VERSION  # the versioned path, e.g. 2025-07
    mode: Literal["auto", "rest", "bulk"] = "auto"  # "auto": bulk for very large ranges
    per_page: Annotated[int, Meta(ge=1, le=PAGE_SIZE.maximum)] = PAGE_SIZE.default
    pending_statuses: tuple[str, ...] = PENDING_STATUSES
    # The variable holding the secret that signs this shop's webhooks (none: webhooks refused).
    webhook_secret_env: str | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        if not re.fullmatch(r"\d{4}-\d{2}|unstable", self.api_version):
            raise invalid("api_version", 'must look like "2025-07"')
