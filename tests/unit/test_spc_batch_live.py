"""Batch form equals the single-characteristic kernels; live state equals the batch charts; phases; CLI."""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from jingce.cli.app import app
from jingce.errors import InvalidInputError
from jingce.kernels.capability import capability
from jingce.kernels.spc import (
    ControlLimits,
    batch_summary,
    freeze_limits,
    imr,
    live_chart,
    phased_chart,
    run_rules,
    xbar_r,
    xbar_s,
)


@pytest.fixture(scope="module")
def table():
    rng = np.random.default_rng(0)
    g = 30
    counts = rng.integers(8, 40, g) * 5
    counts[3] += 2  # a trailing incomplete subgroup
    counts[5] = 0  # an empty characteristic
    off = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
    nominal = rng.uniform(10, 1000, g)
    v = np.repeat(nominal, counts) + rng.normal(0, 0.01, off[-1])
    v[off[7] + 10: off[7] + 20] += 0.05  # a shift in characteristic 7
    lsl, usl = nominal - 0.05, nominal + 0.05
    usl[2] = np.nan  # one-sided
    return v, off, lsl, usl, nominal


def test_batch_equals_single(table):
    v, off, lsl, usl, nom = table
    b = batch_summary(v, off, subgroup_size=5, lsl=lsl, usl=usl, nominal=nom)
    for c in (0, 2, 3, 7):
        x = v[off[c]:off[c + 1]]
        x = x[: x.size // 5 * 5].reshape(-1, 5)
        ch = xbar_r(x)
        assert b.ucl[c] == pytest.approx(ch.xbar.ucl[0], rel=1e-12)
        assert b.disp_ucl[c] == pytest.approx(ch.r.ucl[0], rel=1e-9)
        assert b.beyond[c] == ch.xbar.beyond.size
        rr = run_rules(ch.xbar.statistic, ch.xbar.center, (ch.xbar.ucl - ch.xbar.center) / 3)
        assert list(b.rule_counts[c]) == list(rr.counts.values())
        last = max(rr.last_alarm, ch.r.beyond.max() if ch.r.beyond.size else -1)
        assert b.last_alarm[c] == last
        if last >= 0:
            assert b.last_alarm_value[c] == off[c] + 5 * last + 4
        full = v[off[c]:off[c + 1]]
        cap = capability(full[: x.size], None if np.isnan(lsl[c]) else lsl[c], None if np.isnan(usl[c]) else usl[c],
                         subgroup_size=5, sigma_within="rbar")
        if c == 3:  # the batch mean includes the trailing incomplete subgroup; the single call did not
            continue
        assert b.cpk[c] == pytest.approx(cap.cpk, rel=1e-9)
        assert b.cpk_lo[c] == pytest.approx(cap.cpk_ci[0], rel=1e-9)
        assert b.cp_lo[c] == pytest.approx(cap.cp_ci[0], rel=1e-9, nan_ok=True)
        assert b.pp[c] == pytest.approx(np.float64(0.1) / (6 * full.std(ddof=1)), rel=1e-9, nan_ok=True) or c == 2
    assert b.alarms[7] > 0
    assert b.n_values[5] == 0 and np.isnan(b.cp[5]) and b.last_alarm[5] == -1
    assert np.isnan(b.cp[2]) and np.isfinite(b.cpk[2])
    assert b.n_subgroups[3] == (off[4] - off[3]) // 5


def test_batch_sbar_individuals_and_variable_subgroups(table):
    v, off, lsl, usl, nom = table
    c = 0
    x = v[off[c]:off[c + 1]].reshape(-1, 5)
    bs = batch_summary(v, off, subgroup_size=5, sigma_within="sbar", lsl=lsl, usl=usl)
    assert bs.ucl[c] == pytest.approx(xbar_s(x).xbar.ucl[0], rel=1e-12)
    bi = batch_summary(v, off, subgroup_size=1)
    ch = imr(v[off[c]:off[c + 1]])
    assert bi.ucl[c] == pytest.approx(ch.i.ucl[0], rel=1e-12)
    assert bi.disp_ucl[c] == pytest.approx(ch.mr.ucl[0], rel=1e-9)
    # explicit subgroup offsets reproduce the fixed-size result
    sub = np.unique(np.concatenate([np.arange(a, b - (b - a) % 5 + 1, 5) for a, b in zip(off[:-1], off[1:], strict=True)] + [off]))
    bv = batch_summary(v, off, subgroup_offsets=sub)
    assert bv.ucl[c] == pytest.approx(bs.ucl[c] * 0 + batch_summary(v, off, subgroup_size=5).ucl[c], rel=1e-12)


def test_batch_precision_large_nominal():
    rng = np.random.default_rng(1)
    v = 1000.0 + rng.normal(0, 1e-7, 5000)
    b = batch_summary(v, np.array([0, 5000]), subgroup_size=5, nominal=np.array([1000.0]))
    assert b.sigma_overall[0] == pytest.approx(np.std(v - 1000.0, ddof=1), rel=1e-9)


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"subgroup_size": 5, "offsets": np.array([0, 3])}, "offsets"),
        ({"offsets": np.array([0, 10])}, "subgroup_size"),
        ({"subgroup_size": 26}, "subgroup_size"),
        ({"subgroup_size": 5, "lsl": np.array([2.0]), "usl": np.array([1.0])}, "lsl"),
        ({"subgroup_size": 5, "lsl": np.array([2.0, 3.0])}, "lsl"),
        ({"subgroup_offsets": np.array([0, 3, 10]), "offsets": np.array([0, 5, 10])}, "subgroup_offsets"),
    ],
)
def test_batch_bad_input(kwargs, argument):
    args = {"values": np.arange(10.0), "offsets": np.array([0, 10])}
    args.update(kwargs)
    with pytest.raises(InvalidInputError) as exc:
        batch_summary(**args)
    assert exc.value.details["argument"] == argument


