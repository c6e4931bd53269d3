"""Synthetic axis with injected errors through plan -> measure -> evaluate -> table -> controller form ->
compensated re-measurement at other targets -> verification -> stop decision."""

import json
import re
import warnings

import numpy as np
import pytest

from jingce.errors import InvalidInputError, JingceWarning
from jingce.kernels import positioning as pos

NOISE = 0.0004  # mm, repeatability of the simulated axis (1 sigma)


def pitch_error(x):
    """Injected systematic error: 20 µm/m scale error plus a 6 µm periodic error of period 160 mm."""
    return 2e-5 * x + 0.006 * np.sin(2 * np.pi * x / 160.0)


def backlash(x):
    """Injected lost motion (mm), growing along the axis: the axis stops short in its direction of travel."""
    return 0.004 + 0.002 * x / 800.0


def measure(targets, rng, table=None, runs=5):
    """Actual positions reached; with a table, the controller commands P + correction(P, direction)."""
    t = np.asarray(targets, float)
    out = []
    for sign in (1, -1):
        cmd = t if table is None else t + pos.table_error(table, t, sign)
        actual = cmd + pitch_error(cmd) - sign * backlash(cmd) / 2 + rng.normal(0, NOISE, (runs, t.size))
        out.append(actual)
    return out


@pytest.fixture(scope="module")
def loop():
    rng = np.random.default_rng(2302)
    plan1 = pos.test_plan(0.0, 800.0, rng=rng, targets_per_metre=50)
    up, down = measure(plan1.targets, rng)
    base = pos.evaluate(plan1.targets, up, down)
    table = pos.compensation_table(base, spacing=10.0, reference=0.0)
    plan2 = pos.test_plan(0.0, 800.0, rng=np.random.default_rng(99), targets_per_metre=50)
    return rng, plan1, base, table, plan2


def test_table_geometry(loop):
    _, plan1, base, table, _ = loop
    assert table.positions[0] == 0.0 and table.positions[-1] == 800.0
    assert np.allclose(np.diff(table.positions), 10.0)
    assert table.reference_index == 0 and table.absolute[0] == 0.0
    assert np.allclose(np.cumsum(table.incremental), table.absolute, atol=1e-15)
    assert table.backlash == pytest.approx(base.B_mean)
    # up and down columns keep the backlash between them
    assert np.allclose(table.absolute_down - table.absolute_up, table.backlash, atol=1e-15)
    assert np.all(table.source_targets == plan1.targets)


def test_compensated_remeasurement_at_other_targets(loop):
    rng, _, base, table, plan2 = loop
    up, down = measure(plan2.targets, rng, table=table)
    v = pos.verify(table, plan2.targets, up, down, compensated=True, baseline=base)
    assert not v.predicted and not v.in_sample and v.overlap == 2  # only the two end targets coincide
    # The injected systematic error (E about 30 µm) is removed down to noise and interpolation error.
    assert base.E > 0.025
    assert v.after.E < 0.006
    assert v.ratios["E"] < 0.2 and v.ratios["A"] < 0.35
    # The mean backlash is compensated; what remains is its position dependence (±1 µm) and noise.
    assert v.after.B < 0.5 * base.B


def test_prediction_matches_the_compensated_measurement(loop):
    rng, _, base, table, plan2 = loop
    up0, down0 = measure(plan2.targets, np.random.default_rng(5))
    predicted = pos.verify(table, plan2.targets, up0, down0, compensated=False)
    up1, down1 = measure(plan2.targets, np.random.default_rng(5), table=table)
    measured = pos.verify(table, plan2.targets, up1, down1, compensated=True, baseline=base)
    assert predicted.predicted
    # same noise draws: the first-order prediction differs from the measurement only by e(P + c) - e(P)
    np.testing.assert_allclose(predicted.after.x_mean_up, measured.after.x_mean_up, atol=5e-6)
    assert predicted.after.E == pytest.approx(measured.after.E, abs=1e-5)


def test_verification_at_the_table_targets_overstates_the_gain():
    rng = np.random.default_rng(7)
    grid = np.arange(0.0, 801.0, 40.0)  # the table's own interpolation points
    up, down = measure(grid, rng)
    base = pos.evaluate(grid, up, down)
    table = pos.compensation_table(base, spacing=40.0, reference=0.0)
    up2, down2 = measure(grid, rng)
    with pytest.warns(JingceWarning, match="overstated"):
        same = pos.verify(table, grid, up2, down2, compensated=False)
    other = np.sort(rng.uniform(5.0, 795.0, 21))
    up3, down3 = measure(other, rng)
    elsewhere = pos.verify(table, other, up3, down3, compensated=False)
    assert same.in_sample and not elsewhere.in_sample
    # at its own points the 40 mm table looks nearly perfect; between them the 160 mm periodic error
    # is only partly captured by linear interpolation
    assert same.after.E < 0.6 * elsewhere.after.E


