"""ISO 230-2 evaluation against two published reports (tests/data/positioning/README.md) and a direct
recomputation with the standard library's statistics module."""

import json
import statistics
import warnings
from pathlib import Path

import numpy as np
import pytest

from jingce.errors import InvalidInputError, JingceWarning
from jingce.kernels import positioning as pos

DATA = Path(__file__).parents[1] / "data" / "positioning"
CASES = {"ecmc_b02_z_ild2300.json": 0.5e-5, "ecmc_fat_sat_encoder.json": 0.5e-8}


def _load(name):
    d = json.loads((DATA / name).read_text())
    return d, pos.evaluate(d["targets"], d["up"], d["down"])


@pytest.mark.parametrize("name", sorted(CASES))
def test_agrees_with_published_report_except_e(name):
    d, r = _load(name)
    p = d["published"]
    tol = CASES[name] + 1e-12
    # The report's fwd/bwd labels are swapped (README): report fwd == jingce down.
    pairs = [
        (r.x_mean_up, p["x_mean_bwd"]), (r.x_mean_down, p["x_mean_fwd"]), (r.x_mean, p["x_mean"]),
        (-r.B_i, p["B_i"]), (r.s_up, p["s_bwd"]), (r.s_down, p["s_fwd"]),
        (r.R_i_up, p["R_i_bwd"]), (r.R_i_down, p["R_i_fwd"]), (r.R_i, p["R_i"]),
    ]
    for ours, theirs in pairs:
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=tol)
    scalars = [
        (-r.B_mean, p["B_mean"]), (r.B, p["B"]), (r.R_up, p["R_bwd"]), (r.R_down, p["R_fwd"]),
        (r.E_up, p["E_bwd"]), (r.E_down, p["E_fwd"]), (r.M, p["M"]), (r.A_up, p["A_bwd"]),
        (r.A_down, p["A_fwd"]), (r.A, p["A"]),
    ]
    for ours, theirs in scalars:
        assert abs(ours - theirs) <= tol


@pytest.mark.parametrize("name", sorted(CASES))
def test_published_e_is_wrong_and_its_cause(name):
    d, r = _load(name)
    p = d["published"]
    tol = CASES[name] + 1e-12
    # jingce's E follows ISO 230-2: the range over both directions' mean deviations ...
    both = np.concatenate([r.x_mean_up, r.x_mean_down])
    assert r.E == pytest.approx(both.max() - both.min(), abs=1e-15)
    assert abs(r.E - d["correct"]["E"]) <= tol
    # ... and disagrees with the published E by far more than the rounding,
    assert r.E - p["E"] > 100 * tol
    # which is reproduced by the report tool's calcE, taking the larger of the two directional minima.
    buggy = max(r.x_mean_up.max(), r.x_mean_down.max()) - max(r.x_mean_up.min(), r.x_mean_down.min())
    assert abs(buggy - p["E"]) <= tol


def test_fat_sat_report_r_is_not_max_r_i():
    d, r = _load("ecmc_fat_sat_encoder.json")
    p = d["published"]
    assert r.R == pytest.approx(max(r.R_i), abs=0)
    assert abs(r.R - d["correct"]["R"]) <= 0.5e-8
    assert abs(max(r.R_up, r.R_down) - p["R"]) <= 0.5e-8  # what the report printed
    assert r.R - p["R"] > 5e-6


@pytest.mark.parametrize("name", sorted(CASES))
def test_against_direct_recomputation_with_statistics_module(name):
    d, r = _load(name)
    t = d["targets"]
    for runs, mean, s in ((d["up"], r.x_mean_up, r.s_up), (d["down"], r.x_mean_down, r.s_down)):
        for i, target in enumerate(t):
            x = [row[i] - target for row in runs]
            assert mean[i] == pytest.approx(statistics.fmean(x), abs=1e-15)
            assert s[i] == pytest.approx(statistics.stdev(x), rel=1e-9, abs=1e-16)
    lo = min(min(r.x_mean_up - 2 * r.s_up), min(r.x_mean_down - 2 * r.s_down))
    hi = max(max(r.x_mean_up + 2 * r.s_up), max(r.x_mean_down + 2 * r.s_down))
    assert r.A == pytest.approx(hi - lo, abs=1e-15)


