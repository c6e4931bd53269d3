"""Run-to-run EWMA and double-EWMA controllers against closed-form results (tests/data/r2r/README.md)."""

import json
import warnings

import numpy as np
import pytest
from typer.testing import CliRunner

from jingce.cli.app import app
from jingce.errors import InvalidInputError, JingceWarning
from jingce.kernels import r2r


@pytest.mark.parametrize(("lam", "xi"), [(0.3, 1.2), (0.5, 0.8), (0.2, 1.0)])
def test_ewma_drift_offset(lam, xi):
    c = r2r.ewma_controller(100.0, 2.0, lam)
    sim = r2r.simulate(c, 600, process_intercept=10.0, process_gain=2.0 * xi, drift=0.05)
    assert sim.offset_last == pytest.approx(0.05 / (lam * xi), abs=1e-9)
    assert sim.stability.drift_offset_per_unit_drift == pytest.approx(1 / (lam * xi))


def test_double_ewma_removes_the_drift_offset():
    c = r2r.double_ewma_controller(100.0, 2.0, 0.3, 0.1)
    sim = r2r.simulate(c, 1500, process_intercept=10.0, process_gain=2.4, drift=0.05)
    assert abs(sim.offset_last) < 1e-9


def test_ewma_stability_bound():
    c = r2r.ewma_controller(0.0, 1.0, 0.5)
    st = r2r.stability(c)
    assert (st.xi_min, st.xi_max) == (0.0, 4.0)
    for xi, stable in ((3.9, True), (4.1, False), (-0.1, False)):
        assert r2r.stability(c, xi).stable is stable
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", JingceWarning)
            sim = r2r.simulate(c, 400, process_intercept=5.0, process_gain=xi)
        assert bool(abs(sim.y[-1]) < 1e-6) is stable
        assert any("unstable" in str(w.message) for w in caught) is not stable


@pytest.mark.parametrize(("l1", "l2"), [(0.3, 0.1), (0.6, 0.4), (0.9, 0.9), (0.1, 0.05)])
def test_double_ewma_bounds_agree_with_eigenvalues_and_simulation(l1, l2):
    c = r2r.double_ewma_controller(0.0, 1.0, l1, l2)
    hi = r2r.stability(c).xi_max
    grid = np.linspace(0.001, 1.5 * hi, 3001)
    stable = []
    for xi in grid:
        a = np.array([[1 - l1 * xi, -l1 * (xi - 1)], [-l2 * xi, 1 - l2 * xi]])
        stable.append(np.max(np.abs(np.linalg.eigvals(a))) < 1)
    stable = np.array(stable)
    edge = grid[np.flatnonzero(~stable)[0]]  # first unstable ξ on the grid
    assert edge == pytest.approx(hi, abs=2 * (grid[1] - grid[0]))
    for xi, ok in ((0.95 * hi, True), (1.05 * hi, False)):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", JingceWarning)
            sim = r2r.simulate(c, 3000, process_intercept=5.0, process_gain=xi)
        assert bool(abs(sim.y[-1]) < 1e-3) is ok
        assert bool(caught) is not ok


def test_ima_disturbance_minimum_mse_at_lambda_one_minus_theta():
    theta = 0.6
    runs = 2000
    mse = {}
    for lam in (0.1, 1 - theta, 0.9):
        c = r2r.ewma_controller(50.0, 1.5, lam)
        sim = r2r.simulate(c, runs, process_intercept=3.0, process_gain=1.5, noise_sd=1.0, ima_theta=theta,
                           rng=np.random.default_rng(42))
        mse[lam] = np.mean((sim.y[200:] - 50.0) ** 2)
        if lam == 1 - theta:
            eps = np.random.default_rng(42).normal(0.0, 1.0, runs)
            np.testing.assert_allclose(sim.y[200:] - 50.0, eps[200:], atol=1e-9)
    assert mse[1 - theta] < mse[0.1] and mse[1 - theta] < mse[0.9]


def test_update_matches_simulation_and_shift_is_absorbed():
    c = r2r.double_ewma_controller(100.0, 2.0, 0.4, 0.2, initial_intercept=8.0)
    sim = r2r.simulate(c, 60, process_intercept=10.0, process_gain=2.2, drift=0.02, shift=3.0, shift_run=30,
                       noise_sd=0.3, rng=np.random.default_rng(8))
    state = None
    u = r2r.initial_input(c)
    for i in range(60):
        assert u == pytest.approx(sim.u[i], rel=1e-12)
        state = r2r.update(c, state, sim.y[i], u)
        assert state.intercept == pytest.approx(sim.intercept[i], rel=1e-12)
        u = state.next_input
    assert state.runs == 60
    assert sim.mse < sim.mse_open_loop


@pytest.mark.parametrize(
    ("call", "argument"),
    [
        (lambda: r2r.ewma_controller(1.0, 0.0, 0.3), "gain"),
        (lambda: r2r.ewma_controller(1.0, 1.0, 1.5), "lam"),
        (lambda: r2r.double_ewma_controller(1.0, 1.0, 0.3, 0.0), "lam2"),
        (lambda: r2r.simulate(r2r.ewma_controller(1.0, 1.0, 0.3), 10, process_intercept=0.0, process_gain=1.0,
                              noise_sd=1.0), "rng"),
        (lambda: r2r.simulate("ewma", 10, process_intercept=0.0, process_gain=1.0), "controller"),
        (lambda: r2r.update(r2r.ewma_controller(1.0, 1.0, 0.3), None, float("nan"), 1.0), "y"),
    ],
)
def test_bad_input_names_the_argument(call, argument):
    with pytest.raises(InvalidInputError) as exc:
        call()
    assert exc.value.details["argument"] == argument


@pytest.mark.parametrize("name", ["r2r.simulate", "r2r.stability"])
def test_cli_examples(name, tmp_path):
    runner = CliRunner()
    ex = runner.invoke(app, ["calc", "run", name, "--example"])
    assert ex.exit_code == 0, ex.output
    inp = tmp_path / "in.json"
    inp.write_text(ex.output)
    args = ["calc", "run", name, str(inp)] + (["--plot", str(tmp_path / "r.png")] if name == "r2r.simulate" else [])
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert data["stable"] if name == "r2r.stability" else data["stability"]["stable"]
