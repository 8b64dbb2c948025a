"""Who may use the till page: the access token, session cookies, CSRF, and JSON errors.

* On loopback without ``[server] token_env`` the page is open to this machine only.
* With a token every page and API call needs it: the login form (it sets an HttpOnly,
  SameSite=Strict session cookie) or ``Authorization: Bearer TOKEN``.  Unauthenticated pages answer
  401 with the login form, API calls 401 ``{"error": ...}``.
* State-changing requests (POST...) carry the CSRF token of their session (form field ``csrf`` or
  header ``X-CSRF-Token``), or a valid bearer token.  A request from a program that sends no cookie
  and no ``Origin`` (curl, a script) is not a browser being tricked and needs no CSRF token; a
  foreign ``Origin`` is always refused.
* Webhooks (``/webhooks/``) check their own signatures and are left alone here.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

import aiohttp_jinja2
from aiohttp import web

from fastimport.errors import ConfigError, FastImportError

SESSION_COOKIE = "fastimport_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf"
LOGIN_PATH = "/login"
OPEN_PREFIXES = ("/static/", "/webhooks/")
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
MAX_SESSIONS = 1000

log = logging.getLogger("fastimport.web")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Guard:
    def __init__(self, token: str | None) -> None:
        self._token = token
        self._key = secrets.token_bytes(32)  # CSRF tokens die with the process, as sessions do
        self._sessions: dict[str, None] = {}

    @property
    def required(self) -> bool:
        return self._token is not None

    def csrf_for(self, sid: str) -> str:
        return hmac.new(self._key, sid.encode(), hashlib.sha256).hexdigest()

    def bearer_ok(self, request: web.Request) -> bool:
        header = request.headers.get("Authorization", "")
        if self._token is None or not header.startswith("Bearer "):
            return False
        return hmac.compare_digest(header[7:].strip().encode(), self._token.encode())

    def token_ok(self, given: str) -> bool:
        return self._token is not None and hmac.compare_digest(given.encode(), self._token.encode())

    def authenticated(self, request: web.Request, sid: str) -> bool:
        return self._token is None or self.bearer_ok(request) or sid in self._sessions

    def open_session(self) -> str:
        sid = secrets.token_urlsafe(32)
        self._sessions[sid] = None
        while len(self._sessions) > MAX_SESSIONS:
            del self._sessions[next(iter(self._sessions))]
        return sid

    def close_session(self, sid: str) -> None:
        self._sessions.pop(sid, None)

    async def csrf_ok(self, request: web.Request, sid: str, sid_is_new: bool) -> bool:
        origin = request.headers.get("Origin")
        if origin and origin != "null" and urlsplit(origin).netloc != request.host:
            return False
        if self.bearer_ok(request):
            return True
        expected = self.csrf_for(sid)
        given = request.headers.get(CSRF_HEADER)
        if given is None and request.content_type in (
            "application/x-www-form-urlencoded",
            "multipart/form-data",
        ):
            field = (await request.post()).get(CSRF_FIELD)
            given = field if isinstance(field, str) else None
        if given is not None:
            return hmac.compare_digest(given, expected)
        # No cookie, no Origin, no fetch metadata: a program, not a browser acting for a foreign page.
        browser = origin or "Sec-Fetch-Site" in request.headers
        return sid_is_new and not browser


GUARD_KEY = web.AppKey("fastimport.guard", Guard)
SID_KEY = web.RequestKey("fastimport.sid", str)


def set_session_cookie(response: web.StreamResponse, sid: str, secure: bool) -> None:
    response.set_cookie(SESSION_COOKIE, sid, httponly=True, samesite="Strict", path="/", secure=secure)


def json_error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def _is_api(request: web.Request) -> bool:
    return request.path.startswith("/api/")


@web.middleware
async def guard_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path.startswith(OPEN_PREFIXES):
        return await handler(request)
    guard = request.app[GUARD_KEY]
    sid = request.cookies.get(SESSION_COOKIE, "")
    new = not (20 <= len(sid) <= 64 and sid.replace("-", "").replace("_", "").isalnum())
    if new:
        sid = secrets.token_urlsafe(32)
    request[SID_KEY] = sid
    try:
        response = await _guarded(request, handler, guard, sid, new)
    except web.HTTPException as exc:
        if new and SESSION_COOKIE not in exc.cookies:
            set_session_cookie(exc, sid, request.secure)
        raise
    if new and SESSION_COOKIE not in response.cookies:
        set_session_cookie(response, sid, request.secure)
    return response


async def _guarded(
    request: web.Request, handler: Handler, guard: Guard, sid: str, new: bool
) -> web.StreamResponse:
    from fastimport.web.context import MESSAGES_KEY
    from fastimport.web.i18n import Messages

    messages: Messages = request.app[MESSAGES_KEY]
    if request.path != LOGIN_PATH and not guard.authenticated(request, sid):
        if _is_api(request):
            return json_error(401, messages.gettext("Sign in first: this till page needs its access token."))
        response = aiohttp_jinja2.render_template(
            "login.html", request, {"csrf": guard.csrf_for(sid), "failed": False}, status=401
        )
        return response
    if request.method in UNSAFE_METHODS and not await guard.csrf_ok(request, sid, new):
        text = messages.gettext("This form has expired: reload the page and try again.")
        if _is_api(request):
            return json_error(403, text)
        return web.Response(status=403, text=text, content_type="text/plain")
    return await handler(request)


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """API errors as JSON ``{"error": ...}``; a library refusal is a 400/404/409, a crash a 500."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if not _is_api(request) or exc.status < 400:
            raise
        return json_error(exc.status, exc.text or exc.reason)
    except FastImportError as exc:
        if not _is_api(request):
            raise web.HTTPBadRequest(text=exc.message) from exc
        text = exc.message
        status = (
            404 if text.startswith(("no order", "no such")) else 400 if isinstance(exc, ConfigError) else 409
        )
        return json_error(status, text)
    except Exception:
        log.exception("till page: %s %s failed", request.method, request.path)
        if _is_api(request):
            return json_error(500, "internal error: see the server's log")
        raise
