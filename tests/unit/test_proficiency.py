"""ISO 13528 scores and robust statistics on NIST GEAR.DAT against Dataplot (tests/data/proficiency/README.md)."""

import math
from pathlib import Path

import numpy as np
import pytest
import yaml
from scipy import stats

from jingce.errors import InvalidInputError, JingceWarning
from jingce.kernels import proficiency as pf

DATA = Path(__file__).parents[1] / "data" / "proficiency"


@pytest.fixture(scope="module")
def gear():
    arr = np.loadtxt(DATA / "GEAR.DAT", comments="#")
    return arr[:, 0], arr[:, 1].astype(int)


@pytest.fixture(scope="module")
def dataplot():
    return yaml.safe_load((DATA / "dataplot_gear.yaml").read_text())


def batch_sd(y, batch):
    return np.array([y[batch == b].std(ddof=1) for b in np.unique(batch)])


def test_gear_data_integrity(gear):
    y, batch = gear
    groups = [y[batch == b] for b in range(1, 11)]
    assert stats.bartlett(*groups).statistic == pytest.approx(20.78580, abs=1e-4)
    assert stats.levene(*groups, center="median").statistic == pytest.approx(1.705910, abs=1e-5)


def test_z_and_z_prime_match_dataplot(gear, dataplot):
    y, _ = gear
    sd = y.std(ddof=1)
    z = pf.z_score(y, 1.0, sd)
    zp = pf.z_prime_score(y, 1.0, sd, 0.001)
    np.testing.assert_allclose(z[: len(dataplot["z_first"])], dataplot["z_first"], atol=0.001)
    np.testing.assert_allclose(zp[: len(dataplot["z_prime_first"])], dataplot["z_prime_first"], atol=0.001)


def test_zeta_and_en_match_dataplot(gear, dataplot):
    y, batch = gear
    sd = y.std(ddof=1)
    ulab = batch_sd(y, batch)[batch - 1]
    zeta = pf.zeta_score(y, ulab, 1.0, sd)
    en = pf.en_score(y, 2 * ulab, 1.0, 2 * sd)
    np.testing.assert_allclose(zeta[:5], dataplot["zeta_first"], atol=0.001)
    np.testing.assert_allclose(en[:4], dataplot["en_first"], atol=0.001)


def test_algorithm_s_matches_dataplot_with_table_factors(gear, dataplot):
    y, batch = gear
    w = batch_sd(y, batch)
    eta, xi = pf.algorithm_s_factors(9)
    assert (round(eta, 3), round(xi, 3)) == (1.277, 1.018)  # ISO 13528 Table C.2, nu = 9
    assert [round(v, 3) for v in pf.algorithm_s_factors(1)] == [1.645, 1.097]
    table = pf.algorithm_s(w, 9, eta=1.277, xi=1.018)
    assert table.w_star == pytest.approx(dataplot["robust_pooled_sd"], rel=1e-4)
    exact = pf.algorithm_s(w, 9)
    assert exact.converged and exact.w_star == pytest.approx(0.0053329, rel=1e-4)


def _plain_algorithm_a(x):
    xs = np.median(x)
    ss = 1.483 * np.median(np.abs(x - xs))
    for _ in range(500):
        d = 1.5 * ss
        w = np.minimum(np.maximum(x, xs - d), xs + d)
        xs, ss = w.mean(), 1.134 * w.std(ddof=1)
    return xs, ss


def test_algorithm_a_two_ways(gear):
    y, _ = gear
    r = pf.algorithm_a(y)
    assert r.converged
    xs, ss = _plain_algorithm_a(y)
    assert r.x_star == pytest.approx(xs, abs=1e-12)
    assert r.s_star == pytest.approx(ss, rel=1e-9)
    from statsmodels.robust.scale import Huber

    loc, scale = Huber(c=1.5, tol=1e-12, maxiter=1000)(y)
    assert r.x_star == pytest.approx(float(loc), abs=1e-6)
    assert r.s_star == pytest.approx(float(scale), rel=2e-3)


def test_algorithm_a_resists_outliers():
    x = np.array([10.0, 10.1, 9.9, 10.05, 9.95, 10.02, 9.98, 50.0])
    r = pf.algorithm_a(x)
    assert abs(r.x_star - 10.0) < 0.1 and r.s_star < 0.2


def test_assigned_value_and_classification():
    x = np.array([10.02, 9.98, 10.05, 10.01, 9.97, 10.00, 10.31, 9.99, 10.03, 9.96])
    av = pf.assigned_value(x)
    rob = pf.algorithm_a(x)
    assert av.u_x_pt == pytest.approx(1.25 * rob.s_star / math.sqrt(10))
    sc = pf.scores(x, u_x=np.full(10, 0.02), sigma_pt=0.05)
    assert sc.z_class[6] == "unsatisfactory" and sc.z_class[0] == "satisfactory"
    assert list(pf.classify([1.9, 2.0, 2.5, 3.0, -3.1], "z")) == [
        "satisfactory", "satisfactory", "questionable", "unsatisfactory", "unsatisfactory"]
    assert list(pf.classify([0.99, 1.0, 1.01], "en")) == ["satisfactory", "satisfactory", "unsatisfactory"]
    ref = pf.assigned_value(method="reference", reference=10.0, u_reference=0.02, sigma_pt=0.05)
    assert not ref.uncertainty_negligible  # 0.02 > 0.3 * 0.05


def test_bad_and_degenerate_input():
    with pytest.raises(InvalidInputError, match="sigma_pt"):
        pf.z_score([1.0], 1.0, 0.0)
    with pytest.raises(InvalidInputError, match="values"):
        pf.algorithm_a([1.0])
    with pytest.raises(InvalidInputError, match="sds"):
        pf.algorithm_s([0.1, -0.1], 3)
    with pytest.warns(JingceWarning, match="MAD"):
        r = pf.algorithm_a([1.0, 1.0, 1.0, 2.0])
    assert r.s_star == 0.0
