"""Seeded fault injection: random 500s, hangs (client timeouts) and 429s on Bot API calls."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field

ERROR = "error"
HANG = "hang"
TOO_MANY = "too_many"


@dataclass
class FaultConfig:
    """Shares of calls (0..1, summing to at most 1) that get each fault.

    ``error_rate``: answered ``500 Internal Server Error``; ``hang_rate``: held for
    ``hang_seconds`` and then answered ``502 Bad Gateway`` (a client with a shorter read timeout
    sees a timeout); ``too_many_rate``: answered ``429`` with ``retry_after``. ``methods``
    restricts faults to those methods (case-insensitive); None means all.
    """

    error_rate: float = 0.0
    hang_rate: float = 0.0
    hang_seconds: float = 10.0
    too_many_rate: float = 0.0
    retry_after: int = 1
    methods: frozenset[str] | None = None
    counts: Counter[str] = field(default_factory=Counter)


class FaultInjector:
    """Decides, call by call, whether a fault is injected (deterministic for a given seed)."""

    def __init__(self, seed: int = 0):
        self.config = FaultConfig()
        self._random = random.Random(seed)

    def configure(
        self,
        *,
        error_rate: float = 0.0,
        hang_rate: float = 0.0,
        hang_seconds: float = 10.0,
        too_many_rate: float = 0.0,
        retry_after: int = 1,
        methods: list[str] | None = None,
        seed: int | None = None,
    ) -> None:
        """Replace the fault settings; all rates 0 (the default) turns faults off."""
        rates = (error_rate, hang_rate, too_many_rate)
        if any(not 0 <= r <= 1 for r in rates) or sum(rates) > 1:
            raise ValueError("fault rates must be within 0..1 and sum to at most 1")
        if hang_seconds < 0 or retry_after < 1:
            raise ValueError("hang_seconds must be >= 0 and retry_after >= 1")
        self.config = FaultConfig(
            error_rate,
            hang_rate,
            hang_seconds,
            too_many_rate,
            retry_after,
            frozenset(m.lower() for m in methods) if methods else None,
        )
        if seed is not None:
            self._random.seed(seed)

    @property
    def enabled(self) -> bool:
        """True when any rate is non-zero."""
        cfg = self.config
        return bool(cfg.error_rate or cfg.hang_rate or cfg.too_many_rate)

    def decide(self, method: str) -> str | None:
        """The fault for this call (ERROR, HANG, TOO_MANY) or None."""
        cfg = self.config
        if not self.enabled or (cfg.methods is not None and method.lower() not in cfg.methods):
            return None
        draw = self._random.random()
        for kind, rate in (
            (ERROR, cfg.error_rate),
            (HANG, cfg.hang_rate),
            (TOO_MANY, cfg.too_many_rate),
        ):
            if draw < rate:
                cfg.counts[kind] += 1
                return kind
            draw -= rate
        return None