def test_per_direction_tables_handle_position_dependent_backlash():
    rng = np.random.default_rng(11)
    plan = pos.test_plan(0.0, 800.0, rng=rng, targets_per_metre=50)
    up, down = measure(plan.targets, rng)
    base = pos.evaluate(plan.targets, up, down)
    other = pos.test_plan(0.0, 800.0, rng=np.random.default_rng(12), targets_per_metre=50).targets
    up2, down2 = measure(other, rng)
    vb = pos.verify(pos.compensation_table(base, spacing=10.0, mode="backlash"), other, up2, down2, compensated=False)
    vd = pos.verify(pos.compensation_table(base, spacing=10.0, mode="per_direction"), other, up2, down2,
                    compensated=False)
    assert vd.after.B < vb.after.B
    assert vd.after.B < 0.0012


def test_perfect_table_leaves_only_the_noise():
    rng = np.random.default_rng(3)
    t = np.linspace(0.0, 800.0, 161)
    truth = pos.evaluate_deviations(t, [pitch_error(t) - backlash(t) / 2] * 2, [pitch_error(t) + backlash(t) / 2] * 2)
    table = pos.compensation_table(truth, spacing=5.0, mode="per_direction")
    targets = np.sort(rng.uniform(0.0, 800.0, 40))
    up, down = measure(targets, rng, table=table)
    after = pos.evaluate(targets, up, down)
    # what remains: the means of 5 runs of N(0, NOISE) plus a tiny interpolation/first-order error
    assert after.E < 6 * NOISE / np.sqrt(5) + 2e-4
    assert after.B < 6 * NOISE / np.sqrt(5) + 2e-4


def test_sinumerik_program(loop):
    _, _, _, table, _ = loop
    text = pos.table_to_sinumerik(table, axis_name="X1")
    lines = text.splitlines()
    assert lines[0] == "%_N_AX_EEC_INI" and lines[-1] == "M17" and "CHANDATA(1)" in lines
    values = {int(m.group(1)): float(m.group(2))
              for m in re.finditer(r"^\$AA_ENC_COMP\[0,(\d+),X1\]=(\S+)$", text, re.M)}
    assert sorted(values) == list(range(table.positions.size))
    got = np.array([values[i] for i in range(table.positions.size)])
    # value = +error relative to the reference (a positive value moves the axis negative, K3 4.4.2.1)
    np.testing.assert_allclose(got, table.error - table.error[table.reference_index], atol=5e-7)
    assert got[table.reference_index] == 0.0
    assert "$AA_ENC_COMP_STEP[0,X1]=10.0" in lines
    assert "$AA_ENC_COMP_MIN[0,X1]=0.0" in lines
    assert "$AA_ENC_COMP_MAX[0,X1]=800.0" in lines
    assert "$AA_ENC_COMP_IS_MODULO[0,X1]=0" in lines
    assert f">= {table.positions.size}" in text and "MD32450" in text
    up_text = pos.table_to_sinumerik(table, axis_name="AX1", encoder=1, direction="up")
    assert "$AA_ENC_COMP[1,0,AX1]=" in up_text and "MD32450" not in up_text
    with pytest.raises(InvalidInputError) as exc:
        pos.table_to_sinumerik(table, axis_name="x 1")
    assert exc.value.details["argument"] == "axis_name"


def test_neutral_csv_and_json(loop, tmp_path):
    _, _, _, table, _ = loop
    path = tmp_path / "t.csv"
    path.write_text(pos.table_to_csv(table, digits=9))
    arr = np.loadtxt(path, delimiter=",", comments="#", skiprows=5)
    np.testing.assert_allclose(arr[:, 0], table.positions)
    np.testing.assert_allclose(arr[:, 4], table.absolute, atol=1e-9)
    np.testing.assert_allclose(arr[:, 5], table.incremental, atol=1e-9)
    obj = json.loads(pos.table_to_json(table))
    assert obj["format"] == "jingce.compensation/1" and obj["mode"] == "backlash"
    np.testing.assert_allclose(obj["columns"]["absolute_down"], table.absolute_down)
    back = pos.table_from_json(pos.table_to_json(table))
    for field in ("positions", "error", "absolute", "incremental_up", "absolute_down", "source_targets"):
        assert np.array_equal(getattr(back, field), getattr(table, field))
    assert (back.backlash, back.reference_index, back.mode) == (table.backlash, table.reference_index, table.mode)
    with pytest.raises(InvalidInputError) as exc:
        pos.table_from_json('{"format": "other"}')
    assert exc.value.details["argument"] == "text"


