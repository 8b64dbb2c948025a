"""The till's webhook route on loopback, signed deliveries as the shops send them (no tests here)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson
from aiohttp import web

from fastimport.config import Config
from fastimport.web.database import CONFIG_KEY, DATABASE_KEY, Database
from fastimport.web.webhooks import WEBHOOKS_KEY, WebhookIntake, add_webhook_routes

WEBHOOK_ENV = "FASTIMPORT_TEST_WEBHOOK_SECRET"
WEBHOOK_SECRET = "whsec-test-0123456789"
TOPICS = {
    "woocommerce": {"created": "order.created", "updated": "order.updated", "deleted": "order.deleted"},
    "shopify": {"created": "orders/create", "updated": "orders/updated", "deleted": "orders/delete"},
}
Middleware = Callable[
    [web.Request, Callable[[web.Request], Awaitable[web.StreamResponse]]], Awaitable[web.StreamResponse]
]


@dataclass
class Till:
    url: str
    db: Database
    intake: WebhookIntake
    http: aiohttp.ClientSession

    async def post(self, store: str, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
        async with self.http.post(f"{self.url}/webhooks/{store}", data=body, headers=headers) as response:
            return response.status, await response.text()

    async def sql(self, query: str, *params: Any) -> list[tuple[Any, ...]]:
        def run(_config: Config, con: Any) -> list[tuple[Any, ...]]:
            return list(con.execute(query, list(params)).fetchall())

        return await self.db.run(run)


@asynccontextmanager
async def till(config: Config, middlewares: tuple[Middleware, ...] = ()) -> AsyncIterator[Till]:
    """A minimal till app (config, database, webhook routes) served on a free loopback port."""
    app = web.Application(middlewares=list(middlewares))
    db = Database(config)
    app[CONFIG_KEY] = config
    app[DATABASE_KEY] = db
    add_webhook_routes(app)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        async with aiohttp.ClientSession() as http:
            yield Till(f"http://127.0.0.1:{port}", db, app[WEBHOOKS_KEY], http)
    finally:
        await runner.cleanup()
        db.close()


def signed(
    platform: str, event: str, body: bytes, secret: str = WEBHOOK_SECRET, delivery: str | None = None
) -> dict[str, str]:
    """The headers the platform sends with ``body`` (its real signature scheme)."""
    signature = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
    topic = TOPICS[platform][event]
    if platform == "woocommerce":
        return {
            "Content-Type": "application/json",
            "X-WC-Webhook-Topic": topic,
            "X-WC-Webhook-Resource": "order",
            "X-WC-Webhook-Event": event,
            "X-WC-Webhook-Signature": signature,
            "X-WC-Webhook-ID": "1",
            "X-WC-Webhook-Delivery-ID": delivery or uuid.uuid4().hex,
        }
    return {
        "Content-Type": "application/json",
        "X-Shopify-Topic": topic,
        "X-Shopify-Hmac-Sha256": signature,
        "X-Shopify-Shop-Domain": "ma-boutique.myshopify.com",
        "X-Shopify-Webhook-Id": delivery or str(uuid.uuid4()),
    }


def order_id_of(body: bytes) -> int:
    return int(orjson.loads(body)["id"])
