"""Write the fuzzer's seed corpus: real pages of the simulated shops, and a few hostile ones.

``python -m tests.fuzz.seeds`` starts the simulated shop of each platform on loopback, reads its
first pages through the platform's own connector (real HTTP, as an import does) and writes each
page to ``tests/fuzz/seeds/``, next to hand-made pages with the hostile bytes the fuzzer should
start from (a BOM, a lone surrogate escape, 1e400, deep nesting, NaN...).  The seeds are kept in
git: run this again only when the shops' page shapes change.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
from pathlib import Path

import aiohttp

from fastimport.config import parse_config
from fastimport.io.fetcher import Fetcher
from fastimport.io.registry import connector_for
from fastimport.ranges import ImportRange
from fastimport.sim import SimOptions, SimShop

SEEDS = Path(__file__).resolve().parent / "seeds"
START = dt.datetime(2024, 3, 4, tzinfo=dt.UTC)
END = START + dt.timedelta(days=7)
_SECRETS = {"woocommerce": ("secret_env", "consumer_secret"), "shopify": ("token_env", "shopify_token"),
            "prestashop": ("key_env", "prestashop_key")}  # fmt: skip

# Hand-made pages: every hostile shape the issue names, for the mutator to start from.
HOSTILE: dict[str, bytes] = {
    "bom": b'\xef\xbb\xbf[{"id": 1}]',
    "lone-surrogate": b'[{"id": 1, "s": "\\ud800", "number": "\\udc00x", "items": [{"q": 1}]}]',
    "pair-surrogate": b'[{"id": 1, "s": "\\ud83d\\ude00"}]',
    "invalid-utf8": b'[{"id": 1, "s": "\xc3\x28\xed\xa0\x80\xf8\x88\x80\x80\x80"}]',
    "numbers": b'[{"id": 9223372036854775807, "i": -0, "m": 1e400, "p": -0.0, "items": [{"q": 18446744073709551616, "p": 1E-400}]}]',
    "money-edges": b'[{"id": 1, "m": "92233720368547758.07", "items": [{"q": 1, "p": "-92233720368547758.09"}]}]',
    "constants": b'[{"id": 1, "m": NaN, "i": Infinity, "b": -Infinity}]',
    "duplicates": b'[{"id": 1, "id": "x", "items": [{"q": 1}], "items": {"q": 2}, "items": [{"q": 3, "q": null}]}]',
    "controls": b'[{"id": 1, "s": "\\u0000\\u001b@\\u001bp\\u0000\\u0019\\u00fa\\u001dV\\u0000\\u202e\\u200f"}]',
    "raw-controls": b'[{"id": 1, "s": "a\x00b\x1bc\x7f"}]',
    "truncated": b'[{"id": 1, "items": [{"q": 1}, {"q"',
    "wrong-types": b'[{"id": {}, "d": 5, "b": "true", "m": [], "a": {"b": {"1": 2}}, "items": "x"}]',
    "deep": b"[" * 300 + b"]" * 300,
    "deep-object": b'{"orders": ' + b'{"a": ' * 300 + b"1" + b"}" * 301,
    "shopify-empty": b'{"orders": [{"id": 1, "line_items": [], "billing_address": [], "refunds": [{}]}]}',
    "woocommerce-refunds": b'[{"id": 1, "refunds": [{"id": "x", "total": "NaN"}], "billing": [1], "fee_lines": [1]}]',
}


async def _pages(platform: str, pages: int) -> list[bytes]:
    options = SimOptions(
        platform=platform, orders=12, seed=7, start=START, end=END, shopify_bucket=400, shopify_leak=20.0
    )
    shop = SimShop(options)
    url = await shop.start()
    env_key, option = _SECRETS[platform]
    os.environ["FASTIMPORT_SEED_SECRET"] = str(getattr(options, option))
    table = {"name": "seed", "platform": platform, "url": url, "timezone": "Europe/Paris", "per_page": 2,
             env_key: "FASTIMPORT_SEED_SECRET"}  # fmt: skip
    if platform == "woocommerce":
        os.environ["FASTIMPORT_SEED_KEY"] = options.consumer_key
        table["key_env"] = "FASTIMPORT_SEED_KEY"
    store = parse_config({"database": {"path": "unused.duckdb"}, "stores": [table]}).stores[0]
    found: list[bytes] = []
    try:
        async with aiohttp.ClientSession() as session:
            async for page in connector_for(store).pages(
                Fetcher(session, retries=1), ImportRange(START, END, "created", "range")
            ):
                found.append(page.body)
                if len(found) == pages:
                    break
    finally:
        await shop.stop()
    return found


def write(pages: int) -> list[Path]:
    SEEDS.mkdir(exist_ok=True)
    written = []
    for platform in ("woocommerce", "shopify", "prestashop"):
        for n, body in enumerate(asyncio.run(_pages(platform, pages)), 1):
            written.append(SEEDS / f"{platform}-{n}.json")
            written[-1].write_bytes(body)
    for name, body in HOSTILE.items():
        written.append(SEEDS / f"hostile-{name}.json")
        written[-1].write_bytes(body)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fuzz.seeds", description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=3, help="pages kept per platform (2 orders each)")
    args = parser.parse_args(argv)
    for path in write(args.pages):
        print(f"{path.name}: {path.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
