"""HTTP with aiohttp: bounded fan-out, retries with backoff, Retry-After, timeouts.

The fetcher knows nothing of orders.  It returns bytes and headers; a
connector decides which URLs to ask for and what an answer means.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any

import aiohttp
from multidict import CIMultiDictProxy

from fastimport.errors import FetchError, TransientFetchError

# Statuses a retry may cure: the shop or its host is overloaded or failing.
RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
MAX_BACKOFF_SECONDS = 30.0


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    url: str
    params: tuple[tuple[str, str], ...] = ()
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes | None = None
    tag: Any = None  # the connector's own bookkeeping (page number...), returned untouched


@dataclass(frozen=True, slots=True)
class Response:
    request: Request
    status: int
    headers: CIMultiDictProxy[str]
    body: bytes
    attempts: int


@dataclass(slots=True)
class FetchStats:
    requests: int = 0
    retries: int = 0
    bytes: int = 0
    seconds_waiting: float = 0.0
    retry_reasons: list[str] = field(default_factory=list)


# A connector's check of an answer: raise TransientFetchError to have it retried,
# FetchError (or a child) to stop, return normally to accept it.
Validator = Callable[[Response], None]


class Fetcher:
    """One per run: owns the retry policy; the aiohttp session is passed in by the caller."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        concurrency: int = 8,
        retries: int = 5,
        timeout: float = 30.0,
        backoff_base: float = 0.25,
        shop: str = "the shop",
    ) -> None:
        self.session = session
        self.semaphore = asyncio.Semaphore(concurrency)
        self.concurrency = concurrency
        self.retries = retries
        self.timeout = aiohttp.ClientTimeout(total=timeout, sock_connect=min(timeout, 10.0))
        self.backoff_base = backoff_base
        self.shop = shop
        self.stats = FetchStats()

    async def fetch(self, request: Request, validate: Validator | None = None) -> Response:
        """Fetch one request, retrying transient failures; raises FetchError when it gives up."""
        attempt = 0
        while True:
            attempt += 1
            try:
                async with self.semaphore:
                    response = await self._send(request, attempt)
                if response.status in RETRY_STATUSES:
                    raise TransientFetchError(
                        f"{self.shop} answered HTTP {response.status}{_describe_body(response)}",
                        status=response.status,
                        retry_after=_retry_after(response.headers),
                    )
                if validate is not None:
                    validate(response)
                return response
            except TransientFetchError as exc:
                if attempt > self.retries:
                    raise FetchError(
                        f"{self.shop} kept failing after {attempt} attempts: {exc.message}",
                        url=request.url,
                        attempts=attempt,
                    ) from exc
                delay = self._backoff(attempt, getattr(exc, "retry_after", None))
                self.stats.retries += 1
                self.stats.retry_reasons.append(exc.message)
                self.stats.seconds_waiting += delay
                await asyncio.sleep(delay)

    async def fetch_many(
        self, requests: Iterable[Request], validate: Validator | None = None
    ) -> AsyncIterator[Response]:
        """Fetch requests concurrently (bounded), yielding answers as they complete.

        At most ``concurrency`` requests are in flight and at most twice that
        many answers wait to be consumed, so a slow consumer slows the fetching
        instead of filling memory.
        """
        pending: set[asyncio.Task[Response]] = set()
        source = iter(requests)
        window = self.concurrency * 2
        try:
            while True:
                while len(pending) < window:
                    nxt = next(source, None)
                    if nxt is None:
                        break
                    pending.add(asyncio.ensure_future(self.fetch(nxt, validate)))
                if not pending:
                    return
                done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    yield task.result()
        finally:
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)

    async def _send(self, request: Request, attempt: int) -> Response:
        self.stats.requests += 1
        try:
            async with self.session.request(
                request.method,
                request.url,
                params=list(request.params),
                headers=dict(request.headers),
                data=request.body,
                timeout=self.timeout,
            ) as resp:
                body = await resp.read()
                self.stats.bytes += len(body)
                return Response(request, resp.status, resp.headers, body, attempt)
        except TimeoutError as exc:
            raise TransientFetchError(
                f"{self.shop} did not answer within {self.timeout.total:g} s", url=request.url
            ) from exc
        except aiohttp.ClientPayloadError as exc:
            raise TransientFetchError(
                f"{self.shop} sent an incomplete answer ({exc})", url=request.url
            ) from exc
        except aiohttp.ClientConnectorError as exc:
            raise TransientFetchError(
                f"cannot connect to {self.shop} at {request.url.split('/')[2]} ({exc.os_error.strerror or exc})",
                url=request.url,
            ) from exc
        except aiohttp.ClientError as exc:
            raise TransientFetchError(
                f"network error talking to {self.shop}: {exc}", url=request.url
            ) from exc

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, MAX_BACKOFF_SECONDS)
        # Full jitter keeps several importers from hammering a recovering shop in step.
        ceiling = min(MAX_BACKOFF_SECONDS, self.backoff_base * (2 ** (attempt - 1)))
        return random.uniform(ceiling / 2, ceiling)


def _retry_after(headers: CIMultiDictProxy[str]) -> float | None:
    value = headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        import datetime as dt

        return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())


def _describe_body(response: Response) -> str:
    ctype = response.headers.get("Content-Type", "")
    if "html" in ctype:
        return " with an HTML page instead of data"
    return ""
