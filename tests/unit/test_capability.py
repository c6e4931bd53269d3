"""Capability kernels against Montgomery's examples and independent computations."""

from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from jingce.errors import InvalidInputError, JingceWarning
from jingce.kernels.capability import PRESETS, anderson_darling, capability, strategy
from jingce.kernels.capability.core import cp_interval, cpk_interval

DATA = Path(__file__).parents[1] / "data"


def _rings():
    lines = [ln for ln in (DATA / "spc" / "piston_rings.csv").read_text().splitlines() if ln and ln[0] != "#"]
    return np.loadtxt(lines[1:], delimiter=",")[:25, 1:]


def _exact_sample(n, mean, s, rng):
    z = rng.standard_normal(n)
    z = (z - z.mean()) / z.std(ddof=1)
    return mean + s * z


def test_montgomery_example_cp_interval():
    # Example 8.5: n = 20, s = 1.75, USL = 62, LSL = 38 -> Cp = 2.29, 95 % CI 1.57 .. 3.01
    lo, hi = cp_interval(2.29, 19, 0.95)
    assert lo == pytest.approx(1.57, abs=5e-3) and hi == pytest.approx(3.01, abs=5e-3)
    x = _exact_sample(20, 50.0, 1.75, np.random.default_rng(1))
    r = capability(x, 38, 62, sigma_within="mr")
    assert r.pp == pytest.approx(24 / (6 * 1.75), rel=1e-12)
    assert r.pp == pytest.approx(2.29, abs=5e-3)
    assert r.pp_ci[0] == pytest.approx(r.pp * np.sqrt(stats.chi2.ppf(0.025, 19) / 19), rel=1e-12)
    assert r.pp_ci == pytest.approx((1.57, 3.01), abs=1e-2)


def test_montgomery_example_cpk_interval_bissell():
    # Example 8.6: n = 20, Cpk = 1.33 -> 0.88 <= Cpk <= 1.78
    lo, hi = cpk_interval(1.33, 20, 0.95)
    assert lo == pytest.approx(0.88, abs=5e-3) and hi == pytest.approx(1.78, abs=5e-3)


def test_piston_rings_capability():
    x = _rings()
    r = capability(x, 73.95, 74.05, strategy="aiag")
    assert r.sigma_method == "rbar" and r.subgroup_size == 5
    rbar = np.ptp(x, axis=1).mean()
    assert r.sigma_within == pytest.approx(rbar / 2.326, rel=1e-12)  # tabled d2 under AIAG
    assert r.cp == pytest.approx(0.10 / (6 * rbar / 2.326), rel=1e-12)
    assert r.cp == pytest.approx(1.68, abs=0.03)  # the book rounds sigma to 0.0099
    assert 0.10 / (6 * 0.0099) == pytest.approx(1.68, abs=5e-3)
    assert r.cpk == pytest.approx(min(74.05 - x.mean(), x.mean() - 73.95) / (3 * r.sigma_within), rel=1e-12)
    assert r.pp == pytest.approx(0.10 / (6 * x.std(ddof=1)), rel=1e-12)
    assert r.strategy.name == "aiag" and r.strategy.constants == "tabled"


def test_cpm_and_one_sided_and_ppm():
    rng = np.random.default_rng(2)
    x = _exact_sample(100, 10.5, 1.0, rng)
    r = capability(x, 6.0, 14.0, target=10.0)
    assert r.cpm == pytest.approx(8 / (6 * np.sqrt(1 + 0.25)), rel=1e-12)
    assert r.ppm_overall[0] == pytest.approx(stats.norm.cdf(6, 10.5, 1) * 1e6, rel=1e-9)
    assert r.ppm_overall[1] == pytest.approx(stats.norm.sf(14, 10.5, 1) * 1e6, rel=1e-9)
    up = capability(x, usl=14.0)
    assert np.isnan(up.cp) and np.isnan(up.cpl) and up.cpk == up.cpu
    assert up.ppm_overall[0] == 0.0


def test_anderson_darling_against_statsmodels():
    from statsmodels.stats.diagnostic import normal_ad

    for seed, gen in ((1, "normal"), (2, "lognormal"), (3, "uniform")):
        rng = np.random.default_rng(seed)
        x = getattr(rng, gen)(size=60)
        a2, p = normal_ad(x)
        t = anderson_darling(x)
        assert t.statistic == pytest.approx(a2, rel=1e-9)
        assert t.p_value == pytest.approx(p, abs=1e-6)


