"""Webhook side of the library API: which stores take webhooks, keep deliveries, process them, status.

The till's route (:mod:`fastimport.web.webhooks`) checks the signature itself, over the raw
bytes, with :func:`webhook_endpoint`'s scheme and secret; then :func:`record_webhooks` keeps the
signed deliveries durably (one commit) before the shop gets its 200, and
:func:`process_webhooks` takes kept deliveries through the import's path
(:func:`fastimport.ingest.ingest_pages`).  :func:`webhook_status` is what the Journal shows.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from fastimport.config import Config, StoreConfig
from fastimport.errors import ConfigError, FastImportError
from fastimport.io.registry import platform
from fastimport.io.webhook import Delivery, WebhookScheme, deleted_order_id
from fastimport.store.db import Connection

log = logging.getLogger(__name__)
SECRET_KEY = "webhook_secret_env"


class WebhookRefused(ConfigError):
    """This store takes no webhooks (``status`` 404) or its secret is not available (503)."""


@dataclass(frozen=True, slots=True)
class WebhookEndpoint:
    store: StoreConfig
    scheme: WebhookScheme
    secret: str

    def __repr__(self) -> str:  # never show the secret, even in a traceback
        return f"WebhookEndpoint(store={self.store.name!r})"


def webhook_endpoint(config: Config, name: str) -> WebhookEndpoint:
    """The signature scheme and secret of store ``name``, or WebhookRefused saying why not."""
    found = [s for s in config.stores if s.name == name]
    if not found:
        raise WebhookRefused(f"no store named '{name}' is configured on this till", status=404)
    store = found[0]
    scheme = platform(store.platform).webhook
    if scheme is None:
        shown = platform(store.platform).display_name
        raise WebhookRefused(
            f"store '{name}': {shown} sends no webhooks; import its orders instead", status=404
        )
    if not getattr(store, SECRET_KEY, None):
        raise WebhookRefused(
            f"store '{name}' takes no webhooks: set {SECRET_KEY} in its [[stores]] table", status=404
        )
    try:
        secret = store.secret(SECRET_KEY)
    except ConfigError as exc:
        raise WebhookRefused(exc.message, status=503) from exc
    return WebhookEndpoint(store, scheme, secret)


def record_webhooks(
    config: Config, con: Connection, deliveries: Sequence[tuple[str, Delivery, bytes]]
) -> list[bool]:
    """Keep signed deliveries ``(store name, delivery, raw body)`` in one commit.

    Returns, per delivery, False when it repeats one already kept (same delivery id): a retry.
    """
    from fastimport.store import imports
    from fastimport.store import webhooks as kept

    ids: dict[str, int] = dict(con.execute("SELECT name, store_id FROM stores").fetchall())
    incoming = []
    for name, delivery, body in deliveries:
        if name not in ids:  # the store's first delivery, before any import
            cfg = config.store(name)
            ids[name] = imports.ensure_store(con, cfg.name, cfg.platform, cfg.url, cfg.timezone)
        incoming.append(kept.Incoming(ids[name], delivery.remote_id, delivery.topic, delivery.kind, body))
    return kept.record(con, incoming)


@dataclass(frozen=True, slots=True)
class WebhookBatch:
    """What one :func:`process_webhooks` call did."""

    processed: int
    new: int
    updated: int
    unchanged: int
    stale: int
    locked_changes: int
    failed: int

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


PROCESS_LIMIT = 500


def process_webhooks(config: Config, con: Connection, limit: int = PROCESS_LIMIT) -> WebhookBatch:
    """Take up to ``limit`` kept deliveries, oldest first, through the import's path; mark each."""
    from fastimport.store import webhooks as kept

    waiting = kept.unprocessed(con, limit)
    by_store: dict[int, list[kept.Stored]] = defaultdict(list)
    for item in waiting:
        by_store[item.store_id].append(item)
    totals = dict.fromkeys(("new", "updated", "unchanged", "stale", "locked_changes", "failed"), 0)
    processed = 0
    for store_id, items in by_store.items():
        try:
            outcomes = _process_store(config, con, store_id, items, totals)
        except ConfigError as exc:
            # The store cannot be read as configured (a credential variable unset...): its deliveries
            # wait, unprocessed, for the next start or the next delivery, rather than failing for good.
            log.warning("webhook deliveries of store %d wait: %s", store_id, exc.message)
            continue
        kept.mark(con, outcomes)
        processed += len(items)
        totals["failed"] += sum(1 for o in outcomes if o.error)
    return WebhookBatch(processed=processed, **totals)


