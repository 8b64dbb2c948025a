"""Shopify webhooks (Settings › Notifications › Webhooks, or an app's subscriptions).

Headers ``X-Shopify-Topic``, ``X-Shopify-Hmac-Sha256`` (base64 HMAC-SHA256 of the raw body keyed
with the app's client secret, or the secret shown under Notifications for webhooks made there),
``X-Shopify-Webhook-Id`` (the same on every retry of one delivery).  Order topics carry the REST
order resource, unwrapped; ``orders/delete`` only ``{"id": 123}``.  Shopify waits 5 seconds for an
answer and retries failed deliveries.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import orjson

from fastimport.io.webhook import WebhookScheme


def page(bodies: Sequence[bytes]) -> bytes:
    """A REST listing is ``{"orders": [...]}``: so is the page made of webhook bodies."""
    return b'{"orders":[' + b",".join(bodies) + b"]}"


def cancelled(payload: bytes, moment: dt.datetime) -> bytes:
    """The order deleted on the shop, as the till records it: cancelled (``cancelled_at`` set)."""
    order = orjson.loads(payload)
    stamp = moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    order["updated_at"] = stamp
    order["cancelled_at"] = order.get("cancelled_at") or stamp
    return orjson.dumps(order)


SHOPIFY_WEBHOOK = WebhookScheme(
    signature_header="X-Shopify-Hmac-Sha256",
    topic_header="X-Shopify-Topic",
    id_header="X-Shopify-Webhook-Id",
    topics={
        "orders/create": "order",
        "orders/updated": "order",
        "orders/cancelled": "order",
        "orders/paid": "order",
        "orders/fulfilled": "order",
        "orders/delete": "deleted",
    },
    page=page,
    cancelled=cancelled,
)
