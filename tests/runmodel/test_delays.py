"""The added delay's distributions (runmodel.delays): parsing, the lognormal's fit, the draws."""

from __future__ import annotations

import math
from pathlib import Path
from statistics import fmean

import pytest

from runmodel.delays import (
    Z95,
    DelayError,
    fit_lognormal,
    fit_lognormal_over,
    parse_delay,
    quantile,
)
from runmodel.values import (
    DimensionError,
    parse_rtt_delay,
    rtt_delay_label,
    rtt_delay_tag,
    rtt_delay_value,
)


def test_the_write_ups_lognormal_by_hand() -> None:
    """mean 44, p95 110: sigma = z - sqrt(z^2 - 2 ln 2.5), mu = ln 44 - sigma^2/2."""
    mu, sigma = fit_lognormal(44, 110)
    assert pytest.approx(1.6448536, abs=1e-6) == Z95
    assert sigma == pytest.approx(1.6448536 - math.sqrt(1.6448536**2 - 2 * math.log(2.5)),
                                  abs=1e-6)
    assert sigma == pytest.approx(0.71053, abs=1e-4) and mu == pytest.approx(3.53176, abs=1e-4)
    assert math.exp(mu + sigma**2 / 2) == pytest.approx(44, rel=1e-12)
    assert math.exp(mu + Z95 * sigma) == pytest.approx(110, rel=1e-12)
    assert math.exp(mu) == pytest.approx(34.18, abs=0.01)  # the median


@pytest.mark.parametrize(("mean", "p95"), [(10, 11), (44, 110), (5, 19), (100, 380)])
def test_the_fit_returns_the_asked_mean_and_p95(mean: float, p95: float) -> None:
    mu, sigma = fit_lognormal(mean, p95)
    assert math.exp(mu + sigma**2 / 2) == pytest.approx(mean, rel=1e-9)
    assert math.exp(mu + Z95 * sigma) == pytest.approx(p95, rel=1e-9)


@pytest.mark.parametrize(("mean", "p95", "says"), [
    (44, 44, "0 < mean < p95"), (44, 20, "0 < mean < p95"), (10, 40, "at most 3.87")])
def test_a_lognormal_that_cannot_exist_is_refused(mean: float, p95: float, says: str) -> None:
    with pytest.raises(DelayError, match=says):
        fit_lognormal(mean, p95)


def test_draws_from_the_seed_match_the_distribution_asked() -> None:
    """100,000 draws: mean within 1% (its standard error is 0.26%), p95 within 2% (0.4%)."""
    spec = parse_delay("lognormal:44:110")
    assert spec is not None
    draw = spec.sampler()
    values = [1000 * draw() for _ in range(100_000)]
    assert fmean(values) == pytest.approx(44, rel=0.01)
    assert quantile(values, 0.95) == pytest.approx(110, rel=0.02)
    again = spec.sampler()
    assert [1000 * again() for _ in range(5)] == values[:5]  # seeded: the same sequence
    other = parse_delay("lognormal:44:110:seed=7")
    assert other is not None and other.sampler()() * 1000 != values[0]


def test_fixed_uniform_and_file_draws(tmp_path: Path) -> None:
    fixed, uniform = parse_delay("40"), parse_delay("40:5")
    assert fixed is not None and uniform is not None
    assert {fixed.sampler()() for _ in range(10)} == {0.04}
    draws = [uniform.sampler()() for _ in range(1000)]
    assert min(draws) >= 0.035 and max(draws) <= 0.045
    delays = tmp_path / "rtt.txt"
    delays.write_text("# measured\n10\n20\n\n30 # a comment\n")
    empirical = parse_delay(f"file:{delays}")
    assert empirical is not None and empirical.samples == (10, 20, 30)
    assert empirical.mean_ms == 20
    draw = empirical.sampler()
    assert {round(draw() * 1000) for _ in range(200)} == {10, 20, 30}
    assert empirical.describe()["samples"] == 3


