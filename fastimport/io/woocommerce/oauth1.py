"""One-legged OAuth 1.0a request signing (RFC 5849), as WooCommerce accepts over plain HTTP."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from urllib.parse import quote


def _enc(value: str) -> str:
    return quote(value, safe="~-._")


def sign(
    method: str,
    url: str,
    params: list[tuple[str, str]],
    consumer_key: str,
    consumer_secret: str,
    *,
    algorithm: str = "HMAC-SHA256",
    timestamp: int | None = None,
    nonce: str | None = None,
) -> list[tuple[str, str]]:
    """Return ``params`` plus the oauth_* parameters, signature included (query-string form)."""
    oauth = [
        ("oauth_consumer_key", consumer_key),
        ("oauth_nonce", nonce or secrets.token_hex(16)),
        ("oauth_signature_method", algorithm),
        ("oauth_timestamp", str(timestamp if timestamp is not None else int(time.time()))),
    ]
    everything = params + oauth
    # RFC 5849 3.4.1.3.2: encode each name and value, sort by the encoded pairs, join, then encode the whole.
    normalized = "&".join(f"{k}={v}" for k, v in sorted((_enc(k), _enc(v)) for k, v in everything))
    base = "&".join([method.upper(), _enc(url), _enc(normalized)])
    digest = hashlib.sha256 if algorithm == "HMAC-SHA256" else hashlib.sha1
    key = f"{_enc(consumer_secret)}&".encode()
    signature = base64.b64encode(hmac.new(key, base.encode(), digest).digest()).decode()
    return [*everything, ("oauth_signature", signature)]
