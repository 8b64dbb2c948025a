"""WooCommerce as fastimport knows it (named in :mod:`fastimport.io.registry`)."""

from __future__ import annotations

from fastimport.io.platform import Platform
from fastimport.io.woocommerce.config import PAGE_SIZE, PENDING_STATUSES, WooCommerceStore
from fastimport.io.woocommerce.connector import WooCommerceConnector
from fastimport.io.woocommerce.push import SHIPPED_STATUS, WooCommercePush
from fastimport.io.woocommerce.spec import buyer, refunds
from fastimport.io.woocommerce.webhook import WOOCOMMERCE_WEBHOOK

PLATFORM = Platform(
    name="woocommerce",
    display_name="WooCommerce",
    store=WooCommerceStore,
    connector=WooCommerceConnector,
    push_back=WooCommercePush,
    buyer=buyer,
    refunds=refunds,
    pending_statuses=PENDING_STATUSES,
    page_size=PAGE_SIZE,
    webhook=WOOCOMMERCE_WEBHOOK,
    secret_keys=("key_env", "secret_env"),
    shipped_status=SHIPPED_STATUS,
)
