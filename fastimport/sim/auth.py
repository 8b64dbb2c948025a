"""WooCommerce REST authentication: HTTP Basic, query-string keys, one-legged OAuth 1.0a.

Returns None when the request may proceed, else (status, WooCommerce error body).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from urllib.parse import quote, unquote

from aiohttp import web

OAUTH_WINDOW = 15 * 60  # WooCommerce refuses timestamps more than 15 minutes off
Error = tuple[int, dict[str, object]]


def _error(code: str, message: str, status: int = 401) -> Error:
    return status, {"code": code, "message": message, "data": {"status": status}}


def _enc(text: str) -> str:
    """RFC 5849 §3.6 percent-encoding (unreserved characters kept)."""
    return quote(text, safe="-._~")


def base_string(method: str, url: str, params: list[tuple[str, str]]) -> str:
    """RFC 5849 §3.4.1 signature base string (``url`` without query; oauth_signature excluded)."""
    pairs = sorted((_enc(k), _enc(v)) for k, v in params if k != "oauth_signature")
    normalized = "&".join(f"{k}={v}" for k, v in pairs)
    return "&".join((method.upper(), _enc(url), _enc(normalized)))


def sign(method: str, url: str, params: list[tuple[str, str]], secret: str, algo: str = "HMAC-SHA1") -> str:
    digest = hashlib.sha256 if algo == "HMAC-SHA256" else hashlib.sha1
    key = (_enc(secret) + "&").encode()
    mac = hmac.new(key, base_string(method, url, params).encode(), digest).digest()
    return base64.b64encode(mac).decode()


def _header_params(header: str) -> list[tuple[str, str]]:
    out = []
    for part in header[len("OAuth ") :].split(","):
        if "=" in part:
            key, value = part.strip().split("=", 1)
            if key != "realm":
                out.append((unquote(key), unquote(value.strip('"'))))
    return out


class Authenticator:
    def __init__(self, key: str, secret: str) -> None:
        self.key = key
        self.secret = secret
        self._nonces: set[tuple[str, str]] = set()

    def check(self, request: web.Request) -> Error | None:
        header = request.headers.get("Authorization", "")
        query = request.query
        if header.startswith("Basic "):
            try:
                user, _, password = base64.b64decode(header[6:]).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                return _error("woocommerce_rest_authentication_error", "Consumer key is invalid.")
            return self._keys(user, password)
        if "consumer_key" in query:
            return self._keys(query["consumer_key"], query.get("consumer_secret", ""))
        if header.startswith("OAuth ") or "oauth_consumer_key" in query:
            return self._oauth(request, header)
        return _error("woocommerce_rest_cannot_view", "Sorry, you cannot list resources.")

    def _keys(self, key: str, secret: str) -> Error | None:
        if not hmac.compare_digest(key, self.key):
            return _error("woocommerce_rest_authentication_error", "Consumer key is invalid.")
        if not hmac.compare_digest(secret, self.secret):
            return _error("woocommerce_rest_authentication_error", "Consumer secret is invalid.")
        return None

    def _oauth(self, request: web.Request, header: str) -> Error | None:
        params = [(k, v) for k, v in request.query.items()]
        if header.startswith("OAuth "):
            params += _header_params(header)
        found = dict(params)
        for name in (
            "oauth_consumer_key",
            "oauth_timestamp",
            "oauth_nonce",
            "oauth_signature",
            "oauth_signature_method",
        ):
            if not found.get(name):
                return _error("woocommerce_rest_authentication_error", f"{name} parameter is missing.")
        if not hmac.compare_digest(found["oauth_consumer_key"], self.key):
            return _error("woocommerce_rest_authentication_error", "Consumer key is invalid.")
        algo = found["oauth_signature_method"]
        if algo not in ("HMAC-SHA1", "HMAC-SHA256"):
            return _error(
                "woocommerce_rest_authentication_error", "Invalid signature - signature method is invalid."
            )
        url = f"{request.scheme}://{request.host.lower()}{request.path}"
        expected = sign(request.method, url, params, self.secret, algo)
        if not hmac.compare_digest(expected, found["oauth_signature"]):
            return _error(
                "woocommerce_rest_authentication_error",
                "Invalid signature - provided signature does not match.",
            )
        try:
            stamp = int(found["oauth_timestamp"])
        except ValueError:
            stamp = 0
        if abs(time.time() - stamp) > OAUTH_WINDOW:
            return _error("woocommerce_rest_authentication_error", "Invalid timestamp.")
        nonce = (found["oauth_nonce"], found["oauth_timestamp"])
        if nonce in self._nonces:
            return _error(
                "woocommerce_rest_authentication_error", "Invalid nonce - nonce has already been used."
            )
        self._nonces.add(nonce)
        return None
