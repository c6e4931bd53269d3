"""X-bar-R, X-bar-s, I-MR and Z-MR charts against published examples (sources in tests/data/spc)."""

from pathlib import Path

import numpy as np
import pytest

from jingce.errors import InvalidInputError, JingceWarning
from jingce.kernels.spc import chart_constants, imr, xbar_r, xbar_s, zmr

DATA = Path(__file__).parents[1] / "data" / "spc"


def _csv(name):
    lines = [ln for ln in (DATA / name).read_text().splitlines() if ln and not ln.startswith("#")]
    return np.loadtxt(lines[1:], delimiter=",", ndmin=2)


@pytest.fixture(scope="module")
def rings():
    return _csv("piston_rings.csv")[:, 1:]


def test_piston_rings_xbar_r_phase1(rings):
    c = xbar_r(rings[:25])
    # Montgomery (2009) Example 6.1: x-double-bar = 74.001, R-bar = 0.023, limits 73.988 / 74.014
    assert c.grand_mean == pytest.approx(74.001, abs=5e-4)
    assert c.r_bar == pytest.approx(0.023, abs=5e-4)
    assert c.xbar.ucl[0] == pytest.approx(74.014, abs=5e-4)
    assert c.xbar.lcl[0] == pytest.approx(73.988, abs=5e-4)
    # the book's R chart UCL = D4 R-bar is computed with R-bar rounded to 0.023: 2.114 x 0.023 = 0.049
    tab = xbar_r(rings[:25], constants="tabled")
    assert tab.constants.D4 * round(tab.r_bar, 3) == pytest.approx(0.049, abs=5e-4)
    assert c.r.lcl[0] == 0.0
    assert c.xbar.beyond.size == 0 and c.r.beyond.size == 0  # "the process is in control"
    # independent computation with plain numpy on the full-precision data
    means, ranges = rings[:25].mean(axis=1), np.ptp(rings[:25], axis=1)
    assert c.grand_mean == pytest.approx(means.mean(), rel=1e-14)
    assert c.r_bar == pytest.approx(ranges.mean(), rel=1e-12)
    a2 = 3 / (chart_constants(5).d2 * np.sqrt(5))
    assert c.xbar.ucl[0] == pytest.approx(means.mean() + a2 * ranges.mean(), rel=1e-14)
    # the R package qcc prints 73.98805 / 74.0143 for these 25 subgroups
    assert c.xbar.lcl[0] == pytest.approx(73.98805, abs=5e-6)
    assert c.xbar.ucl[0] == pytest.approx(74.0143, abs=5e-5)
    assert c.sigma == pytest.approx(ranges.mean() / 2.325929, rel=1e-6)


def test_piston_rings_phase2_signals_the_shift(rings):
    p1 = xbar_r(rings[:25])
    p2 = xbar_r(rings[25:], mu=p1.grand_mean, sigma=p1.sigma)
    assert p2.phase == "II"
    # Montgomery Example 6.1 (Table 6.4, Fig. 6.5): the X-bar chart signals near the end of phase II
    # (samples 37, 38, 39 beyond the upper limit, numbering the phase II samples 26..40)
    assert list(p2.xbar.beyond + 26) == [37, 38, 39]
    assert p2.xbar.ucl[0] == pytest.approx(p1.xbar.ucl[0], rel=1e-12)
    assert p2.r.ucl[0] == pytest.approx(p1.r.ucl[0], rel=1e-9)  # D2 sigma == D4 R-bar


def test_piston_rings_xbar_s(rings):
    c = xbar_s(rings[:25])
    assert c.grand_mean == pytest.approx(74.001, abs=5e-4)
    assert c.xbar.ucl[0] == pytest.approx(74.014, abs=5e-4)
    assert c.xbar.lcl[0] == pytest.approx(73.988, abs=5e-4)
    s = rings[:25].std(axis=1, ddof=1)
    assert c.s_bar == pytest.approx(s.mean(), rel=1e-12)
    cc = chart_constants(5)
    assert c.s.ucl[0] == pytest.approx(cc.B4 * s.mean(), rel=1e-12)
    assert c.s.lcl[0] == 0.0
    assert c.sigma == pytest.approx(s.mean() / cc.c4, rel=1e-12)
    assert cc.c4 == pytest.approx(0.9400, abs=5e-5)


def test_drop_out_of_control_phase1(rings):
    data = rings[:25].copy()
    data[[4, 17]] += 0.03  # two shifted subgroups
    first = xbar_r(data)
    assert set(first.xbar.beyond) >= {4, 17}
    c = xbar_r(data, drop_out_of_control=True)
    assert set(c.excluded) >= {4, 17} and c.iterations >= 2
    kept = np.setdiff1d(np.arange(25), c.excluded)
    assert c.grand_mean == pytest.approx(data[kept].mean(), rel=1e-14)
    assert c.xbar.statistic.size == 25  # every subgroup is still plotted


