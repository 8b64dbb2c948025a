"""A simulated WooCommerce shop (REST API v3) on loopback, for the demo, the tests and the benchmarks.

async:  shop = SimShop(SimOptions(orders=1000)); url = await shop.start(); ...; await shop.stop()
sync:   with SimShopThread(SimOptions()) as url: ...
"""

from fastimport.sim.faults import FaultPlan
from fastimport.sim.options import SimOptions
from fastimport.sim.server import SimShop, SimShopThread

__all__ = ["FaultPlan", "SimOptions", "SimShop", "SimShopThread"]
