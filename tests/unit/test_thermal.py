"""Regression thermal error model against statsmodels OLS and direct formulas (tests/data/thermal/README.md)."""

import json
import warnings

import numpy as np
import pytest
import statsmodels.api as sm
from typer.testing import CliRunner

from jingce.cli.app import app
from jingce.errors import InvalidInputError, JingceWarning
from jingce.kernels import thermal as th

TRUE_BETA = np.array([-3.1, -1.4, 0.6])  # µm/K
NOISE = 0.15


def _record(seed=0, n=240):
    rng = np.random.default_rng(seed)
    t = np.arange(n, dtype=float)
    heat = np.where(t < 150, 1 - np.exp(-t / 35), (1 - np.exp(-150 / 35)) * np.exp(-(t - 150) / 40))
    spindle = 21.0 + 8.0 * heat + rng.normal(0, 0.02, n)
    column = 21.0 + 2.5 * (1 - np.exp(-t / 90)) + rng.normal(0, 0.02, n)
    ambient = 20.5 + 0.8 * np.sin(2 * np.pi * t / 240) + rng.normal(0, 0.02, n)
    temps = np.column_stack([spindle, column, ambient])
    dz = 1.2 + (temps - temps[0]) @ TRUE_BETA + rng.normal(0, NOISE, n)
    return temps, dz


def test_against_statsmodels_and_direct_formulas():
    temps, dz = _record()
    m = th.fit(temps, dz, sensors=["spindle", "column", "ambient"], channels=["Z"], test_fraction=0.25)
    train = m.train
    assert np.count_nonzero(m.test) == 60 and np.all(m.test[-60:])  # chronological hold-out
    x = temps - temps[0]
    ols = sm.OLS(dz[train], sm.add_constant(x[train])).fit()
    np.testing.assert_allclose(m.coefficients[:, 0], ols.params[1:], rtol=1e-9)
    assert m.intercept[0] == pytest.approx(ols.params[0], rel=1e-9)
    assert m.train_rmse[0] == pytest.approx(np.sqrt(np.mean(ols.resid**2)), rel=1e-9)
    # injected coefficients recovered
    assert np.all(np.abs(ols.params[1:] - TRUE_BETA) < 4 * ols.bse[1:])
    # held-out metrics by hand
    pred = ols.params[0] + x[m.test] @ ols.params[1:]
    resid = dz[m.test] - pred
    assert m.test_rmse[0] == pytest.approx(np.sqrt(np.mean(resid**2)), rel=1e-9)
    assert m.test_max_abs[0] == pytest.approx(np.max(np.abs(resid)), rel=1e-9)
    ss_tot = np.sum((dz[m.test] - dz[m.test].mean()) ** 2)
    assert m.test_r2[0] == pytest.approx(1 - np.sum(resid**2) / ss_tot, rel=1e-9)
    assert m.test_range_before[0] == pytest.approx(np.ptp(dz[m.test]))
    assert m.reduction[0] == pytest.approx(1 - np.ptp(resid) / np.ptp(dz[m.test]))
    assert m.test_rmse[0] < 2 * NOISE and m.reduction[0] > 0.8
    np.testing.assert_allclose(m.fitted[:, 0], ols.params[0] + x @ ols.params[1:], rtol=1e-9)


def test_prediction_and_compensation_term():
    temps, dz = _record(1)
    m = th.fit(temps, dz)
    p = th.predict(m, temps[:5])
    assert p.shape == (5, 1)
    np.testing.assert_allclose(th.compensation(m, temps[:5]), -p)
    np.testing.assert_allclose(th.predict(m, temps[7]), m.fitted[7:8])
    # compensated displacement (measured + compensation term) on held-out data is just the noise
    comp = dz[m.test] + th.compensation(m, temps[m.test])[:, 0]
    assert np.std(comp) < 2 * NOISE


def test_multi_channel_and_explicit_mask():
    temps, dz = _record(2)
    dxz = np.column_stack([dz, 0.5 * dz + 0.3])
    mask = np.zeros(len(dz), bool)
    mask[100:140] = True  # hold out a middle block (e.g. a separate test run)
    m = th.fit(temps, dxz, test_mask=mask)
    assert m.coefficients.shape == (3, 2) and m.channels == ("d1", "d2")
    np.testing.assert_allclose(m.coefficients[:, 1], 0.5 * m.coefficients[:, 0], rtol=1e-9)
    assert np.array_equal(m.test, mask)


def test_collinear_sensors_warn_and_ridge_shrinks():
    temps, dz = _record(3)
    twin = np.column_stack([temps, temps[:, 0] + np.random.default_rng(9).normal(0, 0.001, len(dz))])
    with pytest.warns(JingceWarning, match="collinear"):
        m0 = th.fit(twin, dz)
    assert m0.condition_number > 1e3 and np.nanmax(m0.vif) > 10
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", JingceWarning)
        m1 = th.fit(twin, dz, ridge=0.1)
        m5 = th.fit(twin, dz, ridge=5.0)
    n0, n1, n5 = (np.linalg.norm(m.coefficients) for m in (m0, m1, m5))
    assert n1 < n0 and n5 < n0
    # the sum of the twin sensors' coefficients is what the data determine (OLS and light ridge agree);
    # ridge splits it evenly between the twins where OLS splits it arbitrarily
    for m in (m0, m1):
        assert m.coefficients[0, 0] + m.coefficients[3, 0] == pytest.approx(TRUE_BETA[0], abs=0.1)
    assert abs(m1.coefficients[0, 0] - m1.coefficients[3, 0]) < 0.01 < abs(m0.coefficients[0, 0] - m0.coefficients[3, 0])


def test_constant_sensor_warns_and_is_ignored():
    temps, dz = _record(4)
    temps = np.column_stack([temps, np.full(len(dz), 20.0)])
    with pytest.warns(JingceWarning, match="did not change"):
        m = th.fit(temps, dz)
    assert m.coefficients[3, 0] == 0.0


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"temperatures": np.ones((10, 2)), "displacement": np.ones(9)}, "displacement"),
        ({"temperatures": np.ones((10, 2)), "displacement": np.ones(10), "test_mask": [True] * 3}, "test_mask"),
        ({"temperatures": np.ones((4, 3)), "displacement": np.ones(4)}, "temperatures"),
        ({"temperatures": [[1.0, np.nan]] * 10, "displacement": np.ones(10)}, "temperatures"),
        ({"temperatures": np.ones((10, 2)), "displacement": np.ones(10), "ridge": -1}, "ridge"),
        ({"temperatures": np.ones((10, 2)), "displacement": np.ones(10), "sensors": ["a"]}, "sensors"),
    ],
)
def test_bad_input_names_the_argument(kwargs, argument):
    with pytest.raises(InvalidInputError) as exc:
        th.fit(**kwargs)
    assert exc.value.details["argument"] == argument


def test_cli_example_with_picture(tmp_path):
    runner = CliRunner()
    ex = runner.invoke(app, ["calc", "run", "thermal.fit", "--example"])
    assert ex.exit_code == 0, ex.output
    inp = tmp_path / "in.json"
    inp.write_text(ex.output)
    pic = tmp_path / "t.png"
    res = runner.invoke(app, ["calc", "run", "thermal.fit", str(inp), "--plot", str(pic)])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert data["test_r2"][0] > 0.9 and pic.exists()
