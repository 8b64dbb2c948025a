"""The keys of a PrestaShop ``[[stores]]`` table beyond the shared ones, with their defaults."""

from __future__ import annotations

from typing import Annotated

from msgspec import Meta

from fastimport.config import StoreConfig
from fastimport.io.platform import PageSize

PAGE_SIZE = PageSize(default=100, maximum=1000)
# Ids of order states: 2 payment accepted, 3 processing in progress, 10 awaiting bank wire.
PENDING_STATUSES = ("2", "3", "10")


class PrestaShopStore(StoreConfig, frozen=True, kw_only=True, forbid_unknown_fields=True):
    key_env: str  # the variable holding the webservice key
    per_page: Annotated[int, Meta(ge=1, le=PAGE_SIZE.maximum)] = PAGE_SIZE.default
    pending_statuses: tuple[str, ...] = PENDING_STATUSES
