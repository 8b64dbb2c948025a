"""fastimport: a web shop's orders into the till, exactly once; invoices, tickets and stock.

The library API, for scripts, the command line and the till page alike::

    import fastimport

    config = fastimport.load_config("fastimport.toml")
    with fastimport.connect(config) as con:
        reports = fastimport.import_stores(config, con, fastimport.RangeRequest.week())
        fastimport.invoice(config, con, pending=True)

Names are loaded on first use, so ``import fastimport`` stays cheap (the command line's start-up).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name -> the module that defines it
_EXPORTS: dict[str, str] = {
    # configuration and the store
    "load_config": "fastimport.config",
    "parse_config": "fastimport.config",
    "Config": "fastimport.config",
    "StoreConfig": "fastimport.config",
    "connect": "fastimport.api.imports",
    # importing
    "RangeRequest": "fastimport.ranges",
    "ImportRange": "fastimport.ranges",
    "plan_imports": "fastimport.api.imports",
    "import_stores": "fastimport.api.imports",
    "import_stores_async": "fastimport.api.imports",
    "ImportReport": "fastimport.importer",
    "sync_catalog": "fastimport.api.imports",
    "sync_catalog_async": "fastimport.api.imports",
    "CatalogReport": "fastimport.catalog",
    "pending_orders": "fastimport.api.imports",
    "count_pending": "fastimport.api.imports",
    "iter_pending_orders": "fastimport.api.imports",
    "stored_orders": "fastimport.api.imports",
    # processing
    "OrderRef": "fastimport.processing.lifecycle",
    "find_order": "fastimport.api.processing",
    "order_details": "fastimport.api.processing",
    "add_comment": "fastimport.api.processing",
    "print_slips": "fastimport.api.processing",
    "invoice": "fastimport.api.processing",
    "credit_note": "fastimport.api.processing",
    "proposed_credit_notes": "fastimport.api.processing",
    "ship": "fastimport.api.processing",
    "payments": "fastimport.api.processing",
    "stock_levels": "fastimport.api.processing",
    "push_stock": "fastimport.api.processing",
    "verify": "fastimport.api.processing",
    "PrintRequest": "fastimport.api.processing",
    "Outcome": "fastimport.api.processing",
    # printing
    "configured_printers": "fastimport.api.printing",
    "print_queue": "fastimport.api.printing",
    "retry_printing": "fastimport.api.printing",
    "send_print_queue": "fastimport.api.printing",
    "reprint": "fastimport.api.printing",
    # errors
    "FastImportError": "fastimport.errors",
    "ConfigError": "fastimport.errors",
    "FetchError": "fastimport.errors",
    "TransientFetchError": "fastimport.errors",
    "AuthError": "fastimport.errors",
    "ParseError": "fastimport.errors",
    "StoreError": "fastimport.errors",
    "ProcessingError": "fastimport.errors",
    "PrintError": "fastimport.errors",
}

__all__ = [
    "AuthError",
    "CatalogReport",
    "Config",
    "ConfigError",
    "FastImportError",
    "FetchError",
    "ImportRange",
    "ImportReport",
    "OrderRef",
    "Outcome",
    "ParseError",
    "PrintError",
    "PrintRequest",
    "ProcessingError",
    "RangeRequest",
    "StoreConfig",
    "StoreError",
    "TransientFetchError",
    "add_comment",
    "configured_printers",
    "connect",
    "count_pending",
    "credit_note",
    "find_order",
    "import_stores",
    "import_stores_async",
    "invoice",
    "iter_pending_orders",
    "load_config",
    "order_details",
    "parse_config",
    "payments",
    "pending_orders",
    "plan_imports",
    "print_queue",
    "print_slips",
    "proposed_credit_notes",
    "push_stock",
    "reprint",
    "retry_printing",
    "send_print_queue",
    "ship",
    "stock_levels",
    "stored_orders",
    "sync_catalog",
    "sync_catalog_async",
    "verify",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'fastimport' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # the next lookup is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])


if TYPE_CHECKING:
    from fastimport.api.imports import (
        connect,
        count_pending,
        import_stores,
        import_stores_async,
        iter_pending_orders,
        pending_orders,
        plan_imports,
        stored_orders,
        sync_catalog,
        sync_catalog_async,
    )
    from fastimport.api.printing import (
        configured_printers,
        print_queue,
        reprint,
        retry_printing,
        send_print_queue,
    )
    from fastimport.api.processing import (
        Outcome,
        PrintRequest,
        add_comment,
        credit_note,
        find_order,
        invoice,
        order_details,
        payments,
        print_slips,
        proposed_credit_notes,
        push_stock,
        ship,
        stock_levels,
        verify,
    )
    from fastimport.catalog import CatalogReport
    from fastimport.config import Config, StoreConfig, load_config, parse_config
    from fastimport.errors import (
        AuthError,
        ConfigError,
        FastImportError,
        FetchError,
        ParseError,
        PrintError,
        ProcessingError,
        StoreError,
        TransientFetchError,
    )
    from fastimport.importer import ImportReport
    from fastimport.processing.lifecycle import OrderRef
    from fastimport.ranges import ImportRange, RangeRequest
