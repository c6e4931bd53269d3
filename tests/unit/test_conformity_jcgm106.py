"""JCGM 106:2012 worked examples (sources and tolerances: tests/data/conformity/jcgm106/README.md)."""

import math
from pathlib import Path

import numpy as np
import pytest
import yaml
from scipy import integrate, stats

from jingce.kernels import conformity as cf

DATA = Path(__file__).parents[1] / "data" / "conformity" / "jcgm106"
RES = yaml.safe_load((DATA / "resistors_global_risk.yaml").read_text())
SPEC = yaml.safe_load((DATA / "specific_7_4.yaml").read_text())


@pytest.fixture(scope="module")
def resistors():
    c = RES
    return cf.global_risk(c["process"]["y0"], c["process"]["u0"], c["ohmmeter_u"],
                          c["tolerance"]["lower"], c["tolerance"]["upper"], guard_band=c["guard_band"])


def test_resistor_example_printed_values(resistors):
    p, tol = RES["printed"], RES["tolerances"]
    r = resistors
    assert (r.acceptance_lower, r.acceptance_upper) == (pytest.approx(RES["acceptance"]["lower"]),
                                                        pytest.approx(RES["acceptance"]["upper"]))
    assert r.prior_conformity == pytest.approx(p["prior_conformity"], abs=tol["prior_conformity"])
    assert r.consumer_risk == pytest.approx(p["consumer_risk"], abs=tol["risk_percent"])
    assert r.producer_risk == pytest.approx(p["producer_risk"], abs=tol["risk_percent"])


def test_resistor_example_counts_per_hundred(resistors):
    """The notes turn the rounded percentages into counts per 100 resistors (90 = 83 + 7, 10 = 9 + 1)."""
    p, r = RES["printed"], resistors
    conforming = round(100 * r.prior_conformity)
    rejected_good = round(100 * r.producer_risk)
    accepted_bad = round(100 * r.consumer_risk)
    assert conforming == p["conforming"]
    assert rejected_good == p["conforming_rejected"] and accepted_bad == p["nonconforming_accepted"]
    assert conforming - rejected_good == p["conforming_accepted"]
    assert 100 - conforming - accepted_bad == p["nonconforming_rejected"]
    assert p["conforming_accepted"] + p["nonconforming_accepted"] == p["accepted"]
    # the exact acceptance fraction is 84.5 %: the printed 84 is the sum of two rounded counts
    assert r.acceptance_probability == pytest.approx(0.8453, abs=5e-5)
    assert r.acceptance_probability == pytest.approx(
        r.prior_conformity - r.producer_risk + r.consumer_risk, abs=1e-9)


def test_resistor_example_second_computation(resistors):
    """(eta, y_m) is bivariate normal: the risks are rectangle probabilities (scipy), plus a seeded Monte Carlo."""
    y0, s0, u = RES["process"]["y0"], RES["process"]["u0"], RES["ohmmeter_u"]
    lo, hi = RES["tolerance"]["lower"], RES["tolerance"]["upper"]
    a_lo, a_hi = RES["acceptance"]["lower"], RES["acceptance"]["upper"]
    # centred coordinates keep the bivariate CDF well conditioned
    sm = math.hypot(s0, u)
    mvn = stats.multivariate_normal([0.0, 0.0], [[s0 * s0, s0 * s0], [s0 * s0, sm * sm]])

    def rect(e0, e1, m0, m1):
        e0, e1, m0, m1 = (v - y0 for v in (e0, e1, m0, m1))
        return mvn.cdf([e1, m1]) - mvn.cdf([e0, m1]) - mvn.cdf([e1, m0]) + mvn.cdf([e0, m0])

    big = 50.0
    fa = rect(y0 - big, lo, a_lo, a_hi) + rect(hi, y0 + big, a_lo, a_hi)
    fr = rect(lo, hi, y0 - big, a_lo) + rect(lo, hi, a_hi, y0 + big)
    assert resistors.consumer_risk == pytest.approx(fa, abs=2e-6)
    assert resistors.producer_risk == pytest.approx(fr, abs=2e-6)

    # third: the notes' own formula, a 1-D integral over the measurand with the ohmmeter's acceptance probability
    def accept(eta):
        return stats.norm.cdf((a_hi - eta) / u) - stats.norm.cdf((a_lo - eta) / u)

    rc = sum(integrate.quad(lambda e: stats.norm.pdf(e, y0, s0) * accept(e), a, b, epsabs=1e-13)[0]
             for a, b in ((y0 - 1.0, lo), (hi, y0 + 1.0)))
    assert resistors.consumer_risk == pytest.approx(rc, rel=1e-8)

    rng = np.random.default_rng(106)
    eta = rng.normal(y0, s0, 1_000_000)
    ym = eta + rng.normal(0.0, u, eta.size)
    acc = (ym >= a_lo) & (ym <= a_hi)
    conf = (eta >= lo) & (eta <= hi)
    for mc, exact in ((np.mean(acc & ~conf), resistors.consumer_risk), (np.mean(~acc & conf), resistors.producer_risk)):
        assert mc == pytest.approx(exact, abs=4 * math.sqrt(exact * (1 - exact) / eta.size))


