"""``bench --check``'s verdicts: the peer gate pools each peer's rounds (orders over seconds, all rounds)."""

from __future__ import annotations

from typing import Any

from bench import check

NATIVE = {"core": "native", "core_module": "fastimport._core", "stages": {"parse": 0.1, "dedup": 0.0}}


def _run(orders: int, seconds: float, peak: float = 200.0, **extra: Any) -> dict[str, Any]:
    return {"orders": orders, "seconds": seconds, "peak_rss_mb": peak, **extra}


def _results(native: list[float], competent: list[float], peaks: tuple[float, ...] = ()) -> dict[str, Any]:
    """Each peer's rounds on the large shop as seconds for its orders; the small shop's gates pass."""
    results = {
        "ceiling-fetch": _run(20_000, 0.5),
        "fastimport-native": _run(20_000, 2.0, **NATIVE),
        "fastimport-python": _run(5_000, 2.0, stages={"parse": 1.0, "dedup": 0.0}),
    }
    orders = check.MEMORY_ORDERS
    for n, seconds in enumerate(native, start=1):
        peak = peaks[n - 1] if peaks else 300.0
        results[check.MEMORY_PEER if n == 1 else f"{check.MEMORY_PEER}#{n}"] = _run(
            orders, seconds, peak, **NATIVE
        )
    for n, seconds in enumerate(competent, start=1):
        results[check.PEER_KEY if n == 1 else f"{check.PEER_KEY}#{n}"] = _run(orders, seconds, 1400.0)
    return results


def _peer_failures(results: dict[str, Any]) -> list[str]:
    return [f for f in check.verdicts(results) if "straightforward peer" in f]


def test_one_slow_round_is_pooled_with_the_other() -> None:
    results = _results(native=[20.0, 10.0], competent=[35.0, 35.0])
    # The first round alone is 1.75×; pooled, 70 s against 30 s for the same orders: 2.33×.
    assert check.rounds(results, check.PEER_KEY) == 2
    assert round(check.peer_ratio(results), 2) == 2.33
    assert not _peer_failures(results)


def test_a_peer_ratio_below_the_minimum_over_all_rounds_fails_in_plain_words() -> None:
    failures = _peer_failures(_results(native=[20.0, 20.0], competent=[30.0, 30.0]))
    assert len(failures) == 1
    assert (
        "1.50× the straightforward peer" in failures[0] and "over 2 rounds of 200,000 orders" in failures[0]
    )


def test_every_round_of_the_large_import_is_held_to_the_memory_limit() -> None:
    results = _results(native=[10.0, 10.0], competent=[30.0, 30.0], peaks=(350.0, 420.0))
    memory = [f for f in check.verdicts(results) if "peaked" in f]
    assert memory == ["the native import of 200,000 orders peaked at 420 MB of memory (maximum 400 MB)"]


def test_the_small_shops_import_is_not_a_round_of_the_large_one() -> None:
    results = _results(native=[10.0], competent=[30.0])
    assert check.rounds(results, check.MEMORY_PEER) == 1
    assert check.pooled_rate(results, check.MEMORY_PEER) == 20_000
