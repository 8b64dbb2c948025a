"""The keys of a WooCommerce ``[[stores]]`` table beyond the shared ones, with their defaults."""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta

from fastimport.config import StoreConfig
from fastimport.io.platform import PageSize

PAGE_SIZE = PageSize(default=100, maximum=100)
# Statuses that mean "paid or to be handled": the pending table shows these.
PENDING_STATUSES = ("processing", "on-hold")
SHIPPED_STATUS = "completed"  # the status an order moves to once shipped


class WooCommerceStore(StoreConfig, frozen=True, kw_only=True, forbid_unknown_fields=True):
    key_env: str  # the variable holding the REST API consumer key
    secret_env: str  # ... and its consumer secret
    # "basic" (Authorization header), "query" (keys as query parameters, for servers that strip
    # the header) or "oauth1" (signed requests, for shops without HTTPS).
    auth: Literal["basic", "query", "oauth1"] = "basic"
    per_page: Annotated[int, Meta(ge=1, le=PAGE_SIZE.maximum)] = PAGE_SIZE.default
    pending_statuses: tuple[str, ...] = PENDING_STATUSES
    # The variable holding the secret that signs this shop's webhooks (none: webhooks refused).
    webhook_secret_env: str | None = None
