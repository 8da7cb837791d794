"""Fault injection for the sandbox: SANDBOX_FAULTS="throttle=0.2,error=0.05,slow=0.1".

Keys: `throttle` (fraction of calls answered ThrottlingException), `error` (fraction answered
InternalServerException, HTTP 500), `slow` (fraction delayed by `slow_seconds`, default 2),
`seed` (make the draws repeatable). Fractions are between 0 and 1.
"""

from __future__ import annotations

import functools
import random
import threading
import time
from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured

_KEYS = {"throttle", "error", "slow", "slow_seconds", "seed"}


@dataclass(frozen=True)
class Faults:
    throttle: float = 0.0
    error: float = 0.0
    slow: float = 0.0
    slow_seconds: float = 2.0
    seed: int | None = None


@functools.cache
def parse(spec: str) -> Faults:
    values: dict[str, float] = {}
    for item in filter(None, (part.strip() for part in spec.split(","))):
        key, _, raw = item.partition("=")
        key = key.strip()
        if key not in _KEYS:
            raise ImproperlyConfigured(
                f"SANDBOX_FAULTS: unknown key {key!r}; use {', '.join(sorted(_KEYS))}"
            )
        try:
            values[key] = float(raw)
        except ValueError:
            raise ImproperlyConfigured(
                f"SANDBOX_FAULTS: {key} needs a number, not {raw!r}"
            ) from None
        if key in ("throttle", "error", "slow") and not 0 <= values[key] <= 1:
            raise ImproperlyConfigured(f"SANDBOX_FAULTS: {key} must be between 0 and 1")
    seed = values.pop("seed", None)
    return Faults(**values, seed=None if seed is None else int(seed))


_lock = threading.Lock()
_rngs: dict[str, random.Random] = {}


def _rng(spec: str, seed: int | None) -> random.Random:
    with _lock:
        if spec not in _rngs:
            _rngs[spec] = random.Random(seed)
        return _rngs[spec]


@dataclass(frozen=True)
class Fault:
    kind: str
    seconds: float = 0.0

    def apply(self, operation: str) -> None:
        from .wire import SandboxError

        if self.kind == "slow":
            time.sleep(self.seconds)
        elif self.kind == "throttle":
            raise SandboxError("ThrottlingException", f"Rate exceeded for {operation}")
        elif self.kind == "error":
            raise SandboxError(
                "InternalServerException", f"{operation} failed on the server (injected fault)"
            )


def draw(spec: str) -> Fault | None:
    """The fault this call suffers, if any."""
    if not spec:
        return None
    faults = parse(spec)
    roll = _rng(spec, faults.seed).random()
    if roll < faults.throttle:
        return Fault("throttle")
    roll -= faults.throttle
    if roll < faults.error:
        return Fault("error")
    roll -= faults.error
    if roll < faults.slow:
        return Fault("slow", faults.slow_seconds)
    return None
