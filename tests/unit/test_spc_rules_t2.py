"""Run rules (Nelson, Western Electric) and the Hotelling T-squared chart."""

import numpy as np
import pytest
from scipy import stats

from jingce.errors import InvalidInputError, JingceWarning
from jingce.kernels.spc import RunRule, hotelling_t2, rule_set, run_rules, xbar_r


def _pts(r):
    return {k: list(v) for k, v in r.points.items()}


def test_each_nelson_pattern_fires_at_its_completing_point():
    cases = {
        "nelson1": ([0, 0, 3.2, 0], [2]),
        "nelson2": ([0.5] * 9 + [-0.5], [8]),
        "nelson3": ([0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.4], [5]),
        "nelson4": ([0.5, -0.5] * 7 + [0.5], [13, 14]),
        "nelson5": ([0, 2.5, 0, 2.5, 0], [3]),
        "nelson6": ([1.5, 1.5, 0, 1.5, 1.5, -0.2], [4]),
        "nelson7": ([0.1, -0.1] * 7 + [0.1, 2.0], [14]),
        "nelson8": ([1.5, -1.5] * 4 + [0.0], [7]),
    }
    for name, (z, expected) in cases.items():
        r = run_rules(np.array(z, float), 0.0, 1.0, enable=[name])
        assert list(r.points[name]) == expected, name


def test_patterns_just_short_do_not_fire():
    r = run_rules(np.array([0.5] * 8 + [-0.5] * 8), 0.0, 1.0)
    assert r.counts["nelson2"] == 0
    r = run_rules(np.array([0, 0.1, 0.2, 0.3, 0.4, 0.3]), 0.0, 1.0)
    assert r.counts["nelson3"] == 0
    # a point exactly on the 3-sigma limit is not beyond it; exactly on 2 sigma is not beyond zone A
    r = run_rules(np.array([3.0, 2.0, 2.0, 0.0]), 0.0, 1.0)
    assert r.counts["nelson1"] == 0 and r.counts["nelson5"] == 0


def test_western_electric_and_parameters():
    z = np.array([0.2] * 8 + [2.5, 2.5])
    r = run_rules(z, 0.0, 1.0, rules="western_electric")
    assert _pts(r) == {"we1": [], "we2": [9], "we3": [], "we4": [7, 8, 9]}
    r7 = run_rules(z, 0.0, 1.0, rules="western_electric", params={"we4": {"m": 7}})
    assert r7.points["we4"][0] == 6
    off = run_rules(z, 0.0, 1.0, rules="western_electric", disable=["we4"])
    assert [x.name for x in off.rules] == ["we1", "we2", "we3"]
    own = run_rules(z, 0.0, 1.0, rules=[RunRule("mine", "run_same_side", 3)])
    assert list(own.points["mine"]) == list(range(2, 10))
    assert own.last_alarm == 9


def test_window_flagging_and_variable_sigma():
    z = np.array([0, 2.5, 0, 2.5, 0])
    r = run_rules(z, 0.0, 1.0, enable=["nelson5"], flag="window")
    assert list(r.points["nelson5"]) == [1, 2, 3]
    # per-point sigma (variable limits): the same raw value is beyond where sigma is small
    r = run_rules(np.array([1.0, 1.0]), 0.0, np.array([0.5, 0.2]), enable=["nelson1"])
    assert list(r.points["nelson1"]) == [1]


def test_rules_on_a_chart_panel():
    rng = np.random.default_rng(11)
    data = rng.normal(10, 1, (30, 5))
    data[20:] += 0.8  # sustained shift
    c = xbar_r(data[:20])
    p = c.xbar
    sig = (p.ucl - p.center) / 3
    full = xbar_r(data, mu=c.grand_mean, sigma=c.sigma)
    r = run_rules(full.xbar.statistic, full.xbar.center, (full.xbar.ucl - full.xbar.center) / 3)
    assert r.any[20:].any()
    assert sig[0] == pytest.approx(c.sigma / np.sqrt(5))


