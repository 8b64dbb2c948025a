"""WooCommerce as fastimport knows it (named in :mod:`fastimport.io.registry`)."""

from __future__ import annotations

from fastimport.io.platform import Lazy, Platform
from fastimport.io.woocommerce.config import PAGE_SIZE, PENDING_STATUSES, SHIPPED_STATUS, WooCommerceStore
from fastimport.io.woocommerce.webhook import WOOCOMMERCE_WEBHOOK

PLATFORM = Platform(
    name="woocommerce",
    display_name="WooCommerce",
    store=WooCommerceStore,
    connector=Lazy("fastimport.io.woocommerce.connector:WooCommerceConnector"),
    push_back=Lazy("fastimport.io.woocommerce.push:WooCommercePush"),
    buyer=Lazy("fastimport.io.woocommerce.spec:buyer"),
    refunds=Lazy("fastimport.io.woocommerce.spec:refunds"),
    till_echo=Lazy("fastimport.io.woocommerce.push:till_echo"),
    pending_statuses=PENDING_STATUSES,
    page_size=PAGE_SIZE,
    webhook=WOOCOMMERCE_WEBHOOK,
    secret_keys=("key_env", "secret_env"),
    shipped_status=SHIPPED_STATUS,
)
