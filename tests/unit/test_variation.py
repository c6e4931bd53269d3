"""Stream-of-variation kernel against NIST StRD (Norris, Longley, SiRstv) and LMG checks
(tests/data/variation/README.md)."""

import itertools
import json
import math
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from jingce.cli.app import app
from jingce.errors import InvalidInputError, JingceWarning
from jingce.kernels import variation as va

DATA = Path(__file__).parents[1] / "data" / "variation"

# NIST StRD Longley certified values (https://www.itl.nist.gov/div898/strd/lls/data/Longley.shtml)
LONGLEY_B = [-3482258.63459582, 15.0618722713733, -0.358191792925910e-01, -2.02022980381683, -1.03322686717359,
             -0.511041056535807e-01, 1829.15146461355]
LONGLEY_SE = [890420.383607373, 84.9149257747669, 0.334910077722432e-01, 0.488399681651699, 0.214274163161675,
              0.226073200069370, 455.478499142212]
LONGLEY_RSD, LONGLEY_R2 = 304.854073561965, 0.995479004577296


def _longley():
    d = np.loadtxt(DATA / "longley.csv", delimiter=",", comments="#", skiprows=4)
    return d[:, 0], d[:, 1:]


def test_ols_longley_certified():
    y, x = _longley()
    r = va.ols(y, x)
    np.testing.assert_allclose(r.coefficients, LONGLEY_B, rtol=1e-8)
    np.testing.assert_allclose(r.standard_errors, LONGLEY_SE, rtol=1e-8)
    assert r.residual_sd == pytest.approx(LONGLEY_RSD, rel=1e-8)
    assert r.r_squared == pytest.approx(LONGLEY_R2, rel=1e-10)
    assert r.df_residual == 9 and r.rank == 6 and r.n == 16
    assert r.adjusted_r_squared == pytest.approx(1 - (1 - LONGLEY_R2) * 15 / 9, rel=1e-10)
    np.testing.assert_allclose(r.t_values, np.array(LONGLEY_B) / LONGLEY_SE, rtol=1e-7)


def test_ols_norris_certified():
    d = np.loadtxt(DATA / "Norris.dat", skiprows=60)
    r = va.ols(d[:, 0], d[:, 1])
    np.testing.assert_allclose(r.coefficients, [-0.262323073774029, 1.00211681802045], rtol=1e-10)
    np.testing.assert_allclose(r.standard_errors, [0.232818234301152, 0.429796848199937e-03], rtol=1e-10)
    assert r.residual_sd == pytest.approx(0.884796396144373, rel=1e-10)
    assert r.r_squared == pytest.approx(0.999993745883712, rel=1e-12)
    assert r.f_statistic == pytest.approx(5436385.54079785, rel=1e-8)  # certified ANOVA table


def test_ols_p_values_match_t_distribution():
    from scipy import stats

    y, x = _longley()
    r = va.ols(y, x)
    np.testing.assert_allclose(r.p_values, 2 * stats.t.sf(np.abs(r.t_values), 9), rtol=1e-12)
    assert r.p_values[2] > 0.3 and r.p_values[3] < 0.01  # x2 (GNP) not significant, x3 (unemployed) is


def test_anova_sirstv_certified():
    d = np.loadtxt(DATA / "SiRstv.dat", skiprows=60)
    a = va.one_way_anova(d[:, 1], d[:, 0].astype(int))
    assert (a.df_between, a.df_within) == (4, 20)
    assert a.ss_between == pytest.approx(5.11462616000000e-02, rel=1e-9)
    assert a.ss_within == pytest.approx(2.16636560000000e-01, rel=1e-9)
    assert a.ms_between == pytest.approx(1.27865654000000e-02, rel=1e-9)
    assert a.ms_within == pytest.approx(1.08318280000000e-02, rel=1e-9)
    assert a.f_statistic == pytest.approx(1.18046237440255, rel=1e-9)
    assert a.eta_squared == pytest.approx(1.90999039051129e-01, rel=1e-9)  # certified R-squared
    assert a.residual_sd == pytest.approx(1.04076068334656e-01, rel=1e-9)
    assert list(a.counts) == [5] * 5


def test_anova_labels_are_strings():
    a = va.one_way_anova([1.0, 1.1, 2.0, 2.1, 2.2], ["M2", "M2", "M1", "M1", "M1"])
    assert list(a.levels) == ["M1", "M2"]
    np.testing.assert_allclose(a.means, [2.1, 1.05])
    assert 0 < a.p_value < 0.01