def test_resistor_example_guard_band_is_a_quarter_of_U():
    """w = 0.02 ohm = 0.25 U with U = 2 u = 0.08 ohm: the ILAC-G8 guarded-acceptance rule gives the same limits."""
    lo, hi = RES["tolerance"]["lower"], RES["tolerance"]["upper"]
    d = cf.decide([1499.81, 1500.0, 1500.19], 2 * RES["ohmmeter_u"], lo, hi, rule="guarded_acceptance",
                  guard_band_factor=0.25)
    assert d.acceptance_lower == pytest.approx(RES["acceptance"]["lower"])
    assert d.acceptance_upper == pytest.approx(RES["acceptance"]["upper"])
    assert list(d.decision) == ["reject", "accept", "reject"]


def test_resistor_example_without_inspection():
    """Without the guard band (simple acceptance) the same ohmmeter roughly doubles the consumer's risk,
    and without any inspection the consumer receives 1 - p0 = 9.6 % non-conforming resistors (the notes' 10 %)."""
    c = RES
    simple = cf.global_risk(c["process"]["y0"], c["process"]["u0"], c["ohmmeter_u"],
                            c["tolerance"]["lower"], c["tolerance"]["upper"])
    guarded = cf.global_risk(c["process"]["y0"], c["process"]["u0"], c["ohmmeter_u"],
                             c["tolerance"]["lower"], c["tolerance"]["upper"], guard_band=c["guard_band"])
    assert simple.consumer_risk > 1.5 * guarded.consumer_risk
    assert simple.producer_risk < guarded.producer_risk
    assert 1 - simple.prior_conformity == pytest.approx(0.10, abs=0.005)


def test_specific_conformance_probability_7_4_inputs():
    """JCGM 106 7.4 inputs; the expected value is computed two independent ways (not a printed value)."""
    y, u, lo, hi = SPEC["y"], SPEC["u"], SPEC["lower"], SPEC["upper"]
    r = cf.probability_of_conformity(y, u, lo, hi)

    def phi(z):
        return 0.5 * math.erfc(-z / math.sqrt(2.0))

    closed = phi((hi - y) / u) - phi((lo - y) / u)
    quad = integrate.quad(lambda e: math.exp(-0.5 * ((e - y) / u) ** 2) / (u * math.sqrt(2 * math.pi)), lo, hi,
                          epsabs=1e-14)[0]
    assert r.p_conformity == pytest.approx(closed, rel=1e-12)
    assert r.p_conformity == pytest.approx(quad, rel=1e-10)
    assert r.p_conformity == pytest.approx(0.6626, abs=5e-5)
    assert r.specific_risk == pytest.approx(1 - closed, rel=1e-12)
