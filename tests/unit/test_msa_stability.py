"""Stability on the SPC charts and the AIAG control-chart bias method (Table III-B 3)."""

import numpy as np
import pytest

from jingce.errors import InvalidInputError
from jingce.kernels import spc
from jingce.kernels.msa import control_chart_bias, stability
from jingce.kernels.msa.constants import d2_star


def test_aiag_table_iii_b_3():
    # g = 20 subgroups of m = 5, reference 6.01, grand average 6.021, sigma_r = R-bar / d2* = 0.2048
    b = control_chart_bias(6.021, 0.2048 * d2_star(5, 20), 5, 20, 6.01)
    assert b.sigma_r == pytest.approx(0.2048, rel=1e-12)
    assert b.dof == pytest.approx(72.7, abs=0.05)
    assert b.t == pytest.approx(0.5371, abs=5e-5)
    assert b.t_critical == pytest.approx(1.993, abs=5e-4)
    # the manual rounds the bias and the standard error before forming the interval
    assert b.ci == (pytest.approx(-0.0299, abs=2e-4), pytest.approx(0.0519, abs=2e-4))
    assert not b.significant


def readings(seed=2, shift_at=None):
    x = np.random.default_rng(seed).normal(6.02, 0.2, (25, 5))
    if shift_at is not None:
        x[shift_at] += 0.8
    return x


def test_stable_master_and_the_spc_chart_is_reused():
    x = readings()
    r = stability(x, 6.01, tolerance=2.0)
    ref = spc.xbar_r(x)
    assert r.stable and r.beyond_limits.size == 0
    assert r.chart.grand_mean == ref.grand_mean and r.chart.r_bar == ref.r_bar
    assert r.repeatability == pytest.approx(ref.r_bar / d2_star(5, 25))
    assert r.bias.bias == pytest.approx(x.mean() - 6.01)
    assert r.pct_repeatability_tolerance == pytest.approx(100 * 6 * r.repeatability / 2.0)


def test_a_shift_is_a_signal():
    r = stability(readings(shift_at=12), 6.01)
    assert not r.stable and 12 in r.beyond_limits


def test_other_charts():
    x = readings()
    s = stability(x, chart="xbar_s")
    assert s.chart_type == "xbar_s" and s.bias is None and s.repeatability == pytest.approx(spc.xbar_s(x).sigma)
    i = stability(x.ravel(), 6.01, chart="imr", rules="nelson")
    assert i.chart_type == "imr" and i.bias.dof == x.size - 1


def test_bad_input():
    with pytest.raises(InvalidInputError) as e:
        stability(np.ones(10), chart="xbar_r")
    assert e.value.details["argument"] == "readings"
    with pytest.raises(InvalidInputError) as e:
        stability(readings(), chart="p")
    assert e.value.details["argument"] == "chart"
    with pytest.raises(InvalidInputError):
        stability(readings(), tolerance=0)
