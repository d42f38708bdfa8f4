"""The added round-trip delay's distributions (``--rtt-delay``): parsed once, here.

A value of ``--rtt-delay`` is one of

- ``none`` (or ``0``): no proxy;
- ``MS``: a fixed delay, e.g. ``40``;
- ``MS:JITTER_MS``: uniform in [MS - JITTER, MS + JITTER], e.g. ``40:5``;
- ``lognormal:MEAN:P95`` (milliseconds; ``lognormal:mean=44ms:p95=110ms`` reads the same):
  a lognormal delay with that mean and 95th percentile, e.g. ``lognormal:44:110``;
- ``file:PATH``: an empirical delay, drawn with replacement from the delays (ms, one per
  line, ``#`` comments) in PATH.

Parts are separated by ``:`` because the flag's list is split on commas. A drawn delay comes
from one generator seeded with 42 (``:seed=N`` after the parts sets another), so a proxy's
sequence of delays is the same from run to run. ``DelaySpec.describe()`` is what run.json and
the manifest record as applied (for a lognormal its mu and sigma, derived in ``fit_lognormal``).
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from statistics import NormalDist, fmean
from typing import Any

__all__ = ["DEFAULT_SEED", "MAX_DELAY_MS", "Z95", "DelayError", "DelaySpec", "fit_lognormal",
           "fit_lognormal_over", "parse_delay", "quantile"]

NONE = "none"
DEFAULT_SEED = 42
MAX_DELAY_MS = 10_000.0
Z95 = NormalDist().inv_cdf(0.95)  # 1.6448536...
_NUMBER = re.compile(r"(?:(mean|p95|seed)=)?([0-9]*\.?[0-9]+(?:e[+-]?\d+)?)(ms)?")


class DelayError(ValueError):
    """A delay that cannot be used; the message is one line."""


def fit_lognormal(mean_ms: float, p95_ms: float) -> tuple[float, float]:
    """(mu, sigma) of the lognormal with this mean and 95th percentile (ln X ~ N(mu, sigma^2)).

    mean = exp(mu + sigma^2/2) and p95 = exp(mu + z sigma), z = 1.6449, so
    sigma^2/2 - z sigma + ln(p95/mean) = 0: sigma = z - sqrt(z^2 - 2 ln(p95/mean)) (the smaller
    root, the one whose median lies below the mean by less); mu = ln(mean) - sigma^2/2. It
    exists when 1 < p95/mean <= exp(z^2/2) = 3.87. For 44 and 110: sigma 0.7105, mu 3.5318,
    median exp(mu) = 34.2 ms.
    """
    if not 0 < mean_ms < p95_ms:
        raise DelayError(f"a lognormal needs 0 < mean < p95, got mean {mean_ms:g}, "
                         f"p95 {p95_ms:g}")
    disc = Z95 * Z95 - 2 * math.log(p95_ms / mean_ms)
    if disc < 0:
        raise DelayError(f"no lognormal has p95/mean = {p95_ms / mean_ms:.2f}: at most "
                         f"{math.exp(Z95 * Z95 / 2):.2f}")
    sigma = Z95 - math.sqrt(disc)
    return math.log(mean_ms) - sigma * sigma / 2, sigma


def quantile(values: Sequence[float], fraction: float) -> float:
    """The ``fraction`` quantile of ``values`` (linear between order statistics)."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("no values")
    at = fraction * (len(ordered) - 1)
    low = int(at)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (at - low)


def fit_lognormal_over(mean_ms: float, p95_ms: float, base_ms: Sequence[float],
                       draws: int = 40_000, seed: int = DEFAULT_SEED) -> tuple[float, float]:
    """The delay's (mean, p95) such that delay + base has ``mean_ms`` and ``p95_ms``.

    ``base_ms`` are latencies measured without the delay (the service and the client), added
    to independent lognormal delays. The mean is exact: the delay's mean is ``mean_ms`` less the
    base's. The p95 is found by bisection on the delay's p95, each step the p95 of ``draws``
    sums: the delay at ``draws`` evenly spaced quantiles, each paired with a base value drawn
    from a fixed seed (so the answer is the same every time, and exact for a constant base).
    """
    base_mean = fmean(base_ms)
    delay_mean = mean_ms - base_mean
    if delay_mean <= 0:
        raise DelayError(f"the base's mean {base_mean:.1f} ms is not below {mean_ms:g} ms")
    rng = random.Random(seed)
    unit = NormalDist()
    normals = [unit.inv_cdf((i + 0.5) / draws) for i in range(draws)]  # stratified: no noise
    bases = [rng.choice(base_ms) for _ in range(draws)]  # paired at random with the base

    def total_p95(delay_p95: float) -> float:
        mu, sigma = fit_lognormal(delay_mean, delay_p95)
        return quantile([math.exp(mu + sigma * n) + b for n, b in zip(normals, bases,
                                                                       strict=True)], 0.95)

    low = delay_mean * 1.0001
    high = delay_mean * math.exp(Z95 * Z95 / 2) * 0.9999
    if not total_p95(low) <= p95_ms <= total_p95(high):
        raise DelayError(f"no lognormal delay of mean {delay_mean:.1f} ms brings the p95 to "
                         f"{p95_ms:g} ms over this base")
    for _ in range(40):
        middle = (low + high) / 2
        low, high = (middle, high) if total_p95(middle) < p95_ms else (low, middle)
    return delay_mean, (low + high) / 2