def test_lmg_equals_average_over_orderings_on_longley():
    """Independent computation: refit OLS for every prefix of every one of the 720 orderings."""
    y, x = _longley()
    p = x.shape[1]
    cache: dict[tuple, float] = {(): 0.0}

    def r2(s):
        key = tuple(sorted(s))
        if key not in cache:
            cache[key] = va.ols(y, x[:, list(key)]).r_squared
        return cache[key]

    direct = np.zeros(p)
    for perm in itertools.permutations(range(p)):
        for i, j in enumerate(perm):
            direct[j] += r2(perm[: i + 1]) - r2(perm[:i])
    direct /= math.factorial(p)
    res = va.lmg(y, x)
    np.testing.assert_allclose(res.shares, direct, atol=1e-12)
    assert res.shares.sum() == pytest.approx(LONGLEY_R2, rel=1e-10)
    assert res.relative.sum() == pytest.approx(1.0)
    first = [va.ols(y, x[:, [j]]).r_squared for j in range(p)]
    np.testing.assert_allclose(res.first, first, atol=1e-12)
    last = [LONGLEY_R2 - r2([k for k in range(p) if k != j]) for j in range(p)]
    np.testing.assert_allclose(res.last, last, atol=1e-12)


def test_lmg_two_predictors_closed_form():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(200, 2))
    x[:, 1] += 0.6 * x[:, 0]
    y = 2 * x[:, 0] - x[:, 1] + rng.normal(size=200)
    res = va.lmg(y, x)
    r1, r2 = (np.corrcoef(x[:, j], y)[0, 1] ** 2 for j in range(2))
    full = va.ols(y, x).r_squared
    np.testing.assert_allclose(res.shares, [(r1 + full - r2) / 2, (r2 + full - r1) / 2], atol=1e-12)


def test_attribute_ranks_the_coupled_component_first():
    rng = np.random.default_rng(11)
    n = 400
    shaft, bearing, noise_src = rng.normal(0, 0.004, n), rng.normal(0, 0.003, n), rng.normal(0, 0.004, n)
    y = 1.6 * shaft + 1.2 * bearing + rng.normal(0, 0.002, n)
    att = va.attribute(y, np.column_stack((noise_src, bearing, shaft)))
    assert list(att.order[:2]) == [2, 1]
    assert att.fit.p_values[1] > 0.01 and att.fit.p_values[3] < 1e-10
    np.testing.assert_allclose(att.fit.coefficients[1:], [0, 1.2, 1.6], atol=0.1)


def test_bad_input_names_the_argument():
    with pytest.raises(InvalidInputError, match="x must have one row per value of y"):
        va.ols([1.0, 2.0, 3.0], [[1.0], [2.0]])
    with pytest.raises(InvalidInputError, match="y must hold at least"):
        va.ols([1.0, 2.0], [1.0, 2.0])
    with pytest.raises(InvalidInputError, match="y must be finite"):
        va.ols([1.0, np.nan, 3.0, 4.0], [1.0, 2.0, 3.0, 4.0])
    with pytest.raises(InvalidInputError, match="at most"):
        va.lmg(np.zeros(40), np.zeros((40, va.MAX_LMG_PREDICTORS + 1)))
    with pytest.raises(InvalidInputError, match="groups must have at least 2 distinct levels"):
        va.one_way_anova([1.0, 2.0, 3.0], ["a", "a", "a"])
    with pytest.raises(InvalidInputError, match="groups must be one label per value"):
        va.one_way_anova([1.0, 2.0, 3.0], ["a", "b"])


def test_degenerate_data_warns_and_gives_nan():
    with pytest.warns(JingceWarning, match="zero spread"):
        res = va.lmg(np.ones(10), np.arange(20.0).reshape(10, 2) ** 2)
    assert np.isnan(res.r_squared)
    with pytest.warns(JingceWarning, match="collinear"):
        r = va.ols(np.arange(10.0) + np.sin(np.arange(10.0)), np.column_stack((np.arange(10.0), 2 * np.arange(10.0))))
    assert r.rank == 1 and np.isnan(r.coefficients).sum() == 1
    with pytest.warns(JingceWarning):
        va.ols(np.arange(6.0), np.column_stack((np.arange(6.0) ** 2, np.ones(6))))


runner = CliRunner()


@pytest.mark.parametrize("name", ["variation.attribute", "variation.ols", "variation.anova"])
def test_cli_examples(name, tmp_path):
    ex = runner.invoke(app, ["calc", "run", name, "--example"])
    assert ex.exit_code == 0, ex.output
    inp = tmp_path / "in.json"
    inp.write_text(ex.output)
    args = ["calc", "run", name, str(inp)]
    if name != "variation.ols":
        args += ["--plot", str(tmp_path / "v.png")]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    if name != "variation.ols":
        assert (tmp_path / "v.png").stat().st_size > 5000
    data = json.loads(res.output)
    if name == "variation.attribute":
        assert data["order"][0] == 0 and data["importance"]["r_squared"] > 0.9
    if name == "variation.anova":
        assert data["p_value"] < 0.01