def test_rule_set_errors():
    with pytest.raises(InvalidInputError, match="rules"):
        rule_set("acme")
    with pytest.raises(InvalidInputError, match="enable"):
        rule_set("nelson", enable=["nelson9"])
    with pytest.raises(InvalidInputError, match="params"):
        rule_set("nelson", params={"nelson5": {"k": 4}})
    with pytest.raises(InvalidInputError, match="sigma"):
        run_rules([1.0, 2.0], 0.0, 0.0)


def test_t2_limits_montgomery_example_11_1():
    # Montgomery (2009) Example 11.1: m = 20 subgroups of n = 10, p = 2, alpha = 0.001:
    # phase I UCL = 13.72, phase II UCL = 15.16, chi-square limit 13.816
    rng = np.random.default_rng(5)
    x = rng.normal(size=(20, 10, 2))
    r = hotelling_t2(x, alpha=0.001)
    assert r.chart.ucl[0] == pytest.approx(13.72, abs=5e-3)
    r2 = hotelling_t2(x, mean=r.mean, cov=r.cov, m_ref=20, alpha=0.001)
    assert r2.chart.ucl[0] == pytest.approx(15.16, abs=6e-3)  # 15.165: the book truncates
    r3 = hotelling_t2(x, mean=r.mean, cov=r.cov, alpha=0.001)
    assert r3.chart.ucl[0] == pytest.approx(13.816, abs=5e-4) and r3.limit == "chi2"


def test_t2_individuals_beta_limit_and_statistic():
    rng = np.random.default_rng(8)
    x = rng.multivariate_normal([1.0, 2.0, 3.0], [[1, 0.5, 0], [0.5, 2, 0.3], [0, 0.3, 1]], size=40)
    r = hotelling_t2(x, alpha=0.01)
    m, p = 40, 3
    assert r.limit == "beta"
    assert r.chart.ucl[0] == pytest.approx((m - 1) ** 2 / m * stats.beta.ppf(0.99, p / 2, (m - p - 1) / 2))
    d = x - x.mean(axis=0)
    t2 = np.einsum("ij,jk,ik->i", d, np.linalg.inv(np.cov(x.T)), d)
    assert r.chart.statistic == pytest.approx(t2, rel=1e-10)
    # the T2 of individuals sums to (m - 1) p exactly
    assert r.chart.statistic.sum() == pytest.approx((m - 1) * p, rel=1e-10)
    # phase II F limit of Tracy, Young & Mason (NIST e-Handbook 6.5.4.3.4)
    r2 = hotelling_t2(x[:5], mean=r.mean, cov=r.cov, m_ref=40, alpha=0.01)
    assert r2.chart.ucl[0] == pytest.approx(p * 41 * 39 / (40 * 40 - 40 * p) * stats.f.ppf(0.99, p, 40 - p))


def test_t2_one_variable_is_the_squared_xbar_statistic():
    rng = np.random.default_rng(9)
    x = rng.normal(size=(15, 4))
    r = hotelling_t2(x[:, :, None])
    pooled = np.mean(x.var(axis=1, ddof=1))
    z2 = 4 * (x.mean(axis=1) - x.mean()) ** 2 / pooled
    assert r.chart.statistic == pytest.approx(z2, rel=1e-10)


def test_t2_degenerate_and_bad():
    with pytest.warns(JingceWarning):
        r = hotelling_t2(np.ones((10, 2)))
    assert np.isnan(r.chart.statistic).all()
    with pytest.raises(InvalidInputError, match="data"):
        hotelling_t2(np.ones((3, 3)))
    with pytest.raises(InvalidInputError, match="cov"):
        hotelling_t2(np.ones((3, 2)), mean=[0, 0], cov=[[1, 2], [2, 1]])
    with pytest.raises(InvalidInputError, match="mean/cov"):
        hotelling_t2(np.ones((3, 2)), mean=[0, 0])
