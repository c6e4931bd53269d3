"""Calibration management: due and overdue instruments per tenant, the recall schedule by week,
and the family interval from the calibration history (NCSLI RP-1 Method A3), checked end to end
against the NCSL 2019 tutorial case kept in tests/data/intervals/ncsl2019_a3.yaml."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from jingce.errors import InvalidInputError
from jingce.model import Calibration, Instrument
from jingce.services.calibration import calibration_plan, due_items, family_intervals, recall_schedule

AT = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
CASES = yaml.safe_load((Path(__file__).parents[1] / "data" / "intervals" / "ncsl2019_a3.yaml").read_text())["cases"]


def _cal(st, a, inst, lab, no, at, days, stds, result="pass"):
    st.add_calibration(a, Calibration(instrument_id=inst.id, lab_id=lab.id, certificate_no=no, calibrated_at=at,
                                      valid_until=at + dt.timedelta(days=days), result=result,
                                      expanded_uncertainty=0.001, standard_ids=tuple(s.id for s in stds)))


@pytest.fixture
def region_cal(region):
    r, st, a = region, region.store, region.admin
    _cal(st, a, r.lab_std, r.nmi, "N1", AT - dt.timedelta(days=200), 365, [r.national])  # due in 165 days
    _cal(st, a, r.gauge_c, r.lab, "C1", AT - dt.timedelta(days=400), 365, [r.lab_std])  # overdue since 35 days
    _cal(st, a, r.gauge_x, r.lab, "X1", AT - dt.timedelta(days=330), 365, [r.lab_std])  # due in 35 days
    r.gauge_c2 = st.add_instrument(a, Instrument(tenant_id=r.tenants["C"].id, code="C-NEW", name="new gauge",
                                                 enterprise_id=r.ent["C"].id))
    return r


def test_due_and_overdue_per_tenant(region_cal):
    r = region_cal
    c = {i.code: i for i in due_items(r.store, r.c, at=AT)}
    assert set(c) == {"C-CMM", "C-NEW"}  # C's own instruments only
    assert c["C-CMM"].status == "overdue" and c["C-CMM"].days_left == pytest.approx(-35)
    assert c["C-NEW"].status == "never"
    x = due_items(r.store, r.x, at=AT)
    assert [(i.code, i.status) for i in x] == [("X-MIC", "due")]
    reg = {i.code: i.status for i in due_items(r.store, r.reg, at=AT)}
    assert reg == {"C-CMM": "overdue", "C-NEW": "never", "X-MIC": "due", "LAB-GB": "ok"}  # no national standard
    assert [i.status for i in due_items(r.store, r.reg, at=AT, horizon_days=200) if i.code == "LAB-GB"] == ["due"]
    with pytest.raises(InvalidInputError) as e:
        due_items(r.store, r.c, at=AT.replace(tzinfo=None))
    assert e.value.details["field"] == "at"


def test_recall_schedule_by_week(region_cal):
    r = region_cal
    items = due_items(r.store, r.reg, at=AT, horizon_days=200)
    weeks = recall_schedule(items, AT, 200)
    assert all(w.week_start.weekday() == 0 for w in weeks)
    assert weeks[0].week_start <= AT.date() < weeks[0].week_start + dt.timedelta(days=7)
    assert sum(w.count for w in weeks) == 2  # X-MIC and LAB-GB; C-CMM is overdue, not scheduled
    due_x = AT + dt.timedelta(days=35)
    wk = next(w for w in weeks if "X-MIC" in w.instruments)
    assert wk.week_start == (due_x - dt.timedelta(days=due_x.weekday())).date()


@pytest.mark.parametrize("case", [c for c in CASES if "passfail" in c][:2])
def test_family_interval_reproduces_the_published_a3_case(store, case):
    """One instrument of a family calibrated 21 times at the case's interval: the 20 recalibrations
    found in or out of tolerance as in the tutorial give its recommended interval (to 0.5 day: the
    published interval is rounded to whole days)."""
    from tests.integration.conftest import Region

    r = Region(store)
    st, a = r.store, r.admin
    gauge = st.add_instrument(a, Instrument(tenant_id=r.tenants["C"].id, code="FAM-1", name="gauge",
                                            enterprise_id=r.ent["C"].id, quantity="angle", unit="rad"))
    i0 = case["I0"]
    t0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC) - dt.timedelta(days=i0 * 21)
    for k in range(21):
        result = "pass" if k == 0 or case["passfail"][k - 1] else "out_of_tolerance"
        _cal(st, a, gauge, r.lab, f"F{k}", t0 + dt.timedelta(days=i0 * k), i0, [r.lab_std], result)
    fam = {f.family: f for f in family_intervals(st, r.c, target_reliability=case["Rt"], confidence=case["conf"])}
    got = fam["working/angle/rad"]
    assert (got.n, got.in_tolerance) == (20, sum(case["passfail"]))
    assert got.current_interval_days == i0
    assert got.recommended_days == pytest.approx(case["interval"], abs=0.5)
    assert got.rejection_confidence == pytest.approx(case["rejection"], abs=5e-5)
    assert got.changed


def test_plan_combines_them(region_cal):
    r = region_cal
    plan = calibration_plan(r.store, r.reg, at=AT, horizon_days=90)
    assert plan.count("overdue") == 1 and plan.count("due") == 1 and len(plan.recall) >= 13
