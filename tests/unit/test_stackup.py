"""Stack-up against the Drake handbook motor example, the dimstack discrepancy, exact uniform convolution
against numerical convolution and Monte Carlo, measured inputs, bad input and the CLI."""

import json
import math
from pathlib import Path

import numpy as np
import pytest
from scipy import signal, stats
from typer.testing import CliRunner

from jingce.cli.app import app
from jingce.errors import InvalidInputError
from jingce.kernels import stackup as st

DRAKE = json.loads((Path(__file__).parents[1] / "data" / "stackup" / "drake_motor.json").read_text())
ARGS = {k: DRAKE[k] for k in ("nominals", "upper_deviations", "lower_deviations", "sensitivities")}


def test_drake_motor_gap():
    r = st.analyze(**ARGS)
    p = DRAKE["published"]
    assert r.mean == pytest.approx(p["mean"], abs=1e-12)
    assert r.worst_case == pytest.approx(p["worst_case"], abs=1e-12)
    for ours, theirs in ((r.rss, p["rss"]), (r.mrss, p["mrss"])):
        assert abs(ours - theirs) <= 0.5e-4
    for ours, theirs in ((r.worst_case_limits, p["worst_case_limits"]), (r.rss_limits, p["rss_limits"]),
                         (r.mrss_limits, p["mrss_limits"])):
        assert np.allclose(ours, theirs, atol=0.5e-4 + 1e-12)
    # direct evaluation of the formulas
    t = 0.5 * (np.array(ARGS["upper_deviations"]) - np.array(ARGS["lower_deviations"]))
    rss = math.sqrt(sum(x * x for x in t))
    cf = 0.5 * (t.sum() - rss) / (rss * (math.sqrt(11) - 1)) + 1
    assert r.rss == pytest.approx(rss, rel=1e-14)
    assert r.mrss_factor == pytest.approx(cf, rel=1e-14) and r.mrss == pytest.approx(cf * rss, rel=1e-14)
    assert r.wc_contributions.sum() == pytest.approx(100.0)
    assert r.rss_contributions.sum() == pytest.approx(100.0)
    assert r.names == tuple(f"x{i}" for i in range(1, 12))


def test_dimstack_numbers_follow_from_a_lost_sign_on_f():
    lower = list(ARGS["lower_deviations"])
    upper = list(ARGS["upper_deviations"])
    lower[5] = 0.004  # F as +0.010/+0.004
    r = st.analyze(ARGS["nominals"], upper, lower, ARGS["sensitivities"])
    a = DRAKE["second_source"]["asserted"]
    assert r.worst_case == pytest.approx(a["worst_case"], abs=0.5e-4)
    assert r.rss == pytest.approx(a["rss"], abs=0.5e-5)
    assert r.mrss == pytest.approx(a["mrss"], abs=0.5e-5)


def _numerical_convolution_cdf(widths, x, step=1e-6):
    pdf = np.array([1.0])
    for w in widths:
        k = max(1, int(round(w / step)))
        pdf = signal.fftconvolve(pdf, np.full(k, 1.0 / k))
    grid = np.arange(pdf.size) * step
    return np.interp(x, grid, np.cumsum(pdf))


def test_exact_uniform_against_numerical_convolution_and_monte_carlo():
    r = st.analyze(**ARGS, distributions="uniform", lsl=0.0, usl=0.12, n_monte_carlo=400_000,
                   rng=np.random.default_rng(2024))
    ex = r.exact_uniform
    assert ex is not None
    widths = 2 * r.half_tolerances
    for limit, p in ((0.0, ex.p_below), (0.12, 1 - ex.p_above)):
        assert p == pytest.approx(_numerical_convolution_cdf(widths, limit - ex.lower), abs=3e-6)
    mc = r.monte_carlo
    for p_exact, p_mc in ((ex.p_below, mc.p_below), (ex.p_above, mc.p_above)):
        se = math.sqrt(p_exact * (1 - p_exact) / mc.n)
        assert abs(p_mc - p_exact) < 4 * se
    np.testing.assert_allclose(ex.quantiles, mc.quantiles, atol=6e-4)
    assert ex.quantiles[2] == pytest.approx(r.mean, abs=1e-12)  # symmetric
    assert ex.lower == pytest.approx(r.worst_case_limits[0]) and ex.upper == pytest.approx(r.worst_case_limits[1])
    # the density integrates to one
    assert np.trapezoid(ex.pdf, ex.grid) == pytest.approx(1.0, abs=1e-3)