def test_evaluate_deviations_matches_positions():
    d, r = _load("ecmc_b02_z_ild2300.json")
    t = np.array(d["targets"], float)
    r2 = pos.evaluate_deviations(t, np.array(d["up"]) - t, np.array(d["down"]) - t)
    assert r2.axis_values() == pytest.approx(r.axis_values(), abs=1e-15)


def test_report_table():
    _, r = _load("ecmc_b02_z_ild2300.json")
    rep = pos.report(r)
    assert rep.columns[0] == "P_i" and len(rep.rows) == 5 and len(rep.rows[0]) == 10
    symbols = [row[0] for row in rep.axis_rows]
    assert symbols == ["B", "B̄", "R↑", "R↓", "R", "E↑", "E↓", "E", "M", "A↑", "A↓", "A"]
    text = rep.as_text()
    assert "0.03528" in text and "轴线双向定位系统偏差" in text


def test_rotary_axis_wraps_deviations():
    targets = [0.0, 90.0, 180.0, 270.0, 315.0]
    up = [[359.999, 90.001, 180.002, 270.0, 315.001], [0.001, 90.0, 180.001, 269.999, 315.0]]
    down = [[0.002, 90.003, 180.003, 270.002, 315.002], [0.003, 90.002, 180.004, 270.001, 315.003]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", JingceWarning)
        r = pos.evaluate(targets, up, down, axis="rotary", unit="deg")
    assert r.x_mean_up[0] == pytest.approx(0.0, abs=1e-9)
    assert r.E < 0.01
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", JingceWarning)
        lin = pos.evaluate(targets, up, down, unit="deg")
    assert lin.E > 100  # without wrapping, 359.999 at the 0 deg target reads as a huge deviation


def test_warns_below_the_standard_test_size():
    with pytest.warns(JingceWarning, match="5 runs"):
        pos.evaluate([0, 1, 2, 3, 4], [[0, 1, 2, 3, 4]] * 3, [[0, 1, 2, 3, 4]] * 3)


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"targets": [0, 1, 2], "up": [[0, 1, 2], [0, 1]], "down": [[0, 1, 2], [0, 1, 2]]}, "up"),
        ({"targets": [0, 1, 2], "up": [[0, 1, 2]], "down": [[0, 1, 2], [0, 1, 2]]}, "up"),
        ({"targets": [0, 2, 1], "up": [[0, 1, 2]] * 2, "down": [[0, 1, 2]] * 2}, "targets"),
        ({"targets": [0, 1, 1], "up": [[0, 1, 2]] * 2, "down": [[0, 1, 2]] * 2}, "targets"),
        ({"targets": [0, 1, 2], "up": [[0, 1, 2]] * 2, "down": [[0, np.nan, 2]] * 2}, "down"),
        ({"targets": [0, 1, 2], "up": [[0, 1, 2, 3]] * 2, "down": [[0, 1, 2]] * 2}, "up"),
        ({"targets": [0, 1, 2], "up": [[0, 1, 2]] * 2, "down": [[0, 1, 2]] * 2, "axis": "spiral"}, "axis"),
    ],
)
def test_bad_input_names_the_argument(kwargs, argument):
    with pytest.raises(InvalidInputError) as exc:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", JingceWarning)
            pos.evaluate(**kwargs)
    assert exc.value.details["argument"] == argument


def test_unequal_runs_message():
    with pytest.raises(InvalidInputError, match="same length"):
        pos.evaluate([0, 1, 2], [[0, 1, 2], [0, 1]], [[0, 1, 2], [0, 1, 2]])
