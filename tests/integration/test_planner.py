"""Gage studies recorded per characteristic and instrument, and the precision planner, on every
store backend (SQLite; PostgreSQL when JINGCE_TEST_PG_URL is set)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
import yaml
from sqlalchemy import func, select

from jingce.errors import InvalidInputError, NotFoundError, PermissionDeniedError
from jingce.kernels import msa
from jingce.kernels.conformity import global_risk
from jingce.model import Calibration, Instrument, Lab, MeasurementPlan, PlanItem, ScopeEntry
from jingce.services import planner
from jingce.services.calculations.msa import _AIAG_GRR
from jingce.store import tables as t
from tests.integration.conftest import Region, h, rows

DATA = Path(__file__).parents[1] / "data"
NOW = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)


def _count(store) -> int:
    with store._read() as conn:
        return conn.execute(select(func.count()).select_from(t.gage_study)).scalar()


@pytest.fixture
def region(store):
    r = Region(store)
    r.ingest_basics()
    r.char_x = store.find_characteristic(r.admin, "X", "OTHER", "L")
    return r


def test_record_a_gage_rr_runs_the_kernel_and_keeps_its_figures(region):
    st, x = region.store, region.x
    s = planner.record_gage_study(st, x, region.char_x.id, region.gauge_x.id, "grr", {"readings": _AIAG_GRR})
    want = msa.grr_anova(np.asarray(_AIAG_GRR), 0.2)
    assert s.id and s.kind.value == "grr" and s.created_by == "x"
    assert s.pct_grr == pytest.approx(want.pct_tolerance["grr"], rel=1e-12)
    assert s.ndc == want.ndc and s.u_ms == pytest.approx(want.grr, rel=1e-12)
    assert s.result["pct_tolerance"]["grr"] == pytest.approx(s.pct_grr)
    t1 = planner.record_gage_study(st, x, region.char_x.id, region.gauge_x.id, "type1",
                                   {"readings": [10.001, 10.0, 9.999, 10.002, 10.0, 9.998, 10.001, 10.0, 10.0, 9.999],
                                    "reference": 10.0})
    r1 = msa.type1([10.001, 10.0, 9.999, 10.002, 10.0, 9.998, 10.001, 10.0, 10.0, 9.999], 10.0, 0.2)
    assert t1.cg == pytest.approx(r1.cg) and t1.cgk == pytest.approx(r1.cgk)
    v = planner.record_gage_study(st, x, region.char_x.id, region.gauge_x.id, "vda5",
                                  {"u_cal": 0.002, "u_evr": 0.004, "resolution": 0.001, "u_av": 0.003})
    rv = msa.measurement_process_capability(0.2, u_cal=0.002, u_evr=0.004, resolution=0.001, u_av=0.003)
    assert v.q_mp == pytest.approx(rv.q_mp) and v.u_ms == pytest.approx(rv.u_mp)
    listed = planner.gage_studies(st, x, region.char_x.id)
    assert [g.kind.value for g in listed] == ["grr", "type1", "vda5"]
    assert planner.gage_studies(st, region.admin, region.char_x.id) == listed


def test_gage_study_permissions_and_bad_input_change_nothing(region):
    st, cid, iid = region.store, region.char_x.id, region.gauge_x.id
    good = {"readings": _AIAG_GRR}
    with pytest.raises(NotFoundError):
        planner.record_gage_study(st, region.c, cid, iid, "grr", good)  # another tenant's characteristic
    with pytest.raises(NotFoundError):
        planner.gage_studies(st, region.c, cid)
    with pytest.raises(PermissionDeniedError):
        planner.record_gage_study(st, region.lab_user, cid, iid, "grr", good)
    with pytest.raises(PermissionDeniedError):
        planner.record_gage_study(st, region.reg, cid, iid, "grr", good)
    with pytest.raises(NotFoundError) as e:  # X's characteristic with C's instrument
        planner.record_gage_study(st, region.x, cid, region.gauge_c.id, "grr", good)
    assert e.value.details["field"] == "instrument_id"
    for data, field in (({"readings": [[[1.0, 2.0]]]}, "data.part"),  # one part, one appraiser
                        ({"readings": _AIAG_GRR, "colour": 1}, "data.colour"),
                        ({"reference": 10.0}, "data.readings")):
        kind = "type1" if "reference" in data else "grr"
        with pytest.raises(InvalidInputError) as e:
            planner.record_gage_study(st, region.x, cid, iid, kind, data)
        assert e.value.details["field"] == field
    with pytest.raises(InvalidInputError) as e:
        planner.record_gage_study(st, region.x, cid, iid, "grr2", good)
    assert e.value.details["field"] == "kind"
    with pytest.raises(InvalidInputError) as e:
        planner.record_gage_study(st, region.x, cid, iid, "vda5", {"u_cal": -1.0, "u_evr": 0.01})
    assert e.value.details["field"] == "data.u_cal"
    runout = st.find_characteristic(region.admin, "C", "ASSY", "RUNOUT")  # one-sided, kind "size"
    with pytest.raises(InvalidInputError) as e:
        planner.record_gage_study(st, region.c, runout.id, region.gauge_c.id, "grr", good)
    assert e.value.details["field"] == "characteristic_id"
    assert _count(st) == 0


def _calibrate(region, inst, U, *, valid_days=365, result="pass"):
    return region.store.add_calibration(region.admin, Calibration(
        instrument_id=inst.id, lab_id=region.lab.id, certificate_no=f"P-{inst.code}-{U}",
        calibrated_at=NOW - dt.timedelta(days=30), valid_until=NOW + dt.timedelta(days=valid_days - 30),
        expanded_uncertainty=U, result=result, standard_ids=(region.lab_std.id,)))


def test_plan_flags_a_low_tur_and_finds_the_cheapest_option(region):
    st, x, a = region.store, region.x, region.admin
    _calibrate(region, region.gauge_x, 0.03)  # u = 0.015 mm (resolution not given): TUR = 0.2 / 0.06 = 3.33
    plan = planner.plan_precision(st, x, region.ent["X"].id, now=NOW)
    (row,) = plan.rows
    assert row.instrument_code == "X-MIC" and row.u_source == "calibration"
    assert row.u == pytest.approx(0.015) and row.tur == pytest.approx(0.2 / (2 * 2 * 0.015))
    assert row.flags == ("tur",) and row.status == "inadequate" and row.light == "red"
    # the two values spread less than u: they show the measurement only, so the process is taken as
    # centred and just capable (sd = T / 6)
    vals = st.values(a, row.characteristic_id).column("value").to_numpy()
    assert row.n_values == 2 and vals.std(ddof=1) < 0.015
    assert row.process_source == "assumed" and row.process_mean == pytest.approx(10.0)
    assert row.process_sd == pytest.approx(0.2 / 6)
    # hand calculation of the risk the low TUR causes: JCGM 106 9.5.2 with that prior
    want = global_risk(10.0, 0.2 / 6, 0.015, 9.9, 10.1)
    assert row.risk_tur == pytest.approx(want.consumer_risk, rel=1e-9) and row.risk == row.risk_tur
    assert row.producer_risk == pytest.approx(want.producer_risk, rel=1e-9)
    # the only qualified lab's scope: CMC 0.0005 mm -> TUR 200
    assert row.option.kind == "lab" and row.option.ref == "LAB" and row.option.tur == pytest.approx(200)
    assert row.option.cost is None and "price not stated" in row.option.text_en and "价格未标明" in row.option.text_zh
    # an own instrument with a stated uncertainty of 0.004 mm (TUR 12.5) wins at cost 0
    st.add_instrument(a, Instrument(tenant_id=region.tenants["X"].id, code="X-HEIGHT", name="height gauge",
                                    enterprise_id=region.ent["X"].id, uncertainty=4, unit="µm",
                                    range_min=0, range_max=25_000))  # 0-25 mm
    row = planner.plan_precision(st, x, region.ent["X"].id, now=NOW).rows[0]
    assert row.option.kind == "own_instrument" and row.option.ref == "X-HEIGHT" and row.option.cost == 0
    assert row.option.tur == pytest.approx(12.5) and row.option.risk <= row.risk
    # a plan item naming it makes it the instrument in use; the worse one still governs
    st.add_plan(a, MeasurementPlan(product_id=region.other.id, name="cp", items=(
        PlanItem(characteristic_id=row.characteristic_id, instrument_id=st.get_instrument(a, code="X-HEIGHT").id),)))
    row = planner.plan_precision(st, x, region.ent["X"].id, now=NOW).rows[0]
    assert len(row.instrument_ids) == 2 and row.instrument_code == "X-MIC" and "tur" in row.flags


def test_no_adequate_option_and_gage_study_flags(region):
    st, x, a = region.store, region.x, region.admin
    st.add_lab(a, Lab(tenant_id=region.tenants["L"].id, code="SUSP", name="suspended lab", qualification="suspended",
                      scope=(ScopeEntry(quantity="length", range_min=0, range_max=100, cmc_absolute=0.0001),)))
    with st._write() as conn:  # the qualified lab's scope no longer reaches 10 mm
        conn.execute(t.lab.update().where(t.lab.c.id == region.lab.id).values(qualification="revoked"))
    _calibrate(region, region.gauge_x, 0.004)  # TUR 25: adequate by TUR
    row = planner.plan_precision(st, x, region.ent["X"].id, now=NOW).rows[0]
    assert row.status == "adequate" and row.option.kind == "current" and row.option.ref == "X-MIC"
    s = planner.record_gage_study(st, x, row.characteristic_id, region.gauge_x.id, "grr", {"readings": _AIAG_GRR})
    row = planner.plan_precision(st, x, region.ent["X"].id, now=NOW).rows[0]
    assert row.flags == ("grr",) and row.pct_grr == s.pct_grr > 30
    assert row.risk_grr == pytest.approx(planner.consumer_risk(row.process_mean, row.process_sd, s.u_ms, 9.9, 10.1))
    assert row.risk == max(row.risk_tur, row.risk_grr)
    assert row.option.kind == "none" and row.option.text_en == "none available — needs a better instrument"
    assert "需要更好的测量仪器" in row.option.text_zh
    planner.record_gage_study(st, x, row.characteristic_id, region.gauge_x.id, "vda5",
                              {"u_evr": 0.02, "q_mp_limit": 25})
    row = planner.plan_precision(st, x, region.ent["X"].id, now=NOW).rows[0]
    assert row.flags == ("grr", "q_mp") and row.q_mp_limit == 25 and row.q_mp == pytest.approx(100 * 2 * 2 * 0.02 / 0.2)


def test_planner_tenancy_and_the_regulators_aggregates(region):
    st = region.store
    eid = region.ent["X"].id
    for actor in (region.c, region.s):
        with pytest.raises(NotFoundError):
            planner.plan_precision(st, actor, eid)
    with pytest.raises(PermissionDeniedError):
        planner.plan_precision(st, region.lab_user, eid)
    with pytest.raises(PermissionDeniedError):
        planner.plan_precision(st, region.reg, eid)
    summary = planner.precision_summary(st, region.reg, eid, now=NOW)
    assert summary["characteristics"] == 1 and summary["unknown"] == 1  # X-MIC: no uncertainty known
    assert planner.plan_precision(st, region.admin, eid, now=NOW).rows[0].u is None
    # C's plan: its own characteristic only (not S's shared RING); RUNOUT is one-sided of kind "size"
    plan = planner.plan_precision(st, region.c, region.ent["C"].id, now=NOW)
    assert [r.key for r in plan.rows] == ["RUNOUT"] and plan.rows[0].tolerance is None


DEAVER = yaml.safe_load((DATA / "conformity" / "deaver.yaml").read_text())["cases"]


@pytest.mark.parametrize("case", [c for c in DEAVER if c["GB"] == 1.0])
def test_planner_reproduces_deaver_through_the_store(store, case):
    """Deaver (NCSL 1994): process N(0, 1), limits +-SL, TUR = SL / (2 u) (= T / (2U), k = 2), simple
    acceptance. Measured values with mean 0 and sd sqrt(1 + u^2) (the process N(0, 1) seen through the
    instrument) are ingested; the instrument's stated u gives the TUR; the planner takes the process
    sd as sqrt(s^2 - u^2) = 1, and its risk must be the published PFA."""
    r = Region(store)
    a, sl, tur = r.admin, case["SL"], case["TUR"]
    u = sl / (2 * tur)
    store.add_instrument(a, Instrument(tenant_id=r.tenants["X"].id, code="X-REF", name="ref",
                                       enterprise_id=r.ent["X"].id, uncertainty=u))
    z = np.random.default_rng(3).standard_normal(400)
    z = (z - z.mean()) / z.std(ddof=1) * np.sqrt(1 + u * u)
    table = rows("X", "OTHER", ["D"], [f"X{i}" for i in range(400)], nominal=0.0, lower=-sl, upper=sl,
                 instrument="X-REF")
    table = table.set_column(table.column_names.index("value"), "value", pa.array(z))
    store.ingest(a, table, content_hash=h(f"deaver{sl}{tur}"), source_format="test")
    (row,) = planner.plan_precision(store, r.x, r.ent["X"].id, now=NOW).rows
    assert row.process_mean == pytest.approx(0.0, abs=1e-12) and row.process_sd == pytest.approx(1.0, rel=1e-12)
    assert row.tur == pytest.approx(tur, rel=1e-12)
    assert row.risk_tur == pytest.approx(case["PFA"], abs=case.get("tol", 0.0005))
    assert ("tur" in row.flags) == (tur < 4)


def _check_demo_plan(store, admin, ent_id):
    plan = planner.plan_precision(store, admin, ent_id)
    by_key = {}
    for r in plan.rows:
        by_key.setdefault(r.key, []).append(r)
    fit, tight = by_key["FIT_PLANNER"][0], by_key["BORE_TIGHT"][0]
    assert "tur" in fit.flags and fit.option.kind == "lab" and fit.option.tur >= 4
    assert "tur" in tight.flags and tight.option.kind == "none"
    assert tight.option.text_en == "none available — needs a better instrument"
    assert "q_mp" in fit.flags
    assert any("grr" in r.flags and r.pct_grr > 30 for r in plan.rows)
    assert any(r.pct_grr is not None and r.pct_grr < 30 for r in plan.rows)
    s = plan.summary()
    assert s["inadequate"] >= 3 and s["option_lab"] >= 1 and s["option_none"] >= 1
    return plan


def test_demo_extend_on_a_small_region(store):
    """The demo's planner part on the test region (a builder-like view of it): X gets a worn caliper,
    gage studies, a fit only a lab can measure and a bore nobody can."""
    from types import SimpleNamespace

    from jingce.services.demo import planner_demo

    r = Region(store)
    r.ingest_basics()
    a = r.admin
    store.ingest(a, rows("X", "OTHER", ["W"], [f"X{i}" for i in range(1, 41)], nominal=20.0, lower=19.95,
                         upper=20.05, value0=20.0, instrument="X-MIC"), content_hash=h("x-w"), source_format="test")
    builder = SimpleNamespace(enterprises=r.ent, products={"X": [SimpleNamespace(
        id=r.other.id, part_number="OTHER", serials=[f"X{i}" for i in range(1, 41)])]})
    out = planner_demo.extend(store, a, builder)
    assert out["enterprise"] == "X" and out["studies"] == 4 and out["instrument"] == "X-CALIPER-OLD"
    plan = _check_demo_plan(store, a, r.ent["X"].id)
    worn = next(row for row in plan.rows if row.key == "L")
    assert worn.instrument_code == "X-CALIPER-OLD" and worn.tur == pytest.approx(2.5)
    studies = store.gage_studies(a, enterprise_id=r.ent["X"].id)
    assert sorted(s.kind.value for s in studies) == ["grr", "grr", "vda5", "vda5"]


@pytest.mark.slow
def test_the_small_demo_shows_inadequate_measurements(tmp_path):
    """build_demo runs planner_demo.extend after the base region (and the other stories)."""
    from jingce.services.demo.build import build_demo
    from jingce.settings import Settings
    from jingce.store import Store

    st = Store(Settings(data_dir=tmp_path / "data"))
    build_demo(st, seed=7, scale=0.02)
    admin = st.bootstrap()
    (worn,) = [i for i in st.list_instruments(admin) if i.code.endswith("-CALIPER-OLD")]
    plan = _check_demo_plan(st, admin, worn.enterprise_id)
    assert any(r.option.kind == "own_instrument" for r in plan.rows)  # the worn caliper's characteristic
    st.close()


def test_the_process_distribution_from_the_summaries_equals_the_lakes(region):
    """After `jingce analyse region` the planner reads the quality summaries (one read for the
    enterprise); their mean and overall sigma are the values' own."""
    from jingce.engine.local import LocalEngine
    from jingce.services.region import analyse_region

    st, a = region.store, region.admin
    st.add_instrument(a, Instrument(tenant_id=region.tenants["X"].id, code="X-REF", name="ref",
                                    enterprise_id=region.ent["X"].id, uncertainty=0.001))
    z = np.random.default_rng(5).normal(20.0, 0.01, 200)
    table = rows("X", "OTHER", ["W"], [f"X{i}" for i in range(200)], nominal=20.0, lower=19.95, upper=20.05,
                 instrument="X-REF")
    st.ingest(a, table.set_column(table.column_names.index("value"), "value", pa.array(z)),
              content_hash=h("summ"), source_format="test")
    before = {r.key: r for r in planner.plan_precision(st, region.x, region.ent["X"].id, now=NOW).rows}
    assert before["W"].process_source == "lake"
    analyse_region(st, a, LocalEngine())
    after = {r.key: r for r in planner.plan_precision(st, region.x, region.ent["X"].id, now=NOW).rows}
    assert after["W"].process_source == "summaries" and after["W"].n_values == 200
    assert after["W"].process_mean == pytest.approx(z.mean(), rel=1e-12)
    assert after["W"].process_sd == pytest.approx(np.sqrt(z.var(ddof=1) - 0.001 ** 2), rel=1e-9)
    assert after["W"].process_sd == pytest.approx(before["W"].process_sd, rel=1e-9)
    assert after["W"].risk == pytest.approx(before["W"].risk, rel=1e-6)


def test_the_cheapest_priced_lab_line_wins(region):
    st, a = region.store, region.admin
    _calibrate(region, region.gauge_x, 0.03)  # TUR 3.33
    for code, price, cmc in (("DEAR", 500.0, 0.0001), ("CHEAP", 80.0, 0.004), ("CHEAPER", 20.0, 0.02)):
        st.add_lab(a, Lab(tenant_id=region.tenants["L"].id, code=code, name=f"{code} lab", qualification="qualified",
                          scope=(ScopeEntry(quantity="length", range_min=0, range_max=100, cmc_absolute=cmc,
                                            price=price),)))
    row = planner.plan_precision(st, region.x, region.ent["X"].id, now=NOW).rows[0]
    # CHEAPER: U = 0.02, TUR = 0.2 / (2 * 0.02) = 5 >= 4, and the lowest price; priced lines before LAB's unpriced
    assert (row.option.kind, row.option.ref, row.option.cost) == ("lab", "CHEAPER", 20.0)
    assert row.option.tur == pytest.approx(5.0) and "20" in row.option.text_en
