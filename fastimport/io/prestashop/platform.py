"""PrestaShop as fastimport knows it (named in :mod:`fastimport.io.registry`)."""

from __future__ import annotations

from fastimport.io.platform import Lazy, Platform
from fastimport.io.prestashop.config import PAGE_SIZE, PENDING_STATUSES, PrestaShopStore

PLATFORM = Platform(
    name="prestashop",
    display_name="PrestaShop",
    store=PrestaShopStore,
    connector=Lazy("fastimport.io.prestashop.connector:PrestaShopConnector"),
    push_back=Lazy(
        "fastimport.io.prestashop.news:PrestaShopPush"
    ),  # the tracking number goes on the order's carrier row
    buyer=Lazy("fastimport.io.prestashop.spec:buyer"),
    refunds=Lazy("fastimport.io.prestashop.spec:refunds"),
    till_echo=Lazy("fastimport.io.prestashop.news:till_echo"),
    pending_statuses=PENDING_STATUSES,
    page_size=PAGE_SIZE,
    secret_keys=("key_env",),
)
