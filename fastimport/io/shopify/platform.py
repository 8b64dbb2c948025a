"""Shopify as fastimport knows it (named in :mod:`fastimport.io.registry`)."""

from __future__ import annotations

from fastimport.io.platform import Platform
from fastimport.io.shopify.config import PAGE_SIZE, PENDING_STATUSES, ShopifyStore
from fastimport.io.shopify.connector import ShopifyConnector
from fastimport.io.shopify.news import ShopifyPush
from fastimport.io.shopify.spec import buyer, refunds
from fastimport.io.shopify.webhook import SHOPIFY_WEBHOOK

PLATFORM = Platform(
    name="shopify",
    display_name="Shopify",
    store=ShopifyStore,
    connector=ShopifyConnector,
    push_back=ShopifyPush,  # the tracking number fulfils the order: no separate notice
    buyer=buyer,
    refunds=refunds,
    pending_statuses=PENDING_STATUSES,
    page_size=PAGE_SIZE,
    webhook=SHOPIFY_WEBHOOK,
    secret_keys=("token_env",),
)