def _process_store(
    config: Config, con: Connection, store_id: int, items: list[Any], totals: dict[str, int]
) -> list[Any]:
    from fastimport.ingest import ingest_pages
    from fastimport.store import raw
    from fastimport.store import webhooks as kept

    rows = con.execute("SELECT name FROM stores WHERE store_id = ?", [store_id]).fetchall()
    cfg = next((s for s in config.stores if rows and s.name == rows[0][0]), None)
    if cfg is None or platform(cfg.platform).webhook is None:
        return [kept.Outcome(i.delivery_id, None, None, "the store is no longer configured") for i in items]
    scheme = platform(cfg.platform).webhook
    assert scheme is not None
    outcomes: list[kept.Outcome] = []
    bodies: list[tuple[Any, bytes]] = []
    now = dt.datetime.now(dt.UTC)
    for item in items:
        if item.kind != "deleted":
            bodies.append((item, item.body))
            continue
        try:
            order_id = deleted_order_id(item.body)
        except ValueError as exc:
            outcomes.append(kept.Outcome(item.delivery_id, None, None, str(exc)))
            continue
        stored = raw.payload(con, store_id, order_id)
        if stored is None:  # never stored here: nothing to cancel
            outcomes.append(kept.Outcome(item.delivery_id, order_id, None, None))
        else:
            bodies.append((item, scheme.cancelled(stored, now)))
    if not bodies:
        return outcomes
    try:
        report = ingest_pages(con, cfg, [scheme.page([b for _, b in bodies])])
        if len(report.order_ids) != len(bodies):
            raise FastImportError("a delivery did not hold exactly one order")
        reports = [(report, bodies)]
    except ConfigError:
        raise
    except FastImportError:
        reports = []
        for item, body in bodies:  # find the bad one(s): each alone
            try:
                reports.append((ingest_pages(con, cfg, [scheme.page([body])]), [(item, body)]))
            except FastImportError as exc:
                outcomes.append(kept.Outcome(item.delivery_id, None, None, exc.message))
    for done, part in reports:
        for key in ("new", "updated", "unchanged", "stale", "locked_changes"):
            totals[key] += getattr(done, key)
        for (item, _), order_id in zip(part, done.order_ids, strict=False):
            outcomes.append(kept.Outcome(item.delivery_id, order_id, done.run_id, None))
    return outcomes


KEEP_DAYS = 90


def prune_webhooks(config: Config, con: Connection, keep_days: int = KEEP_DAYS) -> int:
    """Forget deliveries processed without error more than ``keep_days`` ago; how many were forgotten."""
    from fastimport.store import webhooks as kept

    return kept.prune(con, keep_days)


@dataclass(frozen=True, slots=True)
class WebhookStatus:
    """One store's webhooks, for the Journal; ``to_json()`` is the JSON contract."""

    store: str
    enabled: bool  # the store takes webhooks (webhook_secret_env set)
    received: int
    last_received_at: str | None  # ISO 8601, UTC
    pending: int  # kept, not processed yet
    failed: int  # processed with an error
    last_error: str | None
    unannounced_orders: int  # found by an import although the store sends webhooks
    last_unannounced_at: str | None
    warning: str | None  # one plain sentence when something calls for a look

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def webhook_status(config: Config, con: Connection) -> list[WebhookStatus]:
    """Per store that takes webhooks or received some: arrivals, backlog, failures, orders they missed."""
    from fastimport.store import webhooks as kept

    summary = kept.summary(con)
    names = dict(con.execute("SELECT name, store_id FROM stores").fetchall())
    out = []
    for cfg in config.stores:
        enabled = platform(cfg.platform).webhook is not None and bool(getattr(cfg, SECRET_KEY, None))
        found = summary.get(names[cfg.name]) if cfg.name in names else None
        if not enabled and found is None:
            continue
        warning = _warning(cfg, enabled, found)
        out.append(
            WebhookStatus(
                store=cfg.name,
                enabled=enabled,
                received=found.received if found else 0,
                last_received_at=_iso(found.last_received_at) if found else None,
                pending=found.pending if found else 0,
                failed=found.failed if found else 0,
                last_error=found.last_error if found else None,
                unannounced_orders=found.unannounced if found else 0,
                last_unannounced_at=_iso(found.last_unannounced_at) if found else None,
                warning=warning,
            )
        )
    return out


def _warning(cfg: StoreConfig, enabled: bool, found: Any) -> str | None:
    """The one thing about a store's webhooks that most calls for a look, in one sentence."""
    if enabled:
        try:
            cfg.secret(SECRET_KEY)
        except ConfigError as exc:
            return f"{exc.message}: the shop's webhooks are refused (503)"
    if found is None:
        return "no webhook received yet" if enabled else None
    if found.unannounced:
        return (
            f"{found.unannounced} order(s) reached the till by import but not by webhook: "
            "check that the shop's webhook is still active"
        )
    if found.failed:
        return f"{found.failed} webhook(s) could not be processed: {found.last_error}"
    if found.pending:
        return f"{found.pending} webhook(s) received but not processed yet"
    return None


def _iso(moment: dt.datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(dt.UTC).isoformat()
