"""Type-1 study: the AIAG bias example (Table III-B 2) and the Cg/Cgk definitions of Bosch booklet 10 / VDA 5."""

import math

import numpy as np
import pytest
from scipy import stats

from jingce.errors import InvalidInputError, JingceWarning
from jingce.kernels.msa import type1

AIAG_BIAS = [5.8, 5.7, 5.9, 5.9, 6.0, 6.1, 6.0, 6.1, 6.4, 6.3, 6.0, 6.1, 6.2, 5.6, 6.0]  # Table III-B 1, ref 6.00
# example readings of the qualityTools vignette (T. Roth, CRAN), target 10.003, limits 9.903 / 10.103
QT = [9.991, 10.013, 10.001, 10.007, 10.010, 10.013, 10.008, 10.017, 10.005, 10.005, 10.002, 10.017, 10.005,
      10.002, 9.996, 10.011, 10.009, 10.006, 10.008, 10.003, 10.002, 10.006, 10.010, 9.992, 10.013]


def test_aiag_bias_table_iii_b_2():
    r = type1(AIAG_BIAS, 6.0, tolerance=1.0)
    assert r.mean == pytest.approx(6.0067, abs=5e-5)
    assert r.s == pytest.approx(0.2120, abs=5e-5)
    assert r.s / math.sqrt(15) == pytest.approx(0.0547, abs=5e-5)
    assert r.bias_t == pytest.approx(0.1218, abs=5e-5)
    assert r.bias_ci == (pytest.approx(-0.1107, abs=5e-5), pytest.approx(0.1241, abs=5e-5))
    assert not r.bias_significant
    assert any("25" in n for n in r.notes)  # fewer readings than recommended


def test_cg_cgk_definitions_and_independent_recomputation():
    r = type1(QT, 10.003, lsl=9.903, usl=10.103, resolution=0.001)
    x = np.array(QT)
    s = x.std(ddof=1)
    bias = x.mean() - 10.003
    assert r.tolerance == pytest.approx(0.2)
    assert r.cg == pytest.approx(0.2 * 0.2 / (6 * s), rel=1e-12)
    assert r.cgk == pytest.approx((0.1 * 0.2 - abs(bias)) / (3 * s), rel=1e-12)
    assert r.cg == pytest.approx(0.99852, abs=5e-5) and r.cgk == pytest.approx(0.84474, abs=5e-5)
    assert not r.capable
    assert r.bias_t == pytest.approx(stats.ttest_1samp(x, 10.003).statistic, rel=1e-10)
    assert r.bias_p == pytest.approx(stats.ttest_1samp(x, 10.003).pvalue, rel=1e-10)
    assert r.pct_resolution == pytest.approx(0.5)
    assert (r.limit_low, r.limit_high) == (pytest.approx(9.983), pytest.approx(10.023))


def test_percentage_and_span_are_parameters_not_silent():
    a = type1(QT, 10.003, tolerance=0.2)
    b = type1(QT, 10.003, tolerance=0.2, span=5.15, percentage=15)
    assert b.cg == pytest.approx(a.cg * (15 / 20) * (6 / 5.15))
    assert (b.span, b.percentage) == (5.15, 15)


def test_one_sided_tolerances():
    nat = type1(QT, 10.003, usl=10.103, natural_limit=9.903)
    two = type1(QT, 10.003, lsl=9.903, usl=10.103)
    assert nat.cg == pytest.approx(two.cg) and nat.cgk == pytest.approx(two.cgk)
    one = type1(QT, 10.003, usl=10.103)
    assert math.isnan(one.cg)
    s = np.std(QT, ddof=1)
    bias = np.mean(QT) - 10.003
    assert one.cgk == pytest.approx((0.2 * 0.1 - bias) / (3 * s))
    low = type1(QT, 10.003, lsl=9.903)
    assert low.cgk == pytest.approx((0.2 * 0.1 + bias) / (3 * s))


def test_capable_gauge():
    rng = np.random.default_rng(0)
    r = type1(10 + rng.normal(0, 0.001, 50), 10.0, tolerance=0.1)
    assert r.capable and r.cg > 1.33 and r.cgk > 1.33


def test_zero_spread_warns():
    with pytest.warns(JingceWarning, match="zero spread"):
        r = type1([1.0] * 30, 1.0, tolerance=0.1)
    assert r.cg == math.inf


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"tolerance": 0.0}, "tolerance"),
        ({"tolerance": -1.0}, "tolerance"),
        ({}, "tolerance"),
        ({"lsl": 2.0, "usl": 1.0}, "lsl"),
        ({"tolerance": 0.2, "percentage": 0}, "percentage"),
        ({"tolerance": 0.2, "span": -6}, "span"),
        ({"natural_limit": 0.0}, "natural_limit"),
    ],
)
def test_bad_input(kwargs, argument):
    with pytest.raises(InvalidInputError) as e:
        type1(QT, 10.0, **kwargs)
    assert e.value.details["argument"] == argument


def test_too_few_readings():
    with pytest.raises(InvalidInputError, match="at least 2"):
        type1([1.0], 1.0, tolerance=1.0)
