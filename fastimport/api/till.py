"""What the till page shows beyond the other operations: the import journal and ticket previews."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from fastimport.config import Config
from fastimport.store.db import Connection, first_row


def import_journal(con: Connection, *, limit: int = 50) -> list[dict[str, Any]]:
    """The latest import runs, newest first (times in each store's zone): range, counts, pages, status, error."""
    rows = con.execute(
        "SELECT r.run_id, s.name, r.mode, r.range_start, r.range_end, r.started_at, r.finished_at, r.status, "
        "r.new_orders, r.updated_orders, r.unchanged_orders, r.unknown_articles, r.unknown_customers, r.pages, "
        "r.error, s.timezone FROM import_runs r JOIN stores s USING (store_id) ORDER BY r.started_at DESC, r.run_id DESC "
        "LIMIT ?",
        [limit],
    ).fetchall()

    def local(value: Any, zone: str) -> str | None:
        return value.astimezone(ZoneInfo(zone)).isoformat() if value is not None else None

    return [
        {"run_id": r[0], "store": r[1], "mode": r[2], "range_start": local(r[3], r[15]),
         "range_end": local(r[4], r[15]), "started_at": local(r[5], r[15]), "finished_at": local(r[6], r[15]), "status": r[7], "new": r[8], "updated": r[9],
         "unchanged": r[10], "unknown_articles": r[11], "unknown_customers": r[12], "pages": r[13],
         "error": r[14]}
        for r in rows
    ]  # fmt: skip


def ticket_png(con: Connection, job: int) -> bytes | None:
    """A PNG picture of a queued or printed ticket (from its stored preview), or None if there is no such job."""
    from fastimport.print.render import render_png
    from fastimport.print.ticket import Paper, Text, Ticket

    row = first_row(con.execute("SELECT kind, document_ref, preview FROM print_jobs WHERE job_id = ?", [job]))
    if row is None:
        return None
    lines = str(row[2]).rstrip("\n").split("\n")
    columns = max([48, *(len(line) for line in lines)])
    paper = Paper(columns=columns, pixel_width=max(576, columns * 12))
    ticket = Ticket(kind=str(row[0]), ref=str(row[1]), paper=paper, ops=tuple(Text(line) for line in lines))
    return render_png(ticket)


def retry_and_send(
    config: Config, con: Connection, job: int | None = None, max_seconds: float = 10.0
) -> dict[str, Any]:
    """Make failed tickets (or one) due now and send the queue: how many printed, how many still wait."""
    from fastimport.api.printing import configured_printers, retry_printing, send_print_queue

    requeued = retry_printing(con, job)
    printed, waiting = send_print_queue(con, configured_printers(config), max_seconds)
    return {"requeued": requeued, "printed": printed, "waiting": [j.as_json() for j in waiting]}