@dataclass(frozen=True)
class DelaySpec:
    """One added delay: its kind and parameters (milliseconds) and the seed of its draws."""

    kind: str  # fixed, uniform, lognormal, empirical
    mean_ms: float
    jitter_ms: float = 0.0  # uniform: the half-width
    p95_ms: float | None = None  # lognormal
    path: str | None = None  # empirical: the file as given
    samples: tuple[float, ...] = ()  # empirical: its delays
    seed: int = DEFAULT_SEED

    @property
    def value(self) -> str:
        """The delay as the sweep keeps it: ``10``, ``40:5``, ``lognormal:44:110``,
        ``file:PATH`` (``:seed=N`` when not the default)."""
        seed = f":seed={self.seed}" if self.seed != DEFAULT_SEED else ""
        if self.kind == "lognormal":
            return f"lognormal:{self.mean_ms:g}:{self.p95_ms:g}{seed}"
        if self.kind == "empirical":
            return f"file:{self.path}{seed}"
        return f"{self.mean_ms:g}" + (f":{self.jitter_ms:g}" if self.jitter_ms else "")

    @property
    def label(self) -> str:
        """``10 ms``, ``40±5 ms``, ``lognormal 44 ms, p95 110 ms``, ``file NAME (mean 43 ms)``."""
        if self.kind == "lognormal":
            return f"lognormal {self.mean_ms:g} ms, p95 {self.p95_ms:g} ms"
        if self.kind == "empirical":
            return f"file {Path(self.path or '').name} (mean {self.mean_ms:.3g} ms)"
        return f"{self.mean_ms:g}" + (f"±{self.jitter_ms:g}" if self.jitter_ms else "") + " ms"

    @property
    def tag(self) -> str:
        """The point id's tag: ``rtt10-``, ``rtt40j5-``, ``rttln44p110-``, ``rttfileNAME-``."""
        seed = f"s{self.seed}" if self.seed != DEFAULT_SEED else ""
        if self.kind == "lognormal":
            return f"rttln{self.mean_ms:g}p{self.p95_ms:g}{seed}-"
        if self.kind == "empirical":
            stem = re.sub(r"[^A-Za-z0-9]+", "", Path(self.path or "").stem)[:24]
            return f"rttfile{stem}{seed}-"
        return f"rtt{self.mean_ms:g}" + (f"j{self.jitter_ms:g}" if self.jitter_ms else "") + "-"

    def for_repeat(self, repeat: int) -> DelaySpec:
        """The spec a point's repeat draws from: seed + repeat - 1, so that repeats average
        over different draws while the classes and levels of one repeat share them (common
        random numbers: their comparison does not carry the delay's sampling noise)."""
        return replace(self, seed=self.seed + max(0, int(repeat) - 1))

    def sampler(self) -> Callable[[], float]:
        """A function drawing the next delay in seconds, from this spec's own seeded stream."""
        rng = random.Random(self.seed)
        if self.kind == "lognormal":
            assert self.p95_ms is not None
            mu, sigma = fit_lognormal(self.mean_ms, self.p95_ms)
            return lambda: min(rng.lognormvariate(mu, sigma), MAX_DELAY_MS) / 1000.0
        if self.kind == "empirical":
            samples = self.samples
            return lambda: rng.choice(samples) / 1000.0
        if self.kind == "uniform":
            low, high = self.mean_ms - self.jitter_ms, self.mean_ms + self.jitter_ms
            return lambda: max(0.0, rng.uniform(low, high)) / 1000.0
        fixed = self.mean_ms / 1000.0
        return lambda: fixed

    def describe(self) -> dict[str, Any]:
        """The distribution as applied: run.json ``rtt_delay.distribution`` and the manifest's
        ``target.rtt_delay``."""
        out: dict[str, Any] = {"value": self.value, "kind": self.kind, "mean_ms": self.mean_ms,
                               "seed": self.seed}
        if self.kind == "uniform":
            out.update(low_ms=max(0.0, self.mean_ms - self.jitter_ms),
                       high_ms=self.mean_ms + self.jitter_ms)
        if self.kind == "lognormal":
            assert self.p95_ms is not None
            mu, sigma = fit_lognormal(self.mean_ms, self.p95_ms)
            out.update(p95_ms=self.p95_ms, mu=round(mu, 6), sigma=round(sigma, 6),
                       median_ms=round(math.exp(mu), 4),
                       p99_ms=round(math.exp(mu + NormalDist().inv_cdf(0.99) * sigma), 4))
        if self.kind == "empirical":
            out.update(path=self.path, samples=len(self.samples),
                       p50_ms=round(quantile(self.samples, 0.5), 4),
                       p95_ms=round(quantile(self.samples, 0.95), 4),
                       p99_ms=round(quantile(self.samples, 0.99), 4))
        return out


