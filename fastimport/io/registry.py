"""The platforms fastimport speaks: one line each, imported on first use.

Adding a platform: create ``fastimport/io/<name>/`` with a ``platform.py`` holding its
:class:`~fastimport.io.platform.Platform` as ``PLATFORM``, then add one line below.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from fastimport.io.platform import Lazy, Platform

if TYPE_CHECKING:
    from fastimport.config import StoreConfig
    from fastimport.io.connector import Buyer, Connector, Refund
    from fastimport.io.pushback import PushBack

# name -> "module:ATTRIBUTE"; a store only loads its own platform's modules.
PLATFORMS: dict[str, str] = {
    "woocommerce": "fastimport.io.woocommerce.platform:PLATFORM",
    "shopify": "fastimport.io.shopify.platform:PLATFORM",
    "prestashop": "fastimport.io.prestashop.platform:PLATFORM",
}

_loaded: dict[str, Platform] = {}


def platform_names() -> tuple[str, ...]:
    return tuple(PLATFORMS)


def platform(name: str) -> Platform:
    """The description of the platform called ``name``; ValueError naming the known ones otherwise."""
    found = _loaded.get(name)
    if found is not None:
        return found
    target = PLATFORMS.get(name)
    if target is None:
        raise ValueError(f"unknown platform {name!r} (known: {', '.join(PLATFORMS)})")
    module_name, _, attribute = target.partition(":")
    described = getattr(importlib.import_module(module_name), attribute)
    if not isinstance(described, Platform) or described.name != name:
        raise TypeError(f"{target} is not the Platform description of {name!r}")
    _loaded[name] = described
    return described


def connector_for(store: StoreConfig, **options: Any) -> Connector:
    return platform(store.platform).connector(store, **options)


def push_back_for(store: StoreConfig) -> PushBack:
    return platform(store.platform).push_back(store)


def buyer_of(name: str, payload: bytes) -> Buyer:
    return platform(name).buyer(payload)


def buyer_reader(name: str) -> Callable[[bytes], Buyer]:
    """The platform's payload reader itself, imported now: a batch calls it once per order."""
    reader = platform(name).buyer
    return reader.load() if isinstance(reader, Lazy) else reader


def refunds_of(name: str, payload: bytes) -> tuple[Refund, ...]:
    """The refunds in an order's stored JSON; () for a platform that keeps them elsewhere."""
    reader = platform(name).refunds
    return reader(payload) if reader is not None else ()


def display_name(name: str) -> str:
    """ "WooCommerce" for "woocommerce"; a platform no longer registered keeps its stored word."""
    return platform(name).display_name if name in PLATFORMS else name
