"""Command line: ``fastimport sim`` / ``python -m fastimport.sim`` serve a simulated shop until stopped."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from datetime import UTC, datetime, timedelta

import orjson

from fastimport.sim.options import SimOptions
from fastimport.sim.server import SimShop


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="fastimport sim",
        description="Serve a simulated shop on loopback: WooCommerce (REST v3), Shopify (Admin REST and "
        "GraphQL bulk) or PrestaShop (webservice), with their real URLs, auth, paging and errors.",
    )
    p.add_argument("--orders", type=int, default=200, help="number of generated orders (default 200)")
    p.add_argument("--seed", type=int, default=42, help="seed of the generated data (default 42)")
    p.add_argument("--timezone", default="Europe/Paris", help="the shop's site time zone (IANA)")
    p.add_argument("--days", type=float, default=7.0, help="orders are spread over the last DAYS days")
    p.add_argument("--latency", type=float, default=0.0, help="seconds added to every API request")
    p.add_argument(
        "--max-concurrency", type=int, default=0, help="503 beyond this many requests (0 = no limit)"
    )
    p.add_argument("--faults", default="", help='fault plan for /orders listings, e.g. "500:2,429@0.2,stall"')
    p.add_argument("--port", type=int, default=0, help="port to listen on (default: any free port)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument(
        "--platform",
        choices=("woocommerce", "shopify", "prestashop"),
        default="woocommerce",
        help="the protocol the shop speaks (default woocommerce; credentials: ck_test/cs_test, "
        "Shopify token shpat_test, PrestaShop key PSWSKEYTESTPSWSKEYTESTPSWSKEY0001)",
    )
    p.add_argument(
        "--webhook-url", default="", help="push order changes to this URL as the platform's webhooks"
    )
    p.add_argument("--webhook-secret", default="", help="the secret signing the webhooks")
    p.add_argument("--webhook-retries", type=int, default=5, help="retries of a failed delivery (default 5)")
    p.add_argument(
        "--webhook-backoff", type=float, default=1.0, help="seconds before the first retry, doubling"
    )
    p.add_argument("--dump-truth", metavar="FILE", help="write the ground truth (JSON) to FILE at start")
    p.add_argument(
        "--woo-refunds",
        choices=tuple(WOO_REFUNDS),
        default="listing",
        help="WooCommerce refunds across orders (GET /refunds): 'listing' as 9.0+ serves it (default), "
        "'per-order' a shop without the route (404 rest_no_route), 'ignores-include' one whose plugins "
        "drop include and list every refund",
    )
    return p


# --woo-refunds -> (SimOptions.woo_refunds_listing, SimOptions.woo_refunds_ignore_include)
WOO_REFUNDS = {"listing": (True, False), "per-order": (False, False), "ignores-include": (True, True)}


async def _serve(options: SimOptions, host: str, port: int, dump: str | None) -> None:
    shop = SimShop(options)
    url = await shop.start(port, host)
    if dump:
        with open(dump, "wb") as fh:
            fh.write(orjson.dumps(shop.truth()))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    print(url, flush=True)  # only once Ctrl-C stops the shop cleanly: a script may send it at once
    try:
        await stop.wait()
    finally:
        await shop.stop()


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    end = datetime.now(UTC).replace(second=0, microsecond=0)
    try:
        options = SimOptions(
            platform=args.platform,
            orders=args.orders,
            seed=args.seed,
            timezone=args.timezone,
            start=end - timedelta(days=args.days),
            end=end,
            latency=args.latency,
            max_concurrency=args.max_concurrency,
            faults=args.faults,
            webhook_url=args.webhook_url,
            webhook_secret=args.webhook_secret,
            webhook_retries=args.webhook_retries,
            webhook_backoff=args.webhook_backoff,
            woo_refunds_listing=WOO_REFUNDS[args.woo_refunds][0],
            woo_refunds_ignore_include=WOO_REFUNDS[args.woo_refunds][1],
        )
        asyncio.run(_serve(options, args.host, args.port, args.dump_truth))
    except (ValueError, OSError, KeyError) as err:  # KeyError: unknown time zone
        print(f"fastimport sim: {err}", file=sys.stderr)
        return 2
    return 0
