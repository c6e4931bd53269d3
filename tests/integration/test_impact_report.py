"""Out-of-tolerance impact (reverse traceability): a lab's reference standard found out of
tolerance; the instruments calibrated against it, the values measured with them, the parts and
assemblies, the enterprises, the re-evaluated decisions, the stored report and notifications."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from scipy import stats

from jingce.errors import InvalidInputError, NotFoundError, PermissionDeniedError
from jingce.model import Calibration, Instrument, Role, User
from jingce.services.impact import PFA_DOUBTFUL, false_accept_probability, impact_report, suspect_instruments
from tests.integration.conftest import T0, h, rows

D = dt.timedelta


def cal(st, actor, inst, lab, no, at, *, stds=(), result="pass", err=None, U=0.0004, days=365):
    return st.add_calibration(actor, Calibration(
        instrument_id=inst.id, lab_id=lab.id, certificate_no=no, calibrated_at=at, valid_until=at + D(days=days),
        result=result, error_as_found=err, expanded_uncertainty=U, standard_ids=tuple(s.id for s in stds)))


@pytest.fixture
def world(region):
    r = region
    st, a = r.store, r.admin
    st.add_user(a, User(tenant_id=r.tenants["N"].id, username="nmi", role=Role.LAB))
    r.nmi_user = st.actor("nmi")
    r.gauge_s = st.add_instrument(a, Instrument(tenant_id=r.tenants["S"].id, code="S-MIC", name="micrometer",
                                                enterprise_id=r.ent["S"].id, uncertainty=0.001))
    r.cal_lab1 = cal(st, a, r.lab_std, r.nmi, "N-1", T0 - D(days=90), stds=[r.national])
    for g, no in ((r.gauge_c, "L-C"), (r.gauge_s, "L-S"), (r.gauge_x, "L-X")):
        cal(st, a, g, r.lab, no, T0 - D(days=45), stds=[r.lab_std])
    # the ring supplier measures with S-MIC, close to the upper limit (10.1): some decisions become doubtful
    st.ingest(a, rows("S", "RING", ["OD"], [f"R{i}" for i in range(6)], value0=10.095, instrument="S-MIC"),
              content_hash=h("s-near"), source_format="test")
    r.ingest_basics()
    # after the suspect period: a value measured with S-MIC after its next calibration is not affected
    cal(st, a, r.gauge_s, r.lab, "L-S2", T0 + D(days=30), stds=[r.national])
    st.ingest(a, rows("S", "RING", ["OD"], ["R9"], start=T0 + D(days=31), value0=10.095, instrument="S-MIC"),
              content_hash=h("s-later"), source_format="test")
    r.oot = cal(st, a, r.lab_std, r.nmi, "N-2", T0 + D(days=60), stds=[r.national], result="out_of_tolerance",
                err=-0.004)
    return r


def test_walk_finds_the_instruments_and_windows(world):
    r = world
    c, windows = suspect_instruments(r.store, r.reg, r.oot.id, at=T0 + D(days=100))
    assert c.id == r.oot.id
    by = {w[0]: w for w in windows}
    assert by[r.lab_std.id][1:4] == (T0 - D(days=90), T0 + D(days=60), 0)
    assert by[r.gauge_c.id][3] == 1 and by[r.gauge_c.id][4] == r.lab_std.id
    assert by[r.gauge_c.id][2] == T0 + D(days=100)  # never calibrated since: suspect until now
    assert by[r.gauge_s.id][2] == T0 + D(days=30)  # until its next calibration
    assert r.national.id not in by


def test_report_end_to_end(world):
    r = world
    st = r.store
    rep = impact_report(st, r.nmi_user, None, r.oot.id)
    m = rep.measurements
    # C: 3 runout values with C-CMM; S: 6 OD values with S-MIC (not R9, measured after S-MIC's next calibration);
    # X: 2 values with X-MIC
    assert m.num_rows == 3 + 6 + 2
    assert "R9" not in m.column("serial").to_pylist()
    ents = {e["code"]: e for e in rep.summary["enterprises"]}
    assert set(ents) == {"C", "S", "X"}
    assert ents["S"]["measurements"] == 6 and ents["S"]["parts"] == 6
    # R0, R1, R2 were built into A1 and A2 (C's assemblies): S's affected parts reach C's assemblies
    assert ents["C"]["assemblies"] == 2
    assert set(rep.assemblies.column("enterprise_id").to_pylist()) == {r.ent["C"].id}
    # the risk: S-MIC u = 0.001 mm, |e| = 0.004 mm rectangular
    s_rows = m.filter(pc.equal(m.column("enterprise_id"), r.ent["S"].id)).to_pylist()
    u_c = math.sqrt(0.001**2 + 0.004**2 / 3)
    for row in s_rows:
        assert row["u_combined"] == pytest.approx(u_c, rel=1e-12)
        y = row["value"]
        if 9.9 <= y <= 10.1:
            want = 1 - (stats.norm.cdf((10.1 - y) / u_c) - stats.norm.cdf((9.9 - y) / u_c))
            assert row["accepted"] and row["pfa"] == pytest.approx(want, rel=1e-9, abs=1e-15)
            assert row["doubtful"] == (want > PFA_DOUBTFUL)
        else:
            assert not row["accepted"] and math.isnan(row["pfa"])
    assert ents["S"]["doubtful"] >= 1 and ents["C"]["doubtful"] == 0
    # stored, with the details, and every tenant concerned told once
    assert rep.id is not None
    assert st.impact_details(r.admin, rep.id).num_rows == m.num_rows
    for user in (r.c, r.s, r.x, r.lab_user):
        assert [n.ref for n in st.notifications(user, kind="impact")] == [f"calibration:{r.oot.id}"]
    again = impact_report(st, r.reg, None, r.oot.id)
    assert again.id != rep.id
    assert len(st.notifications(r.s, kind="impact")) == 1


def test_bins_of_enterprises_give_the_same_report(world, monkeypatch):
    """Read in one bin or in a bin per enterprise (BIN_ROWS of 1), the report is the same."""
    import jingce.services.impact as impact

    r = world
    inputs = r.store.lake_inputs(r.admin)
    bins = inputs.enterprise_bins(1)
    assert len(bins) == len(inputs.enterprises) and sum(map(len, bins)) == len(inputs.paths)
    assert inputs.enterprise_bins(10**12) == [list(inputs.paths)]
    at = dt.datetime.now(dt.UTC)  # a window still open ends "now": the same now for both
    one = impact_report(r.store, r.reg, None, r.oot.id, write=False, at=at)
    monkeypatch.setattr(impact, "BIN_ROWS", 1)
    many = impact_report(r.store, r.reg, None, r.oot.id, write=False, at=at)
    assert many.summary == one.summary
    keys = ["enterprise_id", "serial", "characteristic_id", "measured_at"]
    order = [(k, "ascending") for k in keys]
    # compared as text: NaN (the PFA of a rejected value) equals NaN there
    assert repr(many.measurements.sort_by(order).to_pylist()) == repr(one.measurements.sort_by(order).to_pylist())
    assert many.assemblies.num_rows == one.assemblies.num_rows


def test_scan_windows_joins_rows_to_their_window(world):
    """Start included, end excluded, each row with its window's index; another tenant's rows never."""
    r = world
    st = r.store
    us = lambda t: (t - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) // D(microseconds=1)  # noqa: E731
    windows = pa.table({"instrument_id": [r.gauge_x.id, r.gauge_s.id],
                        "start": [us(T0 - D(days=1)), us(T0 + D(minutes=10))],
                        "end": [us(T0 + D(days=1)), us(T0 + D(minutes=30))]})
    inputs = st.lake_inputs(r.admin)
    got = st.scan_windows(inputs, list(inputs.paths), ("serial", "instrument_id"), windows)
    by = sorted(zip(got.column("serial").to_pylist(), got.column("window").to_pylist(), strict=True))
    assert by == [("R1", 1), ("R2", 1), ("X1", 0), ("X2", 0)]
    mine = st.lake_inputs(r.x)  # X sees its own values, not the supplier's
    got = st.scan_windows(mine, list(mine.paths), ("serial",), windows)
    assert sorted(got.column("serial").to_pylist()) == ["X1", "X2"]
    with pytest.raises(InvalidInputError):
        st.scan_windows(mine, list(inputs.paths), ("serial",), windows)
    assert st.scan_windows(inputs, [], ("serial",), windows).column_names == ["serial", "window"]


def test_each_enterprise_sees_its_own_part(world):
    r = world
    st = r.store
    rep = impact_report(st, r.reg, None, r.oot.id)
    for user, code in ((r.c, "C"), (r.s, "S"), (r.x, "X")):
        _, _, _, _, summary = st.get_impact_report(user, rep.id)
        assert [e["code"] for e in summary["enterprises"]] == [code]
        mine = st.impact_details(user, rep.id)
        assert set(mine.column("enterprise_id").to_pylist()) <= {r.ent[code].id}
        assert mine.num_rows == next(e for e in rep.summary["enterprises"] if e["code"] == code)["measurements"]
        assert "totals" not in summary
    # the issuing lab: totals and instruments, no enterprise's values
    _, _, _, _, summary = st.get_impact_report(r.nmi_user, rep.id)
    assert summary["enterprises"] == [] and summary["totals"]["measurements"] == 11
    assert st.impact_details(r.nmi_user, rep.id).num_rows == 0
    assert st.impact_details(r.nmi_user, rep.id, "instruments").num_rows == 4


def test_who_may_run_it(world):
    r = world
    with pytest.raises(PermissionDeniedError):
        impact_report(r.store, r.lab_user, None, r.oot.id)  # a lab, but not the issuer
    with pytest.raises(NotFoundError):
        impact_report(r.store, r.c, None, r.oot.id + 1000)
    with pytest.raises(PermissionDeniedError):
        impact_report(r.store, r.c, None, r.oot.id)
    good = r.store.calibrations(r.admin, r.gauge_c.id)[0]
    with pytest.raises(InvalidInputError, match="in tolerance"):
        impact_report(r.store, r.admin, None, good.id)
    assert r.store.impact_reports(r.admin) == []


def test_false_accept_probability_shapes():
    y = np.array([0.5, 0.95, 1.2, 0.2, 5.0])
    lo = np.array([0.0, 0.0, np.nan, 0.0, np.nan])
    hi = np.array([1.0, 1.0, 1.0, np.nan, np.nan])
    u = np.array([0.1, 0.05, 0.1, 0.1, 0.1])
    got = false_accept_probability(y, lo, hi, u)
    want = [1 - (stats.norm.cdf(5) - stats.norm.cdf(-5)), 1 - (stats.norm.cdf(1) - stats.norm.cdf(-19)),
            1 - stats.norm.cdf(-2), stats.norm.cdf(-2)]
    np.testing.assert_allclose(got[:4], want, rtol=1e-9)
    assert math.isnan(got[4])


def test_cli_impact_report(world, tmp_path):
    from typer.testing import CliRunner

    from jingce.cli.analyse_cmd import analyse_app

    r = world
    if r.store.engine.dialect.name != "sqlite":
        pytest.skip("the CLI opens the data folder's own registry")
    data = r.store.data_dir
    env = {"COLUMNS": "200", "JINGCE_LANG": "both", "JINGCE_ENGINE": "local"}
    out = CliRunner().invoke(analyse_app, ["impact", "--data", str(data), "--as", "reg", "--calibration",
                                           str(r.oot.id)], env=env)
    assert out.exit_code == 0, out.output + repr(out.exception)
    assert "LAB-GB" in out.output and "N-2" in out.output and "S Ltd" not in out.output
    assert "受影响企业 / Affected enterprises" in out.output and "decisions now doubtful" in out.output
    assert len(r.store.impact_reports(r.admin)) == 1
    bad = CliRunner().invoke(analyse_app, ["impact", "--data", str(data), "--as", "c", "--calibration",
                                           str(r.oot.id)], env=env)
    assert bad.exit_code != 0
