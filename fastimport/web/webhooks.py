"""``POST /webhooks/<store>``: a shop's signed push, kept durably, answered at once, processed after.

Authenticated by its signature, not by the till's login: the shop knows the webhook's secret, not
the till's token.  In this order, before any byte of the body is parsed:

1. the store must take webhooks (``webhook_secret_env``), else 404 with a plain message (503 when
   the variable it names is unset: the shop retries once the till is fixed);
2. WooCommerce's creation ping (``webhook_id=…``, unsigned) is answered 200, nothing kept;
3. the signature header must hold for the raw bytes (constant-time compare), else 401, nothing kept;
4. a topic the till does not act on is answered 200 and dropped (a refusal would get the webhook
   disabled); a repeat of a delivery already kept (same delivery id) is answered 200 and dropped;
5. the delivery is committed to ``webhook_deliveries``; deliveries arriving meanwhile share the
   commit, so the answer comes within milliseconds under load, and only then 200 (503 if the
   database has not committed it within 4 seconds, e.g. behind a long import: the shop retries).

A background task then takes kept deliveries through the import's parse -> dedup -> store path
(:func:`fastimport.process_webhooks`); deliveries kept but not processed when the till stopped are
processed at its next start.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiohttp import web

from fastimport.api.webhooks import (
    WebhookEndpoint,
    WebhookRefused,
    process_webhooks,
    prune_webhooks,
    record_webhooks,
    webhook_endpoint,
)
from fastimport.io.webhook import Delivery
from fastimport.web.database import CONFIG_KEY, DATABASE_KEY

log = logging.getLogger(__name__)

PROCESS_BATCH = 200  # deliveries per processing step: keeps each database call short for the answers
BUSY_BATCH = 50  # ... and shorter while deliveries keep arriving
# Answers come first: a processing step waits for the commits in progress, but no longer than this
# (so a steady flood of deliveries still sees its orders stored).
INTAKE_PRIORITY_SECONDS = 1.0
# Shopify gives up after 5 s: past this, answer 503 (the shop sends it again; a delivery committed
# meanwhile is then recognised as a repeat, or its order as unchanged).
ANSWER_WITHIN_SECONDS = 4.0


class WebhookIntake:
    """The route's state: the group commit of arriving deliveries and the processing task."""

    def __init__(self, app: web.Application) -> None:
        self.app = app
        self._waiting: list[tuple[tuple[str, Delivery, bytes], asyncio.Future[bool]]] = []
        self._committer: asyncio.Task[None] | None = None
        self._worker: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._endpoints: dict[str, WebhookEndpoint] = {}

    # -- the route ------------------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.Response:
        name = request.match_info["store"]
        body = await request.read()
        try:
            endpoint = self._endpoint(name)
        except WebhookRefused as exc:
            return _text(int(getattr(exc, "status", 404)), exc.message)
        scheme = endpoint.scheme
        if scheme.is_ping(request.headers, body):
            return _text(200, "webhook ready")
        if not scheme.verify(endpoint.secret, request.headers, body):
            log.warning("webhook for store '%s' refused: signature missing or wrong", name)
            return _text(401, "signature missing or wrong: check the webhook's secret")
        delivery = scheme.classify(request.headers)
        if delivery.kind == "ignored":
            return _text(200, f"topic '{delivery.topic}' ignored")
        try:
            fresh = await asyncio.wait_for(
                asyncio.shield(self._keep((name, delivery, body))), ANSWER_WITHIN_SECONDS
            )
        except TimeoutError:
            log.warning("webhook for store '%s': the database is busy, the shop will send it again", name)
            return _text(503, "the till is busy: please send it again")
        except Exception:
            log.exception("webhook for store '%s' could not be kept", name)
            return _text(500, "the delivery could not be kept: please send it again")
        return _text(200, "received" if fresh else "already received")

    def _endpoint(self, name: str) -> WebhookEndpoint:
        found = self._endpoints.get(name)
        if found is None:
            found = webhook_endpoint(self.app[CONFIG_KEY], name)
            self._endpoints[name] = found
        return found

    async def _keep(self, item: tuple[str, Delivery, bytes]) -> bool:
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, future))
        if self._committer is None or self._committer.done():
            self._committer = asyncio.create_task(self._commit())
        return await future

    async def _commit(self) -> None:
        """Commit whatever arrived, in one transaction, until nothing waits (group commit)."""
        db = self.app[DATABASE_KEY]
        while self._waiting:
            group, self._waiting = self._waiting, []
            try:
                results = await db.run(record_webhooks, [item for item, _ in group])
            except Exception as exc:  # every delivery of the group gets its 500
                for _, future in group:
                    if not future.done():
                        future.set_exception(exc)
                continue
            if any(results):
                self._wake.set()  # even for deliveries whose answer gave up waiting (503)
            for (_, future), fresh in zip(group, results, strict=True):
                if not future.done():
                    future.set_result(fresh)

    # -- processing -----------------------------------------------------------------------------

    async def drain(self) -> int:
        """Process every kept delivery now; the number processed (tests, shutdown)."""
        db = self.app[DATABASE_KEY]
        loop = asyncio.get_running_loop()
        done = 0
        while True:
            deadline = loop.time() + INTAKE_PRIORITY_SECONDS
            while self._committer is not None and self._busy() and loop.time() < deadline:
                await asyncio.wait({self._committer}, timeout=deadline - loop.time())
            step = BUSY_BATCH if self._waiting or self._busy() else PROCESS_BATCH
            batch = await db.run(process_webhooks, step)
            done += batch.processed
            if batch.processed < step:
                return done

    def _busy(self) -> bool:
        return self._committer is not None and not self._committer.done()

    async def _work(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            try:
                await self.drain()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("webhook deliveries could not be processed; retrying in a while")
                await asyncio.sleep(5)
                self._wake.set()

    async def start(self, app: web.Application) -> None:
        try:
            await app[DATABASE_KEY].run(prune_webhooks)
        except Exception:
            log.exception("old webhook deliveries could not be pruned")
        self._wake.set()  # deliveries kept before a stop are processed now
        self._worker = asyncio.create_task(self._work())

    async def stop(self, app: web.Application) -> None:
        if self._committer is not None:  # deliveries being kept get their answer
            with contextlib.suppress(Exception):
                await self._committer
        if self._worker is not None:  # what is left is processed at the next start
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._worker


WEBHOOKS_KEY = web.AppKey("fastimport.webhooks", WebhookIntake)


def add_webhook_routes(app: web.Application) -> None:
    """Mount ``POST /webhooks/{store}`` and its processing task on ``app`` (which holds the config and database)."""
    intake = WebhookIntake(app)
    app[WEBHOOKS_KEY] = intake
    app.router.add_post("/webhooks/{store}", intake.handle)
    app.on_startup.append(intake.start)
    app.on_shutdown.append(intake.stop)


def _text(status: int, message: str) -> web.Response:
    return web.Response(status=status, text=message + "\n")
