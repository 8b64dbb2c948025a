"""PrestaShop as fastimport knows it (named in :mod:`fastimport.io.registry`)."""

from __future__ import annotations

from fastimport.io.platform import Platform
from fastimport.io.prestashop.config import PAGE_SIZE, PENDING_STATUSES, PrestaShopStore
from fastimport.io.prestashop.connector import PrestaShopConnector
from fastimport.io.prestashop.news import PrestaShopPush
from fastimport.io.prestashop.spec import buyer

PLATFORM = Platform(
    name="prestashop",
    display_name="PrestaShop",
    store=PrestaShopStore,
    connector=PrestaShopConnector,
    push_back=PrestaShopPush,  # the tracking number goes on the order's carrier row
    buyer=buyer,
    pending_statuses=PENDING_STATUSES,
    page_size=PAGE_SIZE,
    secret_keys=("key_env",),
)
