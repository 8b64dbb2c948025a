"""HTTP with aiohttp: bounded fan-out, retries with backoff, Retry-After, timeouts.

The fetcher knows nothing of orders.  It returns bytes and headers; a
connector decides which URLs to ask for and what an answer means.
"""

from __future__ import annotations

import asyncio
import random
import re
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any

import aiohttp
from multidict import CIMultiDictProxy

from fastimport.errors import FetchError, TransientFetchError

# Statuses a retry may cure: the shop or its host is overloaded or failing.
RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
MAX_BACKOFF_SECONDS = 30.0
# Where a resumed download's answer starts (``Content-Range: bytes 1024-2047/4096``).
_RANGE_START = re.compile(r"bytes (\d+)-")


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
                self._refuse_retryable(response)
                if validate is not None:
                    validate(response)
                return response
            except TransientFetchError as exc:
                await self._retry_or_give_up(exc, request, attempt)

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
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise self._transient(exc, request) from exc

    async def stream(
        self, request: Request, validate: Validator | None = None, *, chunk_size: int = 1 << 16
    ) -> AsyncGenerator[bytes, None]:
        """Fetch one large body chunk by chunk, resuming where it broke off; every byte comes once.

        A transient failure (status, dropped connection, stall, cut answer) is retried as ``fetch``
        retries it, asking only for the rest with ``Range: bytes=<received>-``; a server that ignores
        the range answers 200 with the whole body again, and the bytes already handed out are
        skipped.  ``validate`` sees each answer's status and headers (its body is empty).  The
        timeout is per read (``timeout`` s without data), not for the whole body: a bulk file of
        gigabytes legitimately takes longer than a page.  No fan-out slot is held while the caller
        works on a chunk: a long download must not starve (or deadlock) the caller's other requests.
        """
        timeout = aiohttp.ClientTimeout(
            total=None, sock_connect=self.timeout.sock_connect, sock_read=self.timeout.total
        )
        received = 0
        attempt = 0
        while True:
            attempt += 1
            headers = dict(request.headers)
            if received:
                headers["Range"] = f"bytes={received}-"
            self.stats.requests += 1
            try:
                try:
                    async with self.session.request(
                        request.method,
                        request.url,
                        params=list(request.params),
                        headers=headers,
                        data=request.body,
                        timeout=timeout,
                    ) as resp:
                        head = Response(request, resp.status, resp.headers, b"", attempt)
                        self._refuse_retryable(head)
                        if validate is not None:
                            validate(head)
                        skip = _skip(received, resp.status, resp.headers.get("Content-Range"), request.url)
                        async for chunk in resp.content.iter_chunked(chunk_size):
                            if skip:
                                if len(chunk) <= skip:
                                    skip -= len(chunk)
                                    continue
                                chunk, skip = chunk[skip:], 0
                            received += len(chunk)
                            self.stats.bytes += len(chunk)
                            attempt = 0  # progress: the retry budget is for failures in a row
                            yield chunk
                        return
                except (TimeoutError, aiohttp.ClientError) as exc:
                    raise self._transient(exc, request) from exc
            except TransientFetchError as exc:
                await self._retry_or_give_up(exc, request, max(attempt, 1))

    def _refuse_retryable(self, response: Response) -> None:
        """A status a retry may cure (overload, a failing host) as a :class:`TransientFetchError`."""
        if response.status in RETRY_STATUSES:
            raise TransientFetchError(
                f"{self.shop} answered HTTP {response.status}{_describe_body(response)}",
                status=response.status,
                retry_after=_retry_after(response.headers),
            )

    async def _retry_or_give_up(self, exc: TransientFetchError, request: Request, attempt: int) -> None:
        """Wait before the next attempt (counted in the stats), or raise :class:`FetchError` after the last."""
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

    def _transient(self, exc: BaseException, request: Request) -> TransientFetchError:
        """A network failure in the shopkeeper's words, marked for a retry."""
        if isinstance(exc, TimeoutError):
            return TransientFetchError(
                f"{self.shop} did not answer within {self.timeout.total:g} s", url=request.url
            )
        if isinstance(exc, aiohttp.ClientPayloadError):
            return TransientFetchError(f"{self.shop} sent an incomplete answer ({exc})", url=request.url)
        if isinstance(exc, aiohttp.ClientConnectorError):
            return TransientFetchError(
                f"cannot connect to {self.shop} at {request.url.split('/')[2]} ({exc.os_error.strerror or exc})",
                url=request.url,
            )
        return TransientFetchError(f"network error talking to {self.shop}: {exc}", url=request.url)

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


def _skip(received: int, status: int, content_range: str | None, url: str) -> int:
    """Bytes to drop from a resumed answer: none after a 206 from ``received``, all of them after a 200."""
    if not received or status != 206:
        return received
    start = _RANGE_START.match(content_range or "")
    if start is None or int(start.group(1)) != received:
        raise FetchError(
            f"the download resumed at the wrong place (asked from byte {received}, got {content_range!r})",
            url=url,
        )
    return 0
