"""The measure -> evaluate -> compensate -> verify loop on a synthetic axis with known errors,
through the store, the service and the CLI."""

from __future__ import annotations

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from jingce.cli.app import app
from jingce.errors import InvalidInputError, NotFoundError
from jingce.kernels import positioning as pos
from jingce.model.machine import Machine, MachineAxis
from jingce.services.compensation_loop import current_table, history, submit_test

BACKLASH = 0.006  # mm of lost motion: each approach stops short by half of it
NOISE = 0.0006  # mm, standard deviation of repeatability


def pitch_error(x):
    """The axis's true positioning error (mm): a periodic screw error and a linear scale error."""
    return 0.015 * np.sin(2 * np.pi * x / 380.0) + 2e-5 * x


def measure(targets, table, rng, runs=5):
    """Actual positions reached with ``table`` loaded (None: uncompensated)."""
    t = np.asarray(targets)
    out = {}
    for name, direction, short in (("up", 1, -BACKLASH / 2), ("down", -1, BACKLASH / 2)):
        cmd = t + (pos.table_error(table, t, direction) if table is not None else 0.0)
        out[name] = (cmd + pitch_error(cmd) + short + rng.normal(0, NOISE, (runs, t.size))).tolist()
    return out["up"], out["down"]


@pytest.fixture
def axis(region):
    st, a = region.store, region.admin
    m = st.add_machine(a, Machine(enterprise_id=region.ent["C"].id, code="VMC1", name="vertical machining centre",
                                  controller="SINUMERIK 840D sl"))
    return st.add_axis(a, MachineAxis(machine_id=m.id, name="X", travel_min=0, travel_max=1000))


def test_loop_shrinks_the_error_then_stops(region, axis):
    st, who = region.store, region.c
    rng = np.random.default_rng(11)
    U = 0.0025  # expanded uncertainty of E of each test (laser, environment)
    plans = [pos.test_plan(0, 1000, rng=np.random.default_rng(s), targets_per_metre=12).targets for s in range(1, 8)]
    steps, table = [], None
    for k in range(6):
        up, down = measure(plans[k], table, rng)  # each test at other targets than the tables'
        step = submit_test(st, who, axis.id, plans[k], up, down, uncertainty=U, compensated=table is not None,
                           spacing=25.0)
        steps.append(step)
        if step.decision == "stop":
            break
        table = pos.table_from_json(st.compensations(who, axis.id)[-1].table_json)
    first, second, last = steps[0], steps[1], steps[-1]
    assert first.decision == "compensate" and first.table_iteration == 1 and first.compensated_with is None
    assert first.E > 0.04  # sine amplitude, scale error and backlash
    assert second.compensated_with == 1 and not second.in_sample
    assert second.E < first.E / 4 and second.ratios["E"] < 0.25
    assert last.decision == "stop" and 2 <= len(steps) <= 5
    assert last.E < first.E / 10
    assert "test uncertainty" in last.reason_en and "测试不确定度" in last.reason_zh
    assert all(s.decision == "compensate" for s in steps[:-1])
    # every iteration is kept, and history re-assesses it the same way
    again = history(st, who, axis.id)
    assert [(i.iteration, i.decision, round(i.E, 12)) for i in again] == \
        [(i.iteration, i.decision, round(i.E, 12)) for i in steps]
    assert again[-1].reason_en == last.reason_en
    assert len(st.compensations(who, axis.id)) == len(steps) - 1
    program = current_table(st, who, axis.id, "sinumerik")
    assert "$AA_ENC_COMP" in program
    assert st.verify_audit().ok


def test_loop_rules_and_tenancy(region, axis):
    st = region.store
    rng = np.random.default_rng(5)
    targets = pos.test_plan(0, 1000, rng=rng).targets
    up, down = measure(targets, None, rng)
    with pytest.raises(InvalidInputError, match="uncompensated first"):
        submit_test(st, region.c, axis.id, targets, up, down, uncertainty=0.002, compensated=True)
    with pytest.raises(InvalidInputError):
        submit_test(st, region.c, axis.id, targets, up, down, uncertainty=-1, compensated=False)
    with pytest.raises(InvalidInputError):  # runs of unequal length
        submit_test(st, region.c, axis.id, targets, [u[:-1] for u in up], down, uncertainty=0.002, compensated=False)
    for other in (region.x, region.s, region.reg):
        with pytest.raises(NotFoundError):
            submit_test(st, other, axis.id, targets, up, down, uncertainty=0.002, compensated=False)
        with pytest.raises(NotFoundError):
            history(st, other, axis.id)
    assert st.positioning_tests(region.c, axis.id) == []  # nothing half-written


def test_cli_loop(tmp_path):
    from jingce.model import Enterprise, Site, Tenant
    from jingce.settings import Settings
    from jingce.store import Store

    data = tmp_path / "d"
    st = Store(Settings(data_dir=data))
    a = st.bootstrap()
    ten = st.add_tenant(a, Tenant(code="t", name="t", kind="enterprise"))
    e = st.add_enterprise(a, Enterprise(tenant_id=ten.id, code="E1", name="E1"))
    st.add_site(a, Site(enterprise_id=e.id, code="P", name="p"))
    runner = CliRunner(env={"COLUMNS": "200"})
    r = runner.invoke(app, ["machine", "add", "E1", "M1", "--name", "lathe", "--axes", "X,Z", "--data", str(data)])
    assert r.exit_code == 0, r.output
    rng = np.random.default_rng(2)
    targets = pos.test_plan(0, 800, rng=rng).targets
    up, down = measure(targets, None, rng)
    f = tmp_path / "t0.yaml"
    f.write_text(yaml.safe_dump({"targets": targets.tolist(), "up": up, "down": down}))
    r = runner.invoke(app, ["loop", "test", "E1/M1/X", str(f), "-U", "0.002", "--spacing", "20", "--data", str(data)])
    assert r.exit_code == 0, r.output
    assert "table 1 built" in r.output
    png = tmp_path / "loop.png"
    r = runner.invoke(app, ["loop", "status", "E1/M1/X", "--plot", str(png), "--data", str(data)])
    assert r.exit_code == 0 and png.stat().st_size > 1000
    r = runner.invoke(app, ["loop", "table", "E1/M1/X", "--format", "csv", "--data", str(data)])
    assert r.exit_code == 0 and "pitch-error compensation table" in r.output and "position" in r.output
