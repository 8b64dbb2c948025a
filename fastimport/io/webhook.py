"""Webhooks as a shop platform pushes them: signature, topic, delivery id, and the orders they carry.

Each platform that pushes webhooks describes its scheme in ``fastimport/io/<platform>/webhook.py``
with a :class:`WebhookScheme`, named by its :class:`~fastimport.io.platform.Platform`.  The till's
route checks the signature over the raw bytes (:meth:`WebhookScheme.verify`, constant-time) before
anything is parsed, then turns accepted bodies into one page its connector's ``page_spec`` reads,
so a webhook's order takes the same parse -> dedup -> store path as an imported one.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import orjson

# What a topic means for the order it names: its new version, or its removal from the shop.
Action = Literal["order", "deleted"]
# What a delivery is, once its signature holds.
Kind = Literal["order", "deleted", "ignored"]


@dataclass(frozen=True, slots=True)
class Delivery:
    """One accepted delivery: what it means, its topic, and the shop's id for it (retries keep it)."""

    kind: Kind
    topic: str
    remote_id: str | None


def sign(secret: str | bytes, body: bytes) -> str:
    """base64(HMAC-SHA256(secret, body)): the signature WooCommerce and Shopify both send."""
    key = secret.encode() if isinstance(secret, str) else secret
    return base64.b64encode(hmac.new(key, body, hashlib.sha256).digest()).decode("ascii")


def header(headers: Mapping[str, str], name: str) -> str:
    """A header's value (stripped, "" when absent); ``X-Shopify-Topic`` also answers to ``Shopify-Topic``,
    the unprefixed form newer Shopify deliveries use."""
    value = headers.get(name)
    if value is None and name.startswith("X-"):
        value = headers.get(name[2:])
    return (value or "").strip()


def _never(headers: Mapping[str, str], body: bytes) -> bool:
    return False


def deleted_order_id(body: bytes) -> int:
    """The order id of a deletion's body (``{"id": 123}``, or the whole order): ValueError otherwise."""
    data = orjson.loads(body)
    order_id = data.get("id") if isinstance(data, dict) else None
    if not isinstance(order_id, int) or isinstance(order_id, bool):
        raise ValueError("the deletion does not name an order id")
    return order_id


@dataclass(frozen=True, slots=True)
class WebhookScheme:
    signature_header: str  # base64 HMAC-SHA256 of the raw body
    topic_header: str
    id_header: str  # the delivery's id; a retry of the same delivery repeats it (Shopify)
    topics: Mapping[str, Action]  # the topics the till acts on; other signed topics are answered and ignored
    # Order bodies (each one order as the platform's REST API shows it) -> one page for the page_spec.
    page: Callable[[Sequence[bytes]], bytes]
    # A stored order's payload as the platform would show it once cancelled at ``moment`` (UTC): a
    # deletion takes the import's path for a cancellation (the shared word ``cancelled``).
    cancelled: Callable[[bytes, dt.datetime], bytes]
    # The platform's "hello" when a webhook is created, answered 200 without a signature.
    is_ping: Callable[[Mapping[str, str], bytes], bool] = _never

    def verify(self, secret: str, headers: Mapping[str, str], body: bytes) -> bool:
        """Does the signature header hold for these exact bytes? Constant-time; missing means no."""
        given = header(headers, self.signature_header)
        if not given:
            return False
        return hmac.compare_digest(given.encode("ascii", "replace"), sign(secret, body).encode("ascii"))

    def classify(self, headers: Mapping[str, str]) -> Delivery:
        """What a verified delivery asks for, from its headers only (the body is read later)."""
        topic = header(headers, self.topic_header)
        action = self.topics.get(topic)
        remote_id = header(headers, self.id_header) or None
        return Delivery(action if action is not None else "ignored", topic, remote_id)