@pytest.mark.parametrize(("text", "value", "tag", "label"), [
    ("none", "none", "", "none"),
    ("0", "none", "", "none"),
    ("10", "10", "rtt10-", "10 ms"),
    ("40:5", "40:5", "rtt40j5-", "40±5 ms"),
    ("20:0", "20", "rtt20-", "20 ms"),
    ("lognormal:44:110", "lognormal:44:110", "rttln44p110-", "lognormal 44 ms, p95 110 ms"),
    ("lognormal:mean=44ms:p95=110ms", "lognormal:44:110", "rttln44p110-",
     "lognormal 44 ms, p95 110 ms"),
    ("LogNormal:p95=110:mean=44", "lognormal:44:110", "rttln44p110-",
     "lognormal 44 ms, p95 110 ms"),
    ("ln:44:110:seed=7", "lognormal:44:110:seed=7", "rttln44p110s7-",
     "lognormal 44 ms, p95 110 ms"),
])
def test_the_registry_keeps_labels_and_tags(text: str, value: str, tag: str, label: str) -> None:
    assert rtt_delay_value(text) == value
    assert rtt_delay_tag(value) == tag
    assert rtt_delay_label(value) == label


def test_a_file_delay_is_labelled_and_tagged_without_reading_it(tmp_path: Path) -> None:
    delays = tmp_path / "aws-us-west.txt"
    delays.write_text("40\n50\n")
    value = rtt_delay_value(f"file:{delays}")
    assert value == f"file:{delays}"
    delays.unlink()  # the analysis of an old sweep has no file to read
    assert rtt_delay_tag(value) == "rttfileawsuswest-"
    assert rtt_delay_label(value) == "file aws-us-west.txt"


@pytest.mark.parametrize(("text", "says"), [
    ("lognormal:44", "expected lognormal:MEAN:P95"),
    ("lognormal:44:110:120", "expected lognormal:MEAN:P95"),
    ("lognormal:110:44", "0 < mean < p95"),
    ("lognormal:10:100", "at most 3.87"),
    ("lognormal:44:soon", "is not a number"),
    ("lognormal:44:110:seed=1.5", "whole number"),
    ("file:/nonexistent/delays.txt", "cannot read"),
    ("soon", "expected MS, MS:JITTER_MS, lognormal:MEAN:P95 or file:PATH"),
    ("5:10", "the jitter at most the delay"),
])
def test_bad_delays_are_one_line(text: str, says: str) -> None:
    with pytest.raises(DimensionError, match=says) as caught:
        parse_rtt_delay(text)
    assert "\n" not in str(caught.value)


def test_a_bad_delay_file_names_its_line(tmp_path: Path) -> None:
    delays = tmp_path / "d.txt"
    delays.write_text("10\nfast\n")
    with pytest.raises(DimensionError, match=r"d.txt line 2: 'fast' is not a delay in ms"):
        parse_rtt_delay(f"file:{delays}")
    delays.write_text("# nothing\n")
    with pytest.raises(DimensionError, match="no delays"):
        parse_rtt_delay(f"file:{delays}")


def test_the_fit_over_a_base_subtracts_the_mean_and_widens_less_than_the_p95() -> None:
    """A constant base shifts both figures by itself; a spread base takes the mean exactly and
    leaves the delay's p95 between (p95 - the base's p95) and (p95 - the base's mean)."""
    mean, p95 = fit_lognormal_over(44, 110, [2.0] * 10, draws=8000)
    assert mean == pytest.approx(42, abs=1e-9) and p95 == pytest.approx(108, rel=0.01)
    base = [1.0 + 0.1 * i for i in range(60)]  # 1-6.9 ms, mean 3.95, p95 6.6
    mean, p95 = fit_lognormal_over(44, 110, base, draws=8000)
    assert mean == pytest.approx(44 - fmean(base), abs=1e-9)
    assert 110 - quantile(base, 0.95) - 1 <= p95 <= 110 - fmean(base) + 1
    with pytest.raises(DelayError, match="not below"):
        fit_lognormal_over(44, 110, [50.0])


def test_each_repeat_draws_its_own_delays() -> None:
    spec = parse_delay("lognormal:40:106")
    assert spec is not None
    assert spec.for_repeat(1) == spec and spec.for_repeat(3).seed == 44
    assert spec.for_repeat(3).value == "lognormal:40:106:seed=44"
    first, third = spec.for_repeat(1).sampler(), spec.for_repeat(3).sampler()
    assert first() != third()