def test_table_error_interpolates_and_holds_the_ends(loop):
    _, _, _, table, _ = loop
    mid = 0.5 * (table.positions[3] + table.positions[4])
    assert pos.table_error(table, [mid])[0] == pytest.approx(0.5 * (table.absolute[3] + table.absolute[4]))
    assert pos.table_error(table, [-50.0, 900.0]).tolist() == [table.absolute[0], table.absolute[-1]]


def test_reference_point_inside_the_table():
    rng = np.random.default_rng(1)
    t = np.linspace(0, 500, 11)
    up, down = measure(t, rng)
    r = pos.evaluate(t, up, down)
    table = pos.compensation_table(r, spacing=20.0, reference=250.0)
    assert table.positions[table.reference_index] == 250.0 and table.absolute[table.reference_index] == 0.0
    assert table.positions[0] <= 0.0 and table.positions[-1] >= 500.0


def test_improvement_below_uncertainty():
    big = pos.improvement_below_uncertainty(0.0152, 0.0041, 0.0015, quantity="E")
    assert not big.below_uncertainty and big.improvement == pytest.approx(0.0111)
    assert big.uncertainty == pytest.approx(0.0015 * np.sqrt(2))
    small = pos.improvement_below_uncertainty(0.0041, 0.0026, 0.0015)
    assert small.below_uncertainty  # 1.5 µm gain < 2.1 µm uncertainty of the difference
    worse = pos.improvement_below_uncertainty(0.004, 0.005, 0.0001, after_uncertainty=0.0002)
    assert worse.below_uncertainty and worse.improvement < 0


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [({"spacing": 0.0}, "spacing"), ({"spacing": 10.0, "reference": 900.0}, "reference"),
     ({"spacing": 10.0, "mode": "both"}, "mode"), ({"spacing": 1e-4}, "spacing")],
)
def test_bad_table_input(loop, kwargs, argument):
    _, _, base, _, _ = loop
    with pytest.raises(InvalidInputError) as exc:
        pos.compensation_table(base, **kwargs)
    assert exc.value.details["argument"] == argument


def test_verify_needs_a_baseline_when_measured_compensated(loop):
    _, plan1, _, table, _ = loop
    with pytest.raises(InvalidInputError) as exc, warnings.catch_warnings():
        warnings.simplefilter("ignore", JingceWarning)
        pos.verify(table, plan1.targets, [plan1.targets] * 2, [plan1.targets] * 2, compensated=True)
    assert exc.value.details["argument"] == "baseline"
    with pytest.raises(InvalidInputError):
        pos.table_error("not a table", [1.0])


def test_second_iteration_with_combined_tables():
    """measure -> table -> measure compensated -> residual table -> combined table -> measure again."""
    rng = np.random.default_rng(31)
    t1 = pos.test_plan(0.0, 800.0, rng=rng, targets_per_metre=30).targets
    up, down = measure(t1, rng)
    base = pos.evaluate(t1, up, down)
    table1 = pos.compensation_table(base, spacing=20.0, reference=0.0)
    t2 = pos.test_plan(0.0, 800.0, rng=rng, targets_per_metre=30).targets
    up, down = measure(t2, rng, table=table1)
    after1 = pos.evaluate(t2, up, down)
    residual = pos.compensation_table(after1, spacing=20.0, reference=0.0)
    table2 = pos.combine_tables(table1, residual)
    assert table2.absolute[0] == 0.0 and table2.positions is table1.positions
    np.testing.assert_allclose(table2.absolute, table1.absolute + residual.absolute, atol=1e-15)
    t3 = pos.test_plan(0.0, 800.0, rng=rng, targets_per_metre=30).targets
    up, down = measure(t3, rng, table=table2)
    after2 = pos.evaluate(t3, up, down)
    assert after1.E < 0.3 * base.E
    # the second iteration gains less than the test can resolve, so the loop would stop here
    check = pos.improvement_below_uncertainty(after1.E, after2.E, test_uncertainty=0.002)
    assert after2.E <= after1.E and check.below_uncertainty
    with pytest.raises(InvalidInputError) as exc:
        pos.combine_tables(table1, "residual")
    assert exc.value.details["argument"] == "residual"
