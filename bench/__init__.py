"""fastimport's benchmarks: ``python -m bench`` (all workloads) and ``python -m bench --check`` (CI).

Kept out of the test suite.  The simulated shop runs in its own process, and so
does every measured peer, so each one's time and peak RSS are its own.
"""
