"""A faulty network between fastimport and the shop (``tests/chaos/proxy.py``): each import ends exact, or
stops with one plain line and keeps only whole orders; once the network heals a re-run is exact."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.chaos import harness
from tests.chaos.harness import check, command
from tests.chaos.proxy import FaultyProxy
from tests.conftest import ShopFactory, subprocess_env, write_config_file
from tests.test_processing_support import W0, W1

pytestmark = pytest.mark.chaos
SINCE, UNTIL = "2026-03-23", "2026-03-31"


@pytest.mark.parametrize("platform", ["woocommerce", "shopify", "prestashop"])
async def test_import_through_a_faulty_network(
    tmp_path: Path, shop_factory: ShopFactory, platform: str
) -> None:
    rng, shop, url = await harness.seeded_shop(f"network-{platform}", shop_factory, 200)
    proxy = FaultyProxy(int(urlsplit(url).port or 80), rng, rate=0.3)
    proxied = await proxy.start()
    config = write_config_file(tmp_path, url, per_page=20, concurrency=2, timeout=1, retries=3)
    config.write_text(config.read_text().replace(url, proxied))
    argv = command(config, "import", "--since", SINCE, "--until", UNTIL)
    db = tmp_path / "till.duckdb"
    outcomes = []
    try:
        for _ in range(harness.runs()):
            code, _, err = await harness.run(argv, subprocess_env())
            outcomes.append(code if code == 0 else err.strip())
            check(code in (0, 1), f"exit {code}: {err}")
            check("Traceback" not in err and (code == 0 or err.startswith("fastimport: ")), err)
            harness.check_orders(db, shop, W0, W1, partial=code != 0)
        proxy.rate = 0.0  # the network heals
        code, _, err = await harness.run(argv, subprocess_env())
        check(code == 0, err)
        harness.check_orders(db, shop, W0, W1)
    finally:
        await proxy.stop()
        harness.FIGURES.faults += sum(proxy.injected.values())
    print(f"{platform}: exits {outcomes}, faults {dict(proxy.injected)}")
    check(sum(proxy.injected.values()) > 0, "no fault fired: the test proved nothing")
