"""WooCommerce webhooks (WooCommerce › Réglages › Avancé › Webhooks).

Headers ``X-WC-Webhook-Topic``, ``-Signature`` (base64 HMAC-SHA256 of the raw body keyed with the
webhook's own secret, not the REST API key), ``-Delivery-ID``; order topics carry the same JSON
as the REST order resource, except ``order.deleted`` whose body is ``{"id": 123}``.  When a webhook
is created WooCommerce pings its URL with the form body ``webhook_id=12``, unsigned and without a
topic: it must answer 2xx, and so must every delivery (five failures in a row disable the webhook).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence

import orjson

from fastimport.io.webhook import WebhookScheme

_PING = re.compile(rb"webhook_id=\d+")


def page(bodies: Sequence[bytes]) -> bytes:
    """A REST listing is a JSON array of orders: so is the page made of webhook bodies."""
    return b"[" + b",".join(bodies) + b"]"


def cancelled(payload: bytes, moment: dt.datetime) -> bytes:
    """The order trashed or deleted on the shop, as the till records it: status ``cancelled``."""
    order = orjson.loads(payload)
    stamp = moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")
    order.update(status="cancelled", date_modified_gmt=stamp)
    return orjson.dumps(order)


def is_ping(headers: Mapping[str, str], body: bytes) -> bool:
    return "X-WC-Webhook-Topic" not in headers and _PING.fullmatch(body.strip()) is not None


WOOCOMMERCE_WEBHOOK = WebhookScheme(
    signature_header="X-WC-Webhook-Signature",
    topic_header="X-WC-Webhook-Topic",
    id_header="X-WC-Webhook-Delivery-ID",
    topics={
        "order.created": "order",
        "order.updated": "order",
        "order.restored": "order",
        "order.deleted": "deleted",
    },
    page=page,
    cancelled=cancelled,
    is_ping=is_ping,
)
