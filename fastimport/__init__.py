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
    "iter_stored_orders": "fastimport.api.imports",
    "set_aside_orders": "fastimport.api.imports",
    "lock_stores": "fastimport.api.locks",
    "store_version": "fastimport.api.database",
    "migrate_store": "fastimport.api.database",
    "SchemaVersions": "fastimport.api.database",
    "copy_store": "fastimport.api.database",
    "CopyReport": "fastimport.api.database",
    "StoreLeases": "fastimport.api.locks",
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
    "adjust_stock": "fastimport.api.processing",
    "push_stock": "fastimport.api.processing",
    "verify": "fastimport.api.processing",
    "PrintRequest": "fastimport.api.processing",
    "Outcome": "fastimport.api.processing",
    # fiscal
    "archive_export": "fastimport.api.fiscal",
    "archive_keygen": "fastimport.api.fiscal",
    "archive_verify": "fastimport.api.fiscal",
    "close_period": "fastimport.api.fiscal",
    "close_pending_days": "fastimport.api.fiscal",
    "list_closings": "fastimport.api.fiscal",
    "record_event": "fastimport.api.fiscal",
    "rotate_key": "fastimport.api.fiscal",
    "verify_records": "fastimport.api.fiscal",
    "check_key": "fastimport.api.fiscal",
    "KeyMismatchError": "fastimport.processing.chain",
    # printing
    "configured_printers": "fastimport.api.printing",
    "print_queue": "fastimport.api.printing",
    "retry_printing": "fastimport.api.printing",
    "send_print_queue": "fastimport.api.printing",
    "reprint": "fastimport.api.printing",
    # the till page
    "import_journal": "fastimport.api.till",
    "ticket_png": "fastimport.api.till",
    "retry_and_send": "fastimport.api.till",
    # documents for the customer (A4 PDF, Factur-X, mail queue)
    "document_pdf": "fastimport.api.documents",
    "write_pdfs": "fastimport.api.documents",
    "MailRequest": "fastimport.api.documents",
    "mail_hook": "fastimport.api.documents",
    "send_mails": "fastimport.api.documents",
    "send_document": "fastimport.api.documents",
    "mail_queue": "fastimport.api.documents",
    "retry_mails": "fastimport.api.documents",
    # the shop hears back (push queue)
    "push_queue": "fastimport.api.pushes",
    "retry_pushes": "fastimport.api.pushes",
    "customers": "fastimport.api.customers",
    # readings for the head office
    "sales_report": "fastimport.api.reports",
    "SalesReport": "fastimport.api.reports",
    # webhooks
    "webhook_endpoint": "fastimport.api.webhooks",
    "record_webhooks": "fastimport.api.webhooks",
    "process_webhooks": "fastimport.api.webhooks",
    "prune_webhooks": "fastimport.api.webhooks",
    "webhook_status": "fastimport.api.webhooks",
    "WebhookStatus": "fastimport.api.webhooks",
    "WebhookBatch": "fastimport.api.webhooks",
    "WebhookRefused": "fastimport.api.webhooks",
    # errors
    "FastImportError": "fastimport.errors",
    "ConfigError": "fastimport.errors",
    "FetchError": "fastimport.errors",
    "TransientFetchError": "fastimport.errors",
    "AuthError": "fastimport.errors",
    "ParseError": "fastimport.errors",
    "StoreError": "fastimport.errors",
    "StoreLockedError": "fastimport.errors",
    "ProcessingError": "fastimport.errors",
    "PrintError": "fastimport.errors",
}

__all__ = [
    "AuthError",
    "CatalogReport",
    "Config",
    "ConfigError",
    "CopyReport",
    "FastImportError",
    "FetchError",
    "ImportRange",
    "ImportReport",
    "KeyMismatchError",
    "MailRequest",
    "OrderRef",
    "Outcome",
    "ParseError",
    "PrintError",
    "PrintRequest",
    "ProcessingError",
    "RangeRequest",
    "SalesReport",
    "SchemaVersions",
    "StoreConfig",
    "StoreError",
    "StoreLeases",
    "StoreLockedError",
    "TransientFetchError",
    "WebhookBatch",
    "WebhookRefused",
    "WebhookStatus",
    "add_comment",
    "adjust_stock",
    "archive_export",
    "archive_keygen",
    "archive_verify",
    "check_key",
    "close_pending_days",
    "close_period",
    "configured_printers",
    "connect",
    "copy_store",
    "count_pending",
    "credit_note",
    "customers",
    "document_pdf",
    "find_order",
    "import_journal",
    "import_stores",
    "import_stores_async",
    "invoice",
    "iter_pending_orders",
    "iter_stored_orders",
    "list_closings",
    "load_config",
    "lock_stores",
    "mail_hook",
    "mail_queue",
    "migrate_store",
    "order_details",
    "parse_config",
    "payments",
    "pending_orders",
    "plan_imports",
    "print_queue",
    "print_slips",
    "process_webhooks",
    "proposed_credit_notes",
    "prune_webhooks",
    "push_queue",
    "push_stock",
    "record_event",
    "record_webhooks",
    "reprint",
    "retry_and_send",
    "retry_mails",
    "retry_printing",
    "retry_pushes",
    "rotate_key",
    "sales_report",
    "send_document",
    "send_mails",
    "send_print_queue",
    "set_aside_orders",
    "ship",
    "stock_levels",
    "store_version",
    "stored_orders",
    "sync_catalog",
    "sync_catalog_async",
    "ticket_png",
    "verify",
    "verify_records",
    "webhook_endpoint",
    "webhook_status",
    "write_pdfs",
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
    from fastimport.api.customers import customers
    from fastimport.api.database import CopyReport, SchemaVersions, copy_store, migrate_store, store_version
    from fastimport.api.documents import (
        MailRequest,
        document_pdf,
        mail_hook,
        mail_queue,
        retry_mails,
        send_document,
        send_mails,
        write_pdfs,
    )
    from fastimport.api.fiscal import (
        archive_export,
        archive_keygen,
        archive_verify,
        check_key,
        close_pending_days,
        close_period,
        list_closings,
        record_event,
        rotate_key,
        verify_records,
    )
    from fastimport.api.imports import (
        connect,
        count_pending,
        import_stores,
        import_stores_async,
        iter_pending_orders,
        iter_stored_orders,
        pending_orders,
        plan_imports,
        set_aside_orders,
        stored_orders,
        sync_catalog,
        sync_catalog_async,
    )
    from fastimport.api.locks import StoreLeases, lock_stores
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
        adjust_stock,
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
    from fastimport.api.pushes import push_queue, retry_pushes
    from fastimport.api.reports import SalesReport, sales_report
    from fastimport.api.till import import_journal, retry_and_send, ticket_png
    from fastimport.api.webhooks import (
        WebhookBatch,
        WebhookRefused,
        WebhookStatus,
        process_webhooks,
        prune_webhooks,
        record_webhooks,
        webhook_endpoint,
        webhook_status,
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
        StoreLockedError,
        TransientFetchError,
    )
    from fastimport.importer import ImportReport
    from fastimport.processing.chain import KeyMismatchError
    from fastimport.processing.lifecycle import OrderRef
    from fastimport.ranges import ImportRange, RangeRequest
