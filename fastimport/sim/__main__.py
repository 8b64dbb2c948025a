"""``python -m fastimport.sim``: serve a simulated WooCommerce shop."""

import sys

from fastimport.sim.cli import main

sys.exit(main())
