"""Fault injection for /orders listings: what a struggling WordPress host answers.

Spec grammar (comma-separated, consumed left to right, one fault per listing request)::

    spec   := item ("," item)*
    item   := kind [":" count]          queued: the next `count` (default 1) requests get `kind`
            | "rate:" prob ":" kind     from then on, each request gets `kind` with probability prob
            | "always:" kind            from then on, every request gets `kind`
    kind   := "500" | "502" | "504" | any 3-digit status   (500: WordPress JSON error; others: HTML)
            | "429" ["@" seconds]       429 with Retry-After (default 1)
            | "503html"                 503 with an HTML page, like an overloaded host
            | "truncated"               200 whose JSON body stops in the middle
            | "captcha"                 202 with a SiteGround SG-Captcha HTML page
            | "stall" ["@" seconds]     no answer for 3600 s (or `seconds`), until the shop stops

Queued faults come first; ``rate`` draws from an RNG seeded by the shop's seed.
"""

from __future__ import annotations

import random
import re
from collections import deque
from dataclasses import dataclass

_KIND = re.compile(r"^(?:(\d{3})|(429)@([\d.]+)|(503html|truncated|captcha)|(stall)(?:@([\d.]+))?)$")


@dataclass(frozen=True)
class Fault:
    kind: str  # "status", "429", "503html", "truncated", "captcha", "stall"
    status: int = 0
    seconds: float = 0.0


def parse_kind(text: str) -> Fault:
    m = _KIND.match(text.strip())
    if not m:
        raise ValueError(f"unknown fault kind {text!r}")
    code, _, retry, named, stall, stall_for = m.groups()
    if code == "429":
        return Fault("429", 429, 1.0)
    if code:
        return Fault("status", int(code))
    if retry:
        return Fault("429", 429, float(retry))
    if named:
        return Fault(named, {"503html": 503, "truncated": 200, "captcha": 202}[named])
    assert stall
    return Fault("stall", 0, float(stall_for) if stall_for else 3600.0)


class FaultPlan:
    def __init__(self, spec: str = "", seed: int = 0) -> None:
        self._rng = random.Random(seed * 13 + 5)
        self.queue: deque[Fault] = deque()
        self.always: Fault | None = None
        self.rate: tuple[float, Fault] | None = None
        self.load(spec)

    def load(self, spec: str) -> None:
        """Replace the plan (raises ValueError on a bad spec, leaving the old plan intact)."""
        queue: deque[Fault] = deque()
        always: Fault | None = None
        rate: tuple[float, Fault] | None = None
        for raw in filter(None, (part.strip() for part in spec.split(","))):
            if raw.startswith("always:"):
                always = parse_kind(raw[len("always:") :])
            elif raw.startswith("rate:"):
                _, prob, kind = raw.split(":", 2)
                rate = (float(prob), parse_kind(kind))
            else:
                kind, _, count = raw.partition(":")
                queue.extend([parse_kind(kind)] * (int(count) if count else 1))
        self.queue, self.always, self.rate = queue, always, rate

    def next(self) -> Fault | None:
        if self.queue:
            return self.queue.popleft()
        if self.always is not None:
            return self.always
        if self.rate is not None and self._rng.random() < self.rate[0]:
            return self.rate[1]
        return None