def test_nist_flowrate_imr():
    x = _csv("nist_flowrate_imr.csv")[:, 0]
    c = imr(x, constants="tabled")
    assert c.mean == pytest.approx(50.81, abs=1e-12)
    assert c.mr_bar == pytest.approx(1.8778, abs=5e-5)
    assert c.i.ucl[0] == pytest.approx(55.8041, abs=5e-5)
    assert c.i.lcl[0] == pytest.approx(45.8159, abs=5e-5)
    assert c.mr.ucl[0] == pytest.approx(3.267 * 1.8778, abs=1e-4)  # D4 MR-bar
    assert c.mr.lcl[0] == 0.0
    assert np.isnan(c.mr.statistic[0])
    assert c.i.beyond.size == 0 and c.mr.beyond.size == 0
    exact = imr(x)
    assert exact.i.ucl[0] == pytest.approx(50.81 + 3 * 1.8778 / 1.1283791671, abs=1e-4)


def test_montgomery_runger_concentration_imr():
    # Montgomery & Runger, Applied Statistics and Probability for Engineers, 3rd ed. (2003),
    # section 16-6, Table 16-3: x-bar = 99.1, MR-bar = 2.59, limits 92.21 / 105.99 (d2 = 1.128)
    x = _csv("montgomery_runger_concentration.csv")[:, 0]
    c = imr(x, constants="tabled")
    assert c.mean == pytest.approx(99.1, abs=5e-3)
    assert c.mr_bar == pytest.approx(2.59, abs=5e-3)
    assert c.i.ucl[0] == pytest.approx(105.99, abs=1e-2)
    assert c.i.lcl[0] == pytest.approx(92.21, abs=1e-2)
    assert c.i.beyond.size == 0 and c.mr.beyond.size == 0  # "no indication of an out-of-control condition"


def test_imr_phase2_and_span():
    x = np.array([1.0, 2.0, 1.5, 3.0, 2.5, 2.0])
    c = imr(x, mu=2.0, sigma=0.5)
    assert c.i.ucl[0] == 3.5 and c.i.lcl[0] == 0.5
    assert c.mr.center[0] == pytest.approx(chart_constants(2).d2 * 0.5)
    c3 = imr(x, span=3)
    assert np.isnan(c3.mr.statistic[:2]).all() and c3.mr.statistic[2] == 1.0


def test_point_on_limit_is_not_beyond():
    x = np.array([0.0, 3.0, -3.0, 3.0000001])
    c = imr(x, mu=0.0, sigma=1.0)
    assert list(c.i.beyond) == [3]


def test_zmr_two_part_types():
    rng = np.random.default_rng(1)
    g = np.array(["A", "B"] * 30)
    x = np.where(g == "A", 10.0, 50.0) + rng.normal(0, 1, 60) * np.where(g == "A", 0.1, 2.0)
    c = zmr(x, g)
    assert list(c.groups) == ["A", "B"]
    assert c.target == pytest.approx([x[g == "A"].mean(), x[g == "B"].mean()])
    mr_a = np.abs(np.diff(x[g == "A"])).mean() / chart_constants(2).d2
    assert c.sigma[0] == pytest.approx(mr_a)
    assert c.z.ucl[0] == 3.0 and c.z.lcl[0] == -3.0
    z = zmr(x, g, target={"A": 10.0, "B": 50.0}, sigma={"A": 0.1, "B": 2.0})
    assert z.z.statistic[0] == pytest.approx((x[0] - 10.0) / 0.1)


def test_constant_data_warns_not_crashes():
    with pytest.warns(JingceWarning):
        c = xbar_r(np.full((5, 4), 2.5))
    assert c.xbar.ucl[0] == 2.5 and c.sigma == 0.0
    with pytest.warns(JingceWarning):
        imr(np.ones(10))


@pytest.mark.parametrize(
    ("call", "argument"),
    [
        (lambda: xbar_r(np.ones((5, 26))), "data"),
        (lambda: xbar_r(np.ones((5, 1))), "data"),
        (lambda: xbar_r(np.ones((1, 5))), "data"),
        (lambda: xbar_r(np.ones(5)), "data"),
        (lambda: xbar_r([[1.0, np.nan], [1.0, 2.0]]), "data"),
        (lambda: xbar_r(np.ones((5, 3)), mu=1.0), "mu/sigma"),
        (lambda: xbar_r(np.ones((5, 3)), mu=1.0, sigma=-1.0), "sigma"),
        (lambda: xbar_s(np.ones((5, 101))), "data"),
        (lambda: imr([1.0]), "data"),
        (lambda: imr([1.0, np.inf]), "data"),
        (lambda: imr([1.0, 2.0], k=0), "k"),
        (lambda: zmr([1.0, 2.0, 3.0], ["a", "b"]), "groups"),
    ],
)
def test_bad_input(call, argument):
    with pytest.raises(InvalidInputError) as exc:
        call()
    assert exc.value.details["argument"] == argument
