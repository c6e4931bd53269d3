"""NCSLI RP-1 methods A3 and S2 (tests/data/intervals/README.md)."""

import math
from pathlib import Path

import numpy as np
import pytest
import yaml
from scipy import special, stats

from jingce.errors import InvalidInputError
from jingce.kernels import intervals as iv

DATA = Path(__file__).parents[1] / "data" / "intervals"


@pytest.mark.parametrize("case", yaml.safe_load((DATA / "ncsl2019_a3.yaml").read_text())["cases"])
def test_a3_against_ncsl_tutorial(case):
    if "passfail" in case:
        g, n = sum(case["passfail"]), len(case["passfail"])
    else:
        g, n = case["intol"], case["n"]
    r = iv.a3_interval_test(g, n, case["I0"], case["Rt"], confidence=case["conf"])
    assert round(r.interval) == case["interval"]
    assert r.rejection_confidence == pytest.approx(case["rejection"], abs=5e-5)
    assert r.reliability_lower == pytest.approx(case["RL"], abs=5e-5)
    assert r.reliability_upper == pytest.approx(case["RU"], abs=5e-5)
    assert r.changed


def test_a3_keeps_interval_when_consistent():
    r = iv.a3_interval_test(19, 20, 365, 0.95)
    assert not r.changed and r.interval == 365
    high = iv.a3_interval_test(50, 50, 180, 0.8)
    assert high.calculated_interval == pytest.approx(360)  # capped at max_change = 2


def test_s2_exponential_closed_form():
    r = iv.s2_reliability_fit([180], [17], 0.95, "exponential", n=[20])
    lam = -math.log(17 / 20) / 180
    assert r.params[0] == pytest.approx(lam, rel=1e-12)
    assert r.interval == pytest.approx(180 * math.log(0.95) / math.log(17 / 20), rel=1e-12)


def test_s2_saturated_two_point_fits():
    t = np.array([100.0, 300.0])
    n = np.array([1000, 1000])
    g = np.array([950, 800])
    w = iv.s2_reliability_fit(t, g, 0.9, "weibull", n=n)
    beta = math.log(math.log(0.8) / math.log(0.95)) / math.log(3.0)
    assert w.params[1] == pytest.approx(beta, rel=1e-5)
    np.testing.assert_allclose(w.fitted, [0.95, 0.8], atol=1e-6)
    rw = iv.s2_reliability_fit(t, g, 0.9, "random_walk", n=n)
    qq = stats.norm.ppf((np.array([0.95, 0.8]) + 1) / 2) ** -2.0
    slope = (qq[1] - qq[0]) / 200
    assert rw.params[1] == pytest.approx(slope, rel=1e-4)
    np.testing.assert_allclose(rw.fitted, [0.95, 0.8], atol=1e-6)
    t90 = (stats.norm.ppf(0.95) ** -2.0 - (qq[0] - slope * 100)) / slope
    assert rw.interval == pytest.approx(t90, rel=1e-4)


def test_s2_recovers_weibull_and_prefers_it():
    rng = np.random.default_rng(12)
    t = rng.uniform(60, 720, 4000)
    g = (rng.random(t.size) < np.exp(-((t / 400.0) ** 1.8))).astype(int)
    fits = {m: iv.s2_reliability_fit(t, g, 0.9, m) for m in iv.MODELS}
    assert fits["weibull"].params[0] == pytest.approx(1 / 400, rel=0.05)
    assert fits["weibull"].params[1] == pytest.approx(1.8, rel=0.1)
    assert fits["weibull"].aic < fits["exponential"].aic
    true_interval = 400 * (-math.log(0.9)) ** (1 / 1.8)
    assert fits["weibull"].interval == pytest.approx(true_interval, rel=0.1)


def test_s2_recovers_random_walk():
    rng = np.random.default_rng(3)
    t = rng.uniform(50, 700, 4000)
    r = special.erf(1 / np.sqrt(2 * (0.05 + 0.002 * t)))
    g = (rng.random(t.size) < r).astype(int)
    fit = iv.s2_reliability_fit(t, g, 0.9, "random_walk")
    assert fit.params[1] == pytest.approx(0.002, rel=0.15)


def test_bad_input():
    with pytest.raises(InvalidInputError, match="in_tolerance"):
        iv.a3_interval_test(21, 20, 365, 0.9)
    with pytest.raises(InvalidInputError, match="intervals"):
        iv.s2_reliability_fit([0, 10], [1, 1], 0.9)
    with pytest.raises(InvalidInputError, match="model"):
        iv.s2_reliability_fit([10, 20], [1, 0], 0.9, "gamma")
    with pytest.raises(InvalidInputError, match="intervals"):
        iv.s2_reliability_fit([10, 10], [1, 0], 0.9, "weibull")