def test_box_cox_and_johnson_and_percentile():
    rng = np.random.default_rng(4)
    x = rng.lognormal(0.0, 0.5, 300)
    bc = capability(x, 0.1, 8.0, distribution="box-cox")
    assert bc.transform.params["lambda"] == pytest.approx(stats.boxcox(x)[1], rel=1e-6)
    assert bc.method == "box-cox"
    y = stats.boxcox(x)[1]
    del y
    jo = capability(x, 0.1, 8.0, distribution="johnson")
    assert jo.method.startswith("johnson")
    pc = capability(x, 0.1, 8.0, distribution="percentile", family="lognormal")
    shape, _, scale = stats.lognorm.fit(x, floc=0)
    d = stats.lognorm(shape, 0, scale)
    q0, q50, q1 = d.ppf([0.00135, 0.5, 0.99865])
    assert pc.ppk == pytest.approx(min((8 - q50) / (q1 - q50), (q50 - 0.1) / (q50 - q0)), rel=1e-6)
    assert pc.method == "percentile:lognormal"
    best = capability(x, 0.1, 8.0, distribution="percentile")
    assert best.fitted.family in ("lognormal", "loglogistic", "gamma", "weibull")
    # the normal method misjudges the lower tail of skewed data
    assert capability(x, 0.1, 8.0).ppl < pc.ppl


def test_iso_22514_models():
    rng = np.random.default_rng(5)
    stable = rng.normal(10, 1, (25, 5))
    assert capability(stable, 5, 15, strategy="vda").model.model == "A1"
    moving = stable + rng.normal(0, 2.0, (25, 1))
    m = capability(moving, 0, 20, strategy="vda").model
    assert m.model in ("C1", "C2") and m.p_location < 0.05
    trend = stable + np.linspace(0, 6, 25)[:, None]
    assert capability(trend, 0, 25, strategy="vda").model.model in ("C3", "C4")
    skew = rng.lognormal(0, 0.6, (25, 5))
    r = capability(skew, None, 10, strategy="vda")
    assert r.model.model in ("A2", "B") and r.method.startswith("percentile")  # Bartlett reacts to skew too
    disp = stable * np.where(np.arange(25) % 2, 3.0, 1.0)[:, None]
    assert capability(disp, -30, 50, strategy="vda").model.model in ("B", "D")


def test_presets_and_overrides_recorded():
    assert set(PRESETS) >= {"aiag", "vda", "bosch"}
    assert PRESETS["bosch"].limit_k == pytest.approx(2.576)
    s = strategy("aiag", ci_level=0.9)
    assert s.ci_level == 0.9 and s.name == "aiag*"
    r = capability(np.random.default_rng(6).normal(size=50), -4, 4, strategy={"sigma_within": "mr", "ci_level": 0.99})
    assert r.strategy.ci_level == 0.99


def test_constant_data_warns_and_gives_inf():
    with pytest.warns(JingceWarning):
        r = capability(np.full(20, 3.0), 2.0, 4.0)
    assert np.isinf(r.cp) and np.isinf(r.pp)


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"values": [1.0, 2.0, 3.0], "lsl": 3.0, "usl": 1.0}, "lsl"),
        ({"values": [1.0, 2.0, 3.0]}, "lsl/usl"),
        ({"values": [1.0, np.nan, 3.0], "usl": 4.0}, "values"),
        ({"values": [1.0], "usl": 4.0}, "values"),
        ({"values": [1.0, 2.0, 3.0], "usl": 4.0, "subgroup_size": 2}, "values"),
        ({"values": [1.0, 2.0, 3.0, 4.0], "usl": 5.0, "strategy": "iso9000"}, "strategy"),
        ({"values": [1.0, 2.0, 3.0, 4.0], "usl": 5.0, "distribution": "cauchy"}, "distribution"),
        ({"values": [-1.0, 2.0, 3.0, 4.0], "usl": 5.0, "distribution": "box-cox"}, "distribution"),
        ({"values": np.ones((3, 30)), "usl": 5.0, "sigma_within": "rbar"}, "subgroup_size"),
    ],
)
def test_bad_input(kwargs, argument):
    with pytest.raises(InvalidInputError) as exc:
        capability(**kwargs)
    assert exc.value.details["argument"] == argument
