"""The precision planner's figures: TUR, an instrument's standard uncertainty, the measurand's
spread, the risk (Deaver through planner.consumer_risk), the tolerance, the cheapest lab line."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from jingce.model import Calibration, Characteristic, Instrument
from jingce.services import planner

DATA = Path(__file__).parents[1] / "data"
HAND = yaml.safe_load((DATA / "planner" / "hand.yaml").read_text())
DEAVER = yaml.safe_load((DATA / "conformity" / "deaver.yaml").read_text())["cases"]
NOW = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)


@pytest.mark.parametrize("case", HAND["tur"])
def test_tur_by_hand(case):
    assert planner.test_uncertainty_ratio(case["tolerance"], case["u"]) == pytest.approx(case["tur"], rel=1e-12)


@pytest.mark.parametrize("case", HAND["instrument_u"])
def test_instrument_uncertainty_from_the_certificate_and_resolution(case):
    inst = Instrument(tenant_id=1, code="I", name="i", resolution=case["resolution"])
    cal = Calibration(instrument_id=1, lab_id=1, certificate_no="c", calibrated_at=NOW - dt.timedelta(days=10),
                      valid_until=NOW + dt.timedelta(days=300), expanded_uncertainty=case["U"],
                      coverage_factor=case["k"], unit=case.get("cal_unit", "mm"))
    u, source = planner.instrument_uncertainty(inst, cal, "mm", NOW)
    assert source == "calibration" and u == pytest.approx(case["u"], rel=1e-12)


def test_instrument_uncertainty_stated_expired_and_units():
    stated = Instrument(tenant_id=1, code="I", name="i", uncertainty=4.0, unit="µm", resolution=1.0)
    assert planner.instrument_uncertainty(stated, None, "mm", NOW) == (pytest.approx(0.004), "instrument")
    plain = Instrument(tenant_id=1, code="J", name="j")
    expired = Calibration(instrument_id=2, lab_id=1, certificate_no="c", calibrated_at=NOW - dt.timedelta(days=400),
                          valid_until=NOW - dt.timedelta(days=35), expanded_uncertainty=0.002)
    assert planner.instrument_uncertainty(plain, expired, "mm", NOW) == (None, "no valid calibration")
    assert planner.instrument_uncertainty(plain, None, "mm", NOW) == (None, "no valid calibration")
    assert planner.instrument_uncertainty(stated, None, "g", NOW) == (None, "unit")
    oot = expired.model_copy(update={"valid_until": NOW + dt.timedelta(days=30), "result": "out_of_tolerance"})
    assert planner.instrument_uncertainty(plain, oot, "mm", NOW)[0] is None


@pytest.mark.parametrize("case", HAND["prior_sd"])
def test_measurand_spread_from_the_measured_spread(case):
    assert planner.process_prior_sd(case["s"], case["u"]) == pytest.approx(case["sd"], rel=1e-12)


def test_measurand_spread_unknown_when_the_values_show_only_the_measurement():
    assert planner.process_prior_sd(0.01, 0.02) is None and planner.process_prior_sd(0.02, None) == 0.02


@pytest.mark.parametrize("case", [c for c in DEAVER if c["GB"] == 1.0])
def test_consumer_risk_against_deaver(case):
    sl, tur = case["SL"], case["TUR"]
    u = sl / (2 * tur)
    assert planner.test_uncertainty_ratio(2 * sl, u) == pytest.approx(tur, rel=1e-12)
    assert planner.consumer_risk(0.0, 1.0, u, -sl, sl) == pytest.approx(case["PFA"], abs=case.get("tol", 0.0005))
    rc, rp = planner.global_risks(0.0, 1.0, u, -sl, sl)
    if "PFR" in case:
        assert rp == pytest.approx(case["PFR"], abs=case.get("tol", 0.0005))


def test_tolerance_of_two_sided_and_one_sided():
    assert planner.tolerance_of(Characteristic(product_id=1, key="D", lower_limit=9.9, upper_limit=10.1)) == \
        pytest.approx(0.2)
    runout = Characteristic(product_id=1, key="R", upper_limit=0.05, nominal=0.0, kind="runout")
    assert planner.tolerance_of(runout) == 0.05  # natural lower bound 0
    assert planner.tolerance_of(Characteristic(product_id=1, key="S", upper_limit=0.05)) is None  # a size
    assert planner.tolerance_of(Characteristic(product_id=1, key="T", lower_limit=1.0)) is None


def _line(quantity, lo, hi, cmc, price=None, unit="mm"):
    return SimpleNamespace(quantity=quantity, range_min=lo, range_max=hi, unit=unit, price=price,
                           cmc_at=lambda x, c=cmc: c)


def test_cheapest_adequate_lab_line():
    char = Characteristic(product_id=1, key="D", nominal=50.0, lower_limit=49.99, upper_limit=50.01)  # T = 0.02
    labs = [SimpleNamespace(id=1, code="A", name="A", scope=(_line("length", 0, 100, 0.001, price=300.0),
                                                            _line("length", 0, 100, 0.0001))),  # unpriced
            SimpleNamespace(id=2, code="B", name="B", scope=(_line("length", 0, 100, 0.002, price=200.0),  # TUR 5
                                                            _line("length", 0, 100, 0.003, price=50.0),  # TUR 3.3
                                                            _line("mass", 0, 100, 0.0001, price=1.0, unit="g"),
                                                            _line("length", 60, 100, 0.0001, price=1.0))),
            ]
    opt = planner._lab_option(char, 0.02, labs, lambda u: 0.0)
    assert (opt.kind, opt.ref, opt.cost) == ("lab", "B", 200.0) and opt.tur == pytest.approx(5.0)
    assert "200" in opt.text_en and "200" in opt.text_zh
    # without prices: the smallest CMC
    for lab in labs:
        for e in lab.scope:
            e.price = None
    opt = planner._lab_option(char, 0.02, labs, lambda u: 0.0)
    assert opt.ref == "A" and opt.u == pytest.approx(0.00005) and opt.cost is None
    assert planner._lab_option(char, 0.0001, labs, lambda u: 0.0) is None  # nobody reaches TUR 4
    assert math.isclose(planner.K, 2.0) and planner.TUR_MIN == 4.0


def test_tiny_risks_without_quadpack_warnings_and_as_the_bivariate_normal_gives_them():
    """u about 1/65 of the process spread (a demo characteristic): QUADPACK warns, the value holds."""
    import warnings

    import numpy as np
    from scipy import stats

    m, s, u, lo, hi = 15.715759649122814, 0.0008981846074013803, 1.38605e-05, 15.7096, 15.721
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rc = planner.consumer_risk(m, s, u, lo, hi)
    sm = np.hypot(s, u)
    mvn = stats.multivariate_normal([m, m], [[s * s, s * s], [s * s, sm * sm]])

    def rect(e0, e1, m0, m1):
        return mvn.cdf([e1, m1]) - mvn.cdf([e0, m1]) - mvn.cdf([e1, m0]) + mvn.cdf([e0, m0])

    far = 50 * sm
    want = rect(m - far, lo, lo, hi) + rect(hi, m + far, lo, hi)
    assert rc == pytest.approx(want, abs=1e-15) and 0 < rc < 1e-9