def test_uniform_sum_cdf_small_cases():
    # two equal uniforms: triangular; F(1) = 1/2, F(0.5) = 1/8 on [0, 2]
    assert st.uniform_sum_cdf(1.0, 0.0, [1.0, 1.0]) == pytest.approx(0.5, abs=1e-15)
    assert st.uniform_sum_cdf(0.5, 0.0, [1.0, 1.0]) == pytest.approx(0.125, abs=1e-15)
    # Irwin-Hall n = 3 at 1: 1/6
    assert st.uniform_sum_cdf(1.0, 0.0, [1.0, 1.0, 1.0]) == pytest.approx(1 / 6, abs=1e-15)
    assert st.uniform_sum_cdf(-1.0, 0.0, [1.0]) == 0.0 and st.uniform_sum_cdf(5.0, 0.0, [1.0]) == 1.0


def test_normal_statistical_prediction_and_monte_carlo():
    r = st.analyze(**ARGS, lsl=0.0, n_monte_carlo=300_000, rng=np.random.default_rng(1))
    sigma = r.rss / 3.0  # every input ±3σ
    assert r.predicted_sd == pytest.approx(sigma, rel=1e-12)
    assert r.cpk == pytest.approx(r.mean / (3 * sigma))
    assert r.cp != r.cp  # NaN with one limit
    assert r.p_out_of_spec == pytest.approx(stats.norm.cdf(-r.mean / sigma), rel=1e-9)
    assert r.monte_carlo.sd == pytest.approx(sigma, rel=0.01)
    assert r.monte_carlo.p_out_of_spec == pytest.approx(r.p_out_of_spec, abs=4e-4)


def test_measured_supplier_data_and_any_distribution():
    means = [np.nan] * 11
    sds = [np.nan] * 11
    means[10], sds[10] = 0.295, 0.004  # the tapped hole depth as measured: off centre, capable
    lognormal_f = stats.lognorm(s=0.002, scale=1.503)  # rotor length from a fitted distribution
    dists = [None] * 5 + [lognormal_f] + [None] * 5
    r = st.analyze(**ARGS, means=means, sds=sds, distributions=dists, lsl=0.0, usl=0.12,
                   n_monte_carlo=200_000, rng=np.random.default_rng(3))
    assert r.input_means[10] == 0.295 and r.input_sds[10] == 0.004
    assert r.input_means[5] == pytest.approx(lognormal_f.mean()) and r.input_sds[5] == pytest.approx(lognormal_f.std())
    expected_mean = np.dot(ARGS["sensitivities"], r.input_means)
    assert r.predicted_mean == pytest.approx(expected_mean, abs=1e-12)
    assert r.monte_carlo.mean == pytest.approx(expected_mean, abs=3 * r.predicted_sd / math.sqrt(2e5) + 1e-9)
    assert r.monte_carlo.sd == pytest.approx(r.predicted_sd, rel=0.01)
    assert r.variance_contributions.sum() == pytest.approx(100.0)
    assert np.isfinite(r.cp) and r.cpk < r.cp


def test_fixed_mrss_factor_and_single_dimension():
    r = st.analyze([10.0, 5.0, 3.0, 2.0], [0.1, 0.05, 0.05, 0.08], [-0.1, -0.05, -0.05, -0.08], [1, -1, 1, 1],
                   mrss_factor=1.5)
    assert r.mrss == pytest.approx(1.5 * r.rss) and r.mrss < r.worst_case
    # Drake's factor is 1.5 for equal tolerances; with two inputs that would exceed the worst case
    two = st.analyze([10.0, 5.0], [0.1, 0.1], [-0.1, -0.1])
    assert two.mrss == pytest.approx(two.worst_case) and two.mrss_factor == pytest.approx(2 / np.sqrt(2))
    four = st.analyze([1.0] * 4, [0.1] * 4, [-0.1] * 4)
    assert four.mrss_factor == pytest.approx(1.5)
    one = st.analyze([10.0], [0.2], [-0.1])
    assert one.mean == pytest.approx(10.05) and one.worst_case == one.rss == one.mrss == pytest.approx(0.15)


