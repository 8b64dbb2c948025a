"""Shopify as fastimport knows it (named in :mod:`fastimport.io.registry`)."""

from __future__ import annotations

from fastimport.io.platform import Lazy, Platform
from fastimport.io.shopify.config import PAGE_SIZE, PENDING_STATUSES, ShopifyStore
from fastimport.io.shopify.webhook import SHOPIFY_WEBHOOK

PLATFORM = Platform(
    name="shopify",
    display_name="Shopify",
    store=ShopifyStore,
    connector=Lazy("fastimport.io.shopify.connector:ShopifyConnector"),
    push_back=Lazy(
        "fastimport.io.shopify.news:ShopifyPush"
    ),  # the tracking number fulfils the order: no separate notice
    buyer=Lazy("fastimport.io.shopify.spec:buyer"),
    refunds=Lazy("fastimport.io.shopify.spec:refunds"),
    till_echo=Lazy("fastimport.io.shopify.news:till_echo"),
    pending_statuses=PENDING_STATUSES,
    page_size=PAGE_SIZE,
    webhook=SHOPIFY_WEBHOOK,
    secret_keys=("token_env",),
)
