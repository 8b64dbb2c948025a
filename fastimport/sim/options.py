"""Settings of a simulated shop (one frozen dataclass, shared by the server, the CLI and the tests)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta


@dataclass(frozen=True)
class SimOptions:
    """What the simulated shop holds, which platform it speaks and how badly it behaves.

    ``platform`` is "woocommerce", "shopify" or "prestashop": the same generated orders
    (the ground truth) are served in that platform's API and shapes.

    ``start``/``end`` bound the creation dates of the generated orders (UTC aware);
    by default the last 7 days up to now, rounded down to the minute.
    """

    orders: int = 200
    platform: str = "woocommerce"
    seed: int = 42
    timezone: str = "Europe/Paris"
    start: datetime | None = None
    end: datetime | None = None
    latency: float = 0.0
    max_concurrency: int = 0
    faults: str = ""
    consumer_key: str = "ck_test"
    consumer_secret: str = "cs_test"
    shopify_token: str = "shpat_test"
    shopify_bucket: int = 40  # leaky bucket size (Standard plan)
    shopify_leak: float = 2.0  # calls per second leaking out (Standard plan)
    shopify_bulk_seconds: float = 0.3  # how long a bulk operation runs
    shopify_bulk_outcome: str = "COMPLETED"  # or "FAILED", "EXPIRED"
    shopify_bulk_drop_after: int = 0  # bytes: a bulk file's first download breaks off after them
    shopify_bulk_cut_at: int = 0  # bytes: a bulk file keeps only its first bytes (damaged at the source)
    # Shopify's ``taxes_included``: prices hold the VAT (French default) or the VAT is added on top.
    shopify_taxes_included: bool = True
    prestashop_key: str = "PSWSKEYTESTPSWSKEYTESTPSWSKEY0001"
    create_during_pagination: int = 0
    modify_during_pagination: int = 0
    unknown_sku_rate: float = 0.05
    guest_rate: float = 0.2
    # WordPress's wp_json_encode escapes "/" as "\/" and non-ASCII as "\uXXXX": keep it, so parsers meet it.
    php_escapes: bool = True
    # Render every order's JSON at start() so the first pass over a big shop is as fast as the next.
    prerender: bool = True
    # Push each order created, modified or deleted through the controls to this URL, as the
    # platform's webhooks do (WooCommerce and Shopify), signed with ``webhook_secret``; a failed
    # delivery is retried ``webhook_retries`` times, waiting webhook_backoff × 2^attempt seconds.
    webhook_url: str = ""
    webhook_secret: str = ""
    webhook_retries: int = 5
    webhook_backoff: float = 1.0
    # WooCommerce 9.0's ``GET /wp-json/wc/v3/refunds`` (refunds across orders, by id): False plays an older shop
    # (404 ``rest_no_route``); ``woo_refunds_ignore_include`` one whose plugins drop ``include`` (lists them all).
    woo_refunds_listing: bool = True
    woo_refunds_ignore_include: bool = False

    def window(self) -> tuple[datetime, datetime]:
        """The [start, end) creation window of the generated orders, both UTC aware."""
        end = self.end
        if end is None:
            end = datetime.now(UTC).replace(second=0, microsecond=0)
        start = self.start if self.start is not None else end - timedelta(days=7)
        if start.tzinfo is None or end.tzinfo is None:
            raise ValueError("SimOptions.start and .end must be timezone-aware (UTC)")
        if end <= start:
            raise ValueError("SimOptions.end must be after .start")
        return start.astimezone(UTC), end.astimezone(UTC)
