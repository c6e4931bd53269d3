"""ISO 230-2 clause 5 test plan, and the positioning calculations through the CLI."""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from jingce.cli.app import app
from jingce.errors import InvalidInputError
from jingce.kernels import positioning as pos


def test_linear_plan_density_offsets_and_reproducibility():
    plan = pos.test_plan(0.0, 1250.0, rng=np.random.default_rng(1))
    m = plan.targets.size
    assert m >= 5 * 1.25 + 1 and m >= 5  # at least five per metre and five overall
    assert plan.targets[0] == 0.0 and plan.targets[-1] == 1250.0
    assert np.all(np.diff(plan.targets) > 0)
    assert np.all(np.abs(plan.offsets) <= 0.25 * plan.interval + 1e-12)
    assert np.count_nonzero(plan.offsets) == m - 2  # random offset at every inner target
    # offsets differ from target to target, so a periodic error is sampled at different phases
    phases = np.mod(plan.targets[1:-1], plan.interval)
    assert np.ptp(phases) > 0.1 * plan.interval
    again = pos.test_plan(0.0, 1250.0, rng=np.random.default_rng(1))
    assert np.array_equal(plan.targets, again.targets)


def test_standard_cycle_program():
    plan = pos.test_plan(0.0, 400.0, rng=np.random.default_rng(2), runs=5, overrun=3.0)
    prog = plan.program
    m = plan.targets.size
    recorded = prog[prog[:, 3] >= 0]
    assert recorded.shape[0] == 2 * 5 * m
    for j in range(1, 6):
        up = recorded[(recorded[:, 1] == j) & (recorded[:, 2] == 1)]
        down = recorded[(recorded[:, 1] == j) & (recorded[:, 2] == -1)]
        assert np.array_equal(up[:, 0], plan.targets)
        assert np.array_equal(down[:, 0], plan.targets[::-1])
    overruns = prog[prog[:, 3] < 0, 0]
    assert set(np.round(overruns, 9)) == {-3.0, 403.0}
    # every target is reached from its own side: the move before each recorded point comes from below (up)
    pos_rows = np.flatnonzero((prog[:, 2] == 1) & (prog[:, 3] >= 0))
    assert np.all(prog[pos_rows - 1, 0] < prog[pos_rows, 0])


def test_rotary_plan_includes_principal_positions():
    plan = pos.test_plan(0.0, 360.0, rng=np.random.default_rng(3), axis="rotary")
    assert plan.targets.size >= 8
    for q in (0.0, 90.0, 180.0, 270.0):
        assert q in plan.targets
    assert plan.targets.max() < 360.0


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [({"start": 5.0, "end": 1.0}, "end"), ({"start": 0.0, "end": 100.0, "jitter": 0.8}, "jitter"),
     ({"start": 0.0, "end": 100.0, "runs": 0}, "runs"), ({"start": 0.0, "end": 100.0, "axis": "helix"}, "axis")],
)
def test_bad_plan_input(kwargs, argument):
    with pytest.raises(InvalidInputError) as exc:
        pos.test_plan(rng=np.random.default_rng(0), **kwargs)
    assert exc.value.details["argument"] == argument
    with pytest.raises(InvalidInputError) as exc:
        pos.test_plan(0.0, 100.0, rng=1)
    assert exc.value.details["argument"] == "rng"


runner = CliRunner()


@pytest.mark.parametrize(
    "name",
    ["positioning.evaluate", "positioning.report", "positioning.test_plan", "positioning.compensation",
     "positioning.verify", "positioning.improvement"],
)
def test_cli_examples_run(name, tmp_path):
    ex = runner.invoke(app, ["calc", "run", name, "--example"])
    assert ex.exit_code == 0, ex.output
    inp = tmp_path / "in.json"
    inp.write_text(ex.output)
    out = runner.invoke(app, ["calc", "run", name, str(inp)])
    assert out.exit_code == 0, out.output
    json.loads(out.output)


def test_cli_evaluate_with_picture(tmp_path):
    ex = json.loads(runner.invoke(app, ["calc", "run", "positioning.evaluate", "--example"]).output)
    inp = tmp_path / "in.json"
    inp.write_text(json.dumps(ex))
    for suffix in (".png", ".svg"):
        pic = tmp_path / f"p{suffix}"
        res = runner.invoke(app, ["calc", "run", "positioning.evaluate", str(inp), "--plot", str(pic)])
        assert res.exit_code == 0, res.output
        assert pic.stat().st_size > 5000
    data = json.loads(res.output)
    assert {"E", "M", "A", "R", "B", "x_mean_up", "R_i"} <= set(data)


def test_cli_compensation_outputs_sinumerik_and_pictures(tmp_path):
    ex = json.loads(runner.invoke(app, ["calc", "run", "positioning.compensation", "--example"]).output)
    inp = tmp_path / "in.json"
    inp.write_text(json.dumps(ex))
    pic = tmp_path / "t.png"
    res = runner.invoke(app, ["calc", "run", "positioning.compensation", str(inp), "--plot", str(pic)])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert data["sinumerik"].startswith("%_N_AX_EEC_INI") and data["csv"].startswith("# jingce")
    assert pic.exists()
    ver = json.loads(runner.invoke(app, ["calc", "run", "positioning.verify", "--example"]).output)
    inp.write_text(json.dumps(ver))
    pic2 = tmp_path / "v.png"
    res = runner.invoke(app, ["calc", "run", "positioning.verify", str(inp), "--plot", str(pic2)])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["ratios"]["E"] < 0.5 and pic2.exists()


def test_cli_bad_input_names_the_argument(tmp_path):
    inp = tmp_path / "bad.json"
    inp.write_text(json.dumps({"targets": [0, 1, 2], "up": [[0, 1, 2], [0, 1]], "down": [[0, 1, 2], [0, 1, 2]]}))
    res = runner.invoke(app, ["calc", "run", "positioning.evaluate", str(inp)])
    assert res.exit_code != 0
    # the CLI reports a JingceError naming the argument (or lets it propagate, depending on the app)
    if isinstance(res.exception, InvalidInputError):
        assert res.exception.details["argument"] == "up"
    else:
        assert "'up'" in res.output