def _number(part: str, text: str) -> tuple[str | None, float]:
    match = _NUMBER.fullmatch(part.strip().lower())
    if not match:
        raise DelayError(f"{text!r}: {part!r} is not a number of ms (e.g. 44 or mean=44ms)")
    return match.group(1), float(match.group(2))


def _split_seed(parts: list[str], text: str) -> tuple[list[str], int]:
    if parts and parts[-1].strip().lower().startswith("seed="):
        _, seed = _number(parts[-1], text)
        if seed != int(seed):
            raise DelayError(f"{text!r}: the seed must be a whole number")
        return parts[:-1], int(seed)
    return parts, DEFAULT_SEED


def _lognormal(parts: list[str], text: str) -> DelaySpec:
    parts, seed = _split_seed(parts, text)
    named: dict[str, float] = {}
    for index, part in enumerate(parts):
        key, number = _number(part, text)
        key = key or ("mean", "p95")[min(index, 1)]
        named[key] = number
    if len(parts) != 2 or set(named) != {"mean", "p95"}:
        raise DelayError(f"{text!r}: expected lognormal:MEAN:P95 in ms, e.g. lognormal:44:110 "
                         "(parts joined by ':', as commas separate the list's delays)")
    if named["p95"] > MAX_DELAY_MS:
        raise DelayError(f"{text!r}: the p95 must be at most {MAX_DELAY_MS:g} ms")
    try:
        fit_lognormal(named["mean"], named["p95"])
    except DelayError as exc:
        raise DelayError(f"{text!r}: {exc}") from None
    return DelaySpec("lognormal", named["mean"], p95_ms=named["p95"], seed=seed)


def _empirical(parts: list[str], text: str) -> DelaySpec:
    parts, seed = _split_seed(parts, text)
    path = ":".join(parts).strip()
    if not path:
        raise DelayError(f"{text!r}: expected file:PATH, a file of delays in ms, one a line")
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise DelayError(f"{text!r}: cannot read {path} ({getattr(exc, 'strerror', None) or exc})"
                         ) from None
    samples: list[float] = []
    for number, line in enumerate(lines, 1):
        item = line.split("#", 1)[0].strip()
        if not item:
            continue
        try:
            delay = float(item)
        except ValueError:
            raise DelayError(f"{path} line {number}: {item!r} is not a delay in ms") from None
        if not 0 <= delay <= MAX_DELAY_MS:
            raise DelayError(f"{path} line {number}: a delay must be 0-{MAX_DELAY_MS:g} ms")
        samples.append(delay)
    if not samples:
        raise DelayError(f"{path}: no delays in the file")
    return DelaySpec("empirical", fmean(samples), path=path, samples=tuple(samples), seed=seed)


def parse_delay(text: object) -> DelaySpec | None:
    """``none``/``0`` -> None; ``20``, ``20:5``, ``lognormal:44:110``, ``file:PATH`` -> the
    spec; DelayError (one line) otherwise."""
    raw = str(text).strip()
    if raw.lower() in ("", NONE, "0"):
        return None
    head, _, rest = raw.partition(":")
    if head.lower() in ("lognormal", "ln"):
        return _lognormal(rest.split(":") if rest else [], raw)
    if head.lower() == "file":
        return _empirical(rest.split(":"), raw)
    delay, _, jitter = raw.partition(":")
    try:
        values = float(delay.lower().removesuffix("ms")), float(
            jitter.lower().removesuffix("ms") or 0)
    except ValueError:
        raise DelayError(f"{raw!r}: expected MS, MS:JITTER_MS, lognormal:MEAN:P95 or "
                         "file:PATH, e.g. 20, 20:5, lognormal:44:110") from None
    if not (0 <= values[0] <= MAX_DELAY_MS and 0 <= values[1] <= values[0]):
        raise DelayError(f"{raw!r}: the delay must be 0-10000 ms and the jitter at most "
                         "the delay")
    if values[0] == 0:
        return None
    return DelaySpec("uniform" if values[1] else "fixed", values[0], jitter_ms=values[1])
