"""The demo's traceability story (issue 9 item 8): a reference standard found out of tolerance at
its latest calibration, with downstream instruments, affected parts, assemblies across suppliers
and customers, decisions whose false-accept probability rises, and notifications."""

from __future__ import annotations

import pyarrow.compute as pc
import pytest

from jingce.services import calibration as calmgmt
from jingce.services.demo import build
from jingce.services.demo.traceability_demo import ERROR_AS_FOUND, extend
from jingce.services.traceability import instrument_trace
from jingce.settings import Settings
from jingce.store import Store


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    st = Store(Settings(data_dir=tmp_path_factory.mktemp("demo")))
    b = build._Builder(st, 7, 0.02, lambda msg, frac: None)
    b.build()  # runs the issue-9 stories, this one first
    first = getattr(b, "story_results", {}).get("traceability_demo") or extend(st, b.admin, b)
    yield st, b, first
    st.close()


def test_a_reference_standard_found_out_of_tolerance(demo):
    st, b, first = demo
    assert first["created"]
    cal = st.get_calibration(b.admin, first["calibration_id"])
    std = st.get_instrument(b.admin, cal.instrument_id)
    assert std.kind.value == "reference_standard" and cal.result.value == "out_of_tolerance"
    assert cal.error_as_found == ERROR_AS_FOUND
    assert st.calibrations(b.admin, std.id)[-1].id == cal.id  # its latest calibration
    # a working instrument calibrated against it: its chain now breaks at the standard, and says why
    rep = st.get_impact_report(b.admin, first["report_id"])[4]
    working = [i for i in rep["instruments"] if i["depth"] == 1]
    assert working
    trace = instrument_trace(st, b.admin, working[0]["instrument_id"])
    assert not trace.unbroken
    assert any(x.instrument_id == std.id and x.status == "out_of_tolerance" and x.reason_en for x in trace.breaks)


def test_the_report_reaches_parts_assemblies_and_enterprises(demo):
    st, b, first = demo
    rep = st.get_impact_report(b.admin, first["report_id"])[4]
    tot = rep["totals"]
    assert tot["instruments"] >= 3 and tot["measurements"] > 100 and tot["parts"] > 10
    with_values = {e["enterprise_id"] for e in rep["enterprises"] if e["measurements"]}
    with_assemblies = {e["enterprise_id"] for e in rep["enterprises"] if e["assemblies"]}
    assert len(with_values) >= 2
    assert with_assemblies - with_values  # customers whose assemblies hold a supplier's affected parts
    assert tot["newly_doubtful"] >= 1  # decisions the as-found error made doubtful
    m = st.impact_details(b.admin, first["report_id"])
    rose = pc.sum(pc.greater(m.column("pfa"), m.column("pfa_before"))).as_py()
    assert rose > 0
    # every tenant concerned was told, once
    for tid in rep["tenants"]:
        user = next(u for u in st.list_users(b.admin) if u.tenant_id == tid)
        assert [n.ref for n in st.notifications(st.actor(user.username), kind="impact")] == [
            f"calibration:{first['calibration_id']}"]


def test_extend_is_idempotent(demo):
    st, b, first = demo
    n_cal = len(st.calibration_records(b.admin))
    again = extend(st, b.admin, b)
    assert not again["created"] and again["report_id"] == first["report_id"]
    assert len(st.calibration_records(b.admin)) == n_cal
    assert len(st.impact_reports(b.admin)) == 1


def test_calibration_management_of_the_demo(demo):
    st, b, _ = demo
    reg = st.actor("reg") if any(u.username == "reg" for u in st.list_users(b.admin)) else b.admin
    plan = calmgmt.calibration_plan(st, reg)
    assert plan.count("overdue") + plan.count("out_of_tolerance") > 0
    fams = {f.family: f for f in plan.intervals}
    assert "working/length/mm" in fams and fams["working/length/mm"].n > 5
