"""Human-readable output for a terminal (rich): import summaries and order tables."""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from fastimport.config import StoreConfig
from fastimport.print.text import sanitise
from fastimport.ranges import ImportRange

if TYPE_CHECKING:  # the order tables do without the importer (aiohttp, pyarrow)
    from fastimport.importer import ImportReport

# Piped output (a log, a batch job) gets a wide fixed width instead of 80 columns of wrapped cells.
console = Console(highlight=False, width=None if sys.stdout.isatty() else 160)


def clean(value: object) -> str:
    """Shop text made safe for a terminal, as it is for a printer: no byte below 0x20 but newline
    (no ESC, NUL, GS: a customer's name cannot move the cursor or retitle the window)."""
    return sanitise(value, keep_newlines=True)


def when(iso: object) -> str:
    """An ISO 8601 date-time (already in the store's zone) as people read it: ``30/11/2026 00:34``."""
    if not iso:
        return ""
    try:
        return datetime.fromisoformat(str(iso)).strftime("%d/%m/%Y %H:%M")
    except ValueError:
        return clean(iso)


def print_import_reports(
    reports: Sequence[ImportReport], ranges: Mapping[str, ImportRange], stores: Mapping[str, StoreConfig]
) -> None:
    for r in reports:
        if r.locked:
            console.print(f"[bold]{r.store}[/bold]: skipped, another run is importing it")
            continue
        rng = ranges[r.store]
        head = f"[bold]{r.store}[/bold]: {rng.describe(stores[r.store].zone)}"
        console.print(head)
        console.print(
            f"  {r.new} new, {r.updated} updated, {r.unchanged} unchanged"
            + (
                f", {r.locked_changes} changed on the shop after invoicing (recorded in their history: "
                "fastimport order show N; cancellations and refunds: fastimport credit-note --proposed)"
                if r.locked_changes
                else ""
            )
        )
        if r.catalog_synced:
            console.print(f"  {r.unknown_articles} unknown articles, {r.unknown_customers} unknown customers")
        else:
            console.print(
                "  catalogue never synced: unknown articles and customers not checked "
                "(run: fastimport catalog sync)"
            )
        console.print(
            f"  {r.pages} pages, {r.requests} requests"
            + (f" ({r.retries} retried)" if r.retries else "")
            + f", {r.seconds:.2f} s, core: {r.core}"
        )
        if not r.ok:
            # The error itself goes to stderr once (fastimport: …), never twice.
            console.print("  [red]stopped[/red] (why: on stderr); the orders stored before are kept")


def print_orders(rows: Sequence[Mapping[str, Any]], title: str, empty: str) -> None:
    """An order table; the Store column only appears when the rows come from several stores."""
    if not rows:
        console.print(empty)
        return
    table = Table(title=title, title_justify="left")
    several_stores = len({row["store"] for row in rows}) > 1
    columns = ["No.", "Date", "Customer", "Total", "Lines", "Shop status", "State", "Warnings"]
    if several_stores:
        columns.insert(0, "Store")
    for name in columns:
        table.add_column(
            name,
            justify="right" if name in ("No.", "Total", "Lines") else "left",
            no_wrap=name in ("Date", "Total"),
        )
    for row in rows:
        cells = [
            *([row["store"]] if several_stores else []),
            str(row["number"]),
            row["created_at"][:16].replace("T", " "),
            (row["customer"] or "") + (" (guest)" if row["guest"] else ""),
            f"{row['total']} {row['currency'] or ''}".strip(),
            str(row["lines"]),
            row["shop_status"],
            row["state"],
            ", ".join(row["warnings"]),
        ]
        # Text cells: shop text is neither rich markup nor terminal control bytes.
        table.add_row(*(Text(clean(c)) for c in cells))
    console.print(table)
