"""Decision rules (ILAC-G8, ISO 14253-1) and JCGM 106 risks (tests/data/conformity/README.md)."""

from pathlib import Path

import numpy as np
import pytest
import yaml
from scipy import stats

from jingce.errors import InvalidInputError
from jingce.kernels import conformity as cf

DATA = Path(__file__).parents[1] / "data" / "conformity"


@pytest.mark.parametrize("case", yaml.safe_load((DATA / "deaver.yaml").read_text())["cases"])
def test_global_risk_against_deaver(case):
    sl, tur, gb = case["SL"], case["TUR"], case["GB"]
    u = sl / (2 * tur)
    r = cf.global_risk(0.0, 1.0, u, -sl, sl, guard_band=sl * (1 - gb))
    tol = case.get("tol", 0.0005)
    assert r.consumer_risk == pytest.approx(case["PFA"], abs=tol)
    if "PFR" in case:
        assert r.producer_risk == pytest.approx(case["PFR"], abs=tol)


def _bivariate_risks(y0, s0, u, lo, hi, w):
    """Second computation: (eta, y_m) is bivariate normal, so the risks are rectangle probabilities."""
    a_lo, a_hi = lo + w, hi - w
    sm = np.hypot(s0, u)
    mvn = stats.multivariate_normal([y0, y0], [[s0 * s0, s0 * s0], [s0 * s0, sm * sm]])

    def rect(e0, e1, m0, m1):
        return (mvn.cdf([e1, m1]) - mvn.cdf([e0, m1]) - mvn.cdf([e1, m0]) + mvn.cdf([e0, m0]))

    inf = 1e3
    fa = rect(-inf, lo, a_lo, a_hi) + rect(hi, inf, a_lo, a_hi)
    fr = rect(lo, hi, -inf, a_lo) + rect(lo, hi, a_hi, inf)
    return fa, fr


@pytest.mark.parametrize(("y0", "s0", "u", "w"), [(0.2, 0.8, 0.3, 0.0), (0.0, 1.0, 0.5, 0.4), (-0.5, 0.7, 0.2, -0.2)])
def test_global_risk_second_computation(y0, s0, u, w):
    r = cf.global_risk(y0, s0, u, -1.5, 1.5, guard_band=w)
    fa, fr = _bivariate_risks(y0, s0, u, -1.5, 1.5, w)
    assert r.consumer_risk == pytest.approx(fa, abs=1e-6)
    assert r.producer_risk == pytest.approx(fr, abs=1e-6)
    rng = np.random.default_rng(4)
    eta = rng.normal(y0, s0, 400_000)
    ym = eta + rng.normal(0, u, eta.size)
    acc = (ym >= -1.5 + w) & (ym <= 1.5 - w)
    conf = (eta >= -1.5) & (eta <= 1.5)
    se = np.sqrt(max(fa, 1e-4) / eta.size)
    assert np.mean(acc & ~conf) == pytest.approx(r.consumer_risk, abs=4 * se)


def test_one_sided_global_risk():
    r = cf.global_risk(0.0, 1.0, 0.25, upper=2.0)
    r2 = cf.global_risk(0.0, 1.0, 0.25, lower=-2.0, upper=2.0)
    assert r.consumer_risk == pytest.approx(r2.consumer_risk / 2, rel=1e-6)


def test_specific_risk_jcgm106():
    p = cf.probability_of_conformity([10.0, 9.0, 11.0], 0.5, lower=9.0, upper=11.0)
    assert p.p_conformity[1] == pytest.approx(0.5 - stats.norm.sf(4), abs=1e-12)  # on the lower limit
    assert p.p_conformity[0] == pytest.approx(1 - 2 * stats.norm.sf(2))
    one = cf.probability_of_conformity(1.0, 0.1, upper=1.0)
    assert one.p_conformity == pytest.approx(0.5)
    w = cf.guard_band_for_risk(0.1, 0.05, upper=1.0)
    assert w == pytest.approx(0.1645, abs=1e-4)  # JCGM 106 8.3.3: 1.64 u for 5 %
    at_limit = cf.probability_of_conformity(1.0 - w, 0.1, upper=1.0)
    assert at_limit.specific_risk == pytest.approx(0.05, rel=1e-9)
    w2 = cf.guard_band_for_risk(0.1, 0.05, lower=0.0, upper=1.0)
    assert cf.probability_of_conformity(w2, 0.1, 0.0, 1.0).specific_risk == pytest.approx(0.05, abs=1e-9)


def test_decision_rules():
    y = np.array([9.97, 10.035, 10.045, 10.055, 10.08])
    simple = cf.decide(y, 0.02, 9.95, 10.05, rule="simple")
    assert list(simple.decision) == ["accept", "accept", "accept", "reject", "reject"]
    guarded = cf.decide(y, 0.02, 9.95, 10.05, rule="guarded_acceptance")
    assert list(guarded.decision) == ["accept", "reject", "reject", "reject", "reject"]
    assert guarded.acceptance_upper == pytest.approx(10.03)
    rej = cf.decide(y, 0.02, 9.95, 10.05, rule="guarded_rejection")
    assert list(rej.decision) == ["accept", "accept", "accept", "accept", "reject"]
    iso = cf.decide(y, 0.02, 9.95, 10.05, rule="iso14253")
    assert list(iso.decision) == ["conforms", "ambiguous", "ambiguous", "ambiguous", "does_not_conform"]
    nb = cf.decide(y, 0.02, 9.95, 10.05, rule="non_binary")
    assert list(nb.decision) == ["pass", "conditional_pass", "conditional_pass", "conditional_fail", "fail"]
    # ILAC-G8 4.2.2: with w = U (k = 2) the specific risk at the acceptance limit is below 2.5 %
    assert 1 - cf.decide([10.03], 0.02, 9.95, 10.05, rule="guarded_acceptance").p_conformity[0] < 0.025


def test_bad_input():
    with pytest.raises(InvalidInputError, match="u"):
        cf.probability_of_conformity(1.0, 0.0, upper=2.0)
    with pytest.raises(InvalidInputError, match="lower/upper"):
        cf.probability_of_conformity(1.0, 0.1)
    with pytest.raises(InvalidInputError, match="lower"):
        cf.global_risk(0, 1, 0.1, 2.0, 1.0)
    with pytest.raises(InvalidInputError, match="guard_band"):
        cf.global_risk(0, 1, 0.1, -1.0, 1.0, guard_band=1.0)
    with pytest.raises(InvalidInputError, match="rule"):
        cf.decide(1.0, 0.1, 0, 2, rule="lenient")