def test_seeded_monte_carlo_is_reproducible():
    a = st.analyze(**ARGS, n_monte_carlo=1000, rng=np.random.default_rng(5))
    b = st.analyze(**ARGS, n_monte_carlo=1000, rng=np.random.default_rng(5))
    assert a.monte_carlo.mean == b.monte_carlo.mean


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"nominals": [1.0, 2.0], "upper_deviations": [0.1, -0.2], "lower_deviations": [-0.1, 0.1]}, "upper_deviations"),
        ({"nominals": [1.0, 2.0], "upper_deviations": [0.1], "lower_deviations": [-0.1, -0.1]}, "upper_deviations"),
        ({"nominals": [1.0], "upper_deviations": [0.1], "lower_deviations": [-0.1], "sensitivities": [1, 2]}, "sensitivities"),
        ({"nominals": [1.0], "upper_deviations": [0.1], "lower_deviations": [-0.1], "n_monte_carlo": 10}, "rng"),
        ({"nominals": [1.0], "upper_deviations": [0.1], "lower_deviations": [-0.1], "distributions": ["cauchy"]}, "distributions"),
        ({"nominals": [1.0], "upper_deviations": [0.1], "lower_deviations": [-0.1], "sds": [-1.0]}, "sds"),
        ({"nominals": [1.0], "upper_deviations": [0.1], "lower_deviations": [-0.1], "lsl": 2.0, "usl": 1.0}, "lsl"),
        ({"nominals": [np.nan], "upper_deviations": [0.1], "lower_deviations": [-0.1]}, "nominals"),
    ],
)
def test_bad_input_names_the_argument(kwargs, argument):
    with pytest.raises(InvalidInputError) as exc:
        st.analyze(**kwargs)
    assert exc.value.details["argument"] == argument


def test_exact_uniform_refuses_long_chains():
    n = 20
    with pytest.raises(InvalidInputError) as exc:
        st.analyze([1.0] * n, [0.1] * n, [-0.1] * n, exact_uniform=True)
    assert exc.value.details["argument"] == "exact_uniform"
    assert st.analyze([1.0] * n, [0.1] * n, [-0.1] * n, distributions="uniform").exact_uniform is None


runner = CliRunner()


def test_cli_example_with_picture(tmp_path):
    ex = runner.invoke(app, ["calc", "run", "stackup.analyze", "--example"])
    assert ex.exit_code == 0, ex.output
    inp = tmp_path / "in.json"
    inp.write_text(ex.output)
    pic = tmp_path / "s.svg"
    res = runner.invoke(app, ["calc", "run", "stackup.analyze", str(inp), "--plot", str(pic)])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert data["worst_case"] == pytest.approx(0.0955) and pic.stat().st_size > 5000
    spec = json.loads(ex.output)
    spec["distributions"] = [{"norm": {"loc": 0.3595, "scale": 0.005}}] + ["normal"] * 10
    inp.write_text(json.dumps(spec))
    res = runner.invoke(app, ["calc", "run", "stackup.analyze", str(inp)])
    assert res.exit_code == 0, res.output
    spec["distributions"] = [{"nosuch": {}}] + ["normal"] * 10
    inp.write_text(json.dumps(spec))
    res = runner.invoke(app, ["calc", "run", "stackup.analyze", str(inp)])
    assert res.exit_code != 0
    # the CLI reports a JingceError naming the argument (or lets it propagate, depending on the app)
    if isinstance(res.exception, InvalidInputError):
        assert res.exception.details["argument"] == "distributions"
    else:
        assert "'distributions'" in res.output