def test_live_chart_matches_batch_rules():
    rng = np.random.default_rng(3)
    x = rng.normal(0, 1, (60, 5))
    x[40:] += 1.2
    ref = xbar_r(x[:30])
    st = live_chart(ref.grand_mean, ref.sigma, subgroup_size=5)
    broken = []
    for i, v in enumerate(x.ravel()):
        st, u = st.update(v)
        if u.point_completed and u.rules:
            broken.append((i // 5, u.rules))
    monitor = xbar_r(x, mu=ref.grand_mean, sigma=ref.sigma)
    rr = run_rules(monitor.xbar.statistic, monitor.xbar.center, (monitor.xbar.ucl - monitor.xbar.center) / 3)
    expected = [(i, tuple(r.name for j, r in enumerate(rr.rules) if rr.flags[j, i])) for i in range(60) if rr.any[i]]
    assert broken == expected
    assert st.totals.count == 300 and len(st.history) <= 16
    assert st.totals.mean == pytest.approx(x.mean(), rel=1e-12)


def test_phases_and_frozen_limits():
    rng = np.random.default_rng(4)
    x = rng.normal(5, 0.1, (45, 4))
    x[30:] += 0.5
    card = ControlLimits("xbar_r", 5.0, 0.1, 4, version=3, label="card 2024-05")
    p = phased_chart(x, [0, 15, 30], limits=[None, "previous", card])
    assert [r.phase for r in p.phases] == ["I", "II", "II"]
    assert p.limits[2].version == 3
    assert p.phases[2].xbar.beyond.size == 15
    assert freeze_limits(p.phases[0]).mu == pytest.approx(x[:15].mean())
    with pytest.raises(InvalidInputError):
        phased_chart(x, [0, 15], limits=["previous", None])


def test_cli_runs_and_plots(tmp_path):
    runner = CliRunner()
    inp = tmp_path / "in.json"
    inp.write_text(json.dumps({"data": [[1.0, 1.2, 0.9], [1.1, 1.0, 1.3], [0.8, 1.0, 1.1], [1.2, 1.1, 1.0]]}))
    out = tmp_path / "chart.svg"
    res = runner.invoke(app, ["calc", "run", "spc.xbar_r", str(inp), "--plot", str(out)])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert data["r"]["ucl"][0] == pytest.approx(data["r_bar"] * data["constants"]["D4"])
    assert out.read_text().lstrip().startswith("<?xml")
    cap_in = tmp_path / "cap.yaml"
    cap_in.write_text("values: [1.0, 1.2, 0.9, 1.1, 1.0, 1.3, 0.8, 1.0, 1.1, 1.2]\nlsl: 0.5\nusl: 1.5\nstrategy: bosch\n")
    png = tmp_path / "cap.png"
    res = runner.invoke(app, ["calc", "run", "capability.capability", str(cap_in), "--plot", str(png)])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["result"]["strategy"]["name"] == "bosch"
    assert png.read_bytes()[:4] == b"\x89PNG"
    for name in ("spc.batch_summary", "spc.p_chart", "spc.ewma", "spc.cusum", "spc.hotelling_t2", "spc.zmr"):
        ex = runner.invoke(app, ["calc", "run", name, "--example"])
        f = tmp_path / f"{name}.json"
        f.write_text(ex.output)
        res = runner.invoke(app, ["calc", "run", name, str(f)])
        assert res.exit_code == 0, (name, res.output)
