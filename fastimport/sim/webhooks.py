"""The simulated shop's webhooks, sent as WooCommerce and Shopify send them.

Each order created, modified or deleted through the shop's controls is pushed to the till's
``--webhook-url``, signed with the platform's scheme (base64 HMAC-SHA256 of the raw body with the
webhook's secret) and its headers, and retried with exponential backoff while the till answers an
error or nothing (both platforms retry).  The signature is computed here, independently of the
till's code, as the shop computes it.  WooCommerce also pings the URL when the webhook is created
(``webhook_id=…``, unsigned).  ``log`` keeps every attempt for the tests.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aiohttp
import orjson

WEBHOOK_ID = 1  # the id of the one webhook the simulated shop has
API_VERSION = "2025-07"


@dataclass(frozen=True, slots=True)
class Attempt:
    topic: str
    order_id: int
    attempt: int
    status: int  # the till's answer; 0 when it did not answer

    def to_json(self) -> dict[str, Any]:
        return {
            "topic": self.topic,
            "order_id": self.order_id,
            "attempt": self.attempt,
            "status": self.status,
        }


def _sign(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


class WebhookSender:
    """Pushes the shop's order events to one URL; ``await start()``, ``notify(...)``, ``await stop()``."""

    def __init__(
        self, platform: str, url: str, secret: str, shop_url: str = "", retries: int = 5, backoff: float = 1.0
    ) -> None:
        if platform not in ("woocommerce", "shopify"):
            raise ValueError(f"the simulated {platform} shop sends no webhooks (WooCommerce and Shopify do)")
        self.platform, self.url, self.secret = platform, url, secret
        self.shop_url, self.retries, self.backoff = shop_url, retries, backoff
        self.log: list[Attempt] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._session: aiohttp.ClientSession | None = None
        self._idle = asyncio.Event()
        self._idle.set()

    async def start(self, shop_url: str = "") -> None:
        self.shop_url = shop_url or self.shop_url
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5))
        if self.platform == "woocommerce":  # creating a webhook pings its URL
            self._spawn(
                "",
                0,
                f"webhook_id={WEBHOOK_ID}".encode(),
                {"Content-Type": "application/x-www-form-urlencoded"},
                0,
            )

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def idle(self) -> None:
        """Wait until every delivery succeeded or gave up."""
        await self._idle.wait()

    def notify(self, event: str, order_id: int, order: bytes | None) -> None:
        """An order was ``created``, ``updated`` or ``deleted``: push it (``order`` is its JSON)."""
        body = order if event != "deleted" and order is not None else orjson.dumps({"id": order_id})
        topic = self._topic(event, body)
        if self.platform == "woocommerce":
            headers = {
                "Content-Type": "application/json",
                "User-Agent": "WooCommerce/9.8.5 Hookshot (WordPress/6.8.1)",
                "X-WC-Webhook-Source": self.shop_url + "/",
                "X-WC-Webhook-Topic": topic,
                "X-WC-Webhook-Resource": "order",
                "X-WC-Webhook-Event": event,
                "X-WC-Webhook-Signature": _sign(self.secret, body),
                "X-WC-Webhook-ID": str(WEBHOOK_ID),
            }
        else:
            headers = {
                "Content-Type": "application/json",
                "X-Shopify-Topic": topic,
                "X-Shopify-Hmac-Sha256": _sign(self.secret, body),
                "X-Shopify-Shop-Domain": "ma-boutique.myshopify.com",
                "X-Shopify-API-Version": API_VERSION,
                "X-Shopify-Webhook-Id": str(uuid.uuid4()),  # the same on every retry
                "X-Shopify-Event-Id": str(uuid.uuid4()),
                "X-Shopify-Triggered-At": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            }
        self._spawn(topic, order_id, body, headers, self.retries)

    def _topic(self, event: str, body: bytes) -> str:
        if self.platform == "woocommerce":
            return f"order.{event}"
        if event == "deleted":
            return "orders/delete"
        if event == "created":
            return "orders/create"
        return "orders/cancelled" if orjson.loads(body).get("cancelled_at") else "orders/updated"

    def _spawn(self, topic: str, order_id: int, body: bytes, headers: dict[str, str], retries: int) -> None:
        task = asyncio.get_running_loop().create_task(self._deliver(topic, order_id, body, headers, retries))
        self._tasks.add(task)
        self._idle.clear()
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not self._tasks:
            self._idle.set()

    async def _deliver(
        self, topic: str, order_id: int, body: bytes, headers: dict[str, str], retries: int
    ) -> None:
        assert self._session is not None, "start() the sender first"
        for attempt in range(retries + 1):
            if self.platform == "woocommerce" and topic:  # a new delivery id per attempt, as WooCommerce does
                headers = {
                    **headers,
                    "X-WC-Webhook-Delivery-ID": hashlib.md5(
                        f"{WEBHOOK_ID}{time.time_ns()}".encode()
                    ).hexdigest(),
                }
            status = 0
            try:
                async with self._session.post(self.url, data=body, headers=headers) as response:
                    await response.read()
                    status = response.status
            except (aiohttp.ClientError, TimeoutError):
                status = 0
            self.log.append(Attempt(topic, order_id, attempt, status))
            if 200 <= status < 300:
                return
            if attempt < retries:
                await asyncio.sleep(self.backoff * 2**attempt)
