"""Traceability of a measured value: the instrument, the chain at the time of measurement, which
link breaks it and why, and the uncertainty along it (u = U/k per link, root sum of squares up
each path, JCGM 100 5.1.2; the largest path where an instrument used several standards)."""

from __future__ import annotations

import datetime as dt
import math

import pytest

from jingce.errors import InvalidInputError, NotFoundError
from jingce.model import Calibration, Instrument
from jingce.services.traceability import instrument_trace, measurement_trace
from tests.integration.conftest import T0

D = dt.timedelta


def cal(st, a, inst, lab, no, at, stds, *, U=0.001, k=2.0, unit="mm", days=365, result="pass"):
    return st.add_calibration(a, Calibration(instrument_id=inst.id, lab_id=lab.id, certificate_no=no,
                                             calibrated_at=at, valid_until=at + D(days=days), result=result,
                                             expanded_uncertainty=U, coverage_factor=k, unit=unit,
                                             standard_ids=tuple(s.id for s in stds)))


@pytest.fixture
def chain(region):
    r, st, a = region, region.store, region.admin
    r.prov = st.add_instrument(a, Instrument(tenant_id=r.tenants["N"].id, code="PROV-LEN", name="provincial",
                                             kind="provincial_standard", lab_id=r.nmi.id))
    cal(st, a, r.prov, r.nmi, "P1", T0 - D(days=300), [r.national], U=0.2, unit="µm")  # u = 0.1 um = 0.0001 mm
    cal(st, a, r.lab_std, r.nmi, "L1", T0 - D(days=200), [r.prov], U=0.0006, k=2)  # u = 0.0003 mm
    # C's CMM calibrated against the lab standard AND directly against the provincial one
    cal(st, a, r.gauge_c, r.lab, "C1", T0 - D(days=30), [r.lab_std, r.prov], U=0.0024, k=2, days=60)  # u = 0.0012
    r.ingest_basics()
    return r


def test_uncertainty_along_the_chain(chain):
    r = chain
    tr = instrument_trace(r.store, r.c, r.gauge_c.id, T0)
    assert tr.unbroken and tr.unit == "mm"
    u = {(x.instrument_id, x.standard_id): x.u for x in tr.links}
    assert u[(r.prov.id, r.national.id)] == pytest.approx(0.0001)  # 0.2 um / 2, converted to mm
    assert u[(r.lab_std.id, r.prov.id)] == pytest.approx(0.0003)
    assert u[(r.gauge_c.id, r.lab_std.id)] == pytest.approx(0.0012)
    assert tr.u_cumulative[r.national.id] == 0.0
    assert tr.u_cumulative[r.prov.id] == pytest.approx(0.0001)
    assert tr.u_cumulative[r.lab_std.id] == pytest.approx(math.hypot(0.0003, 0.0001))
    # two paths from the CMM: via the lab standard (larger) and straight to the provincial one
    assert tr.u_chain == pytest.approx(math.sqrt(0.0012**2 + 0.0003**2 + 0.0001**2))
    # in another unit
    assert instrument_trace(r.store, r.c, r.gauge_c.id, T0, unit="µm").u_chain == pytest.approx(tr.u_chain * 1000)


def test_trace_of_a_value_at_its_time(chain):
    r = chain
    char = r.store.find_characteristic(r.admin, "C", "ASSY", "RUNOUT")
    mt = measurement_trace(r.store, r.c, characteristic_id=char.id, serial="A2")
    assert mt.instrument_id == r.gauge_c.id and mt.unbroken
    assert mt.trace.chain.at == mt.measurement["measured_at"]
    assert mt.measurement["serial"] == "A2" and mt.measurement["unit"] == "mm"
    by_row = measurement_trace(r.store, r.c, batch=mt.measurement["batch"], position=mt.measurement["position"])
    assert by_row.measurement == mt.measurement
    # a value without an instrument has no chain
    ring = r.store.find_characteristic(r.admin, "S", "RING", "OD")
    assert measurement_trace(r.store, r.s, characteristic_id=ring.id, serial="R0").trace is None


def test_broken_links_say_why(chain):
    r = chain
    late = instrument_trace(r.store, r.c, r.gauge_c.id, T0 + D(days=45))  # the CMM's 60 days have run out
    assert not late.unbroken
    (b,) = [x for x in late.breaks if x.instrument_id == r.gauge_c.id][:1]
    assert b.status == "expired" and "expired" in b.reason_en and b.reason_zh
    early = instrument_trace(r.store, r.c, r.gauge_c.id, T0 - D(days=100))  # before the CMM's calibration
    assert [x.status for x in early.links] == ["missing"] and math.isnan(early.u_chain)
    cal(r.store, r.admin, r.lab_std, r.nmi, "L2", T0 + D(days=10), [r.prov], result="out_of_tolerance")
    oot = instrument_trace(r.store, r.c, r.gauge_c.id, T0 + D(days=11))
    assert {(x.instrument_id, x.status) for x in oot.breaks} == {(r.lab_std.id, "out_of_tolerance")}
    assert "out of tolerance" in oot.breaks[0].reason_en


def test_bad_input_and_tenancy(chain):
    r = chain
    char = r.store.find_characteristic(r.admin, "C", "ASSY", "RUNOUT")
    with pytest.raises(InvalidInputError) as e:
        measurement_trace(r.store, r.c, characteristic_id=char.id)
    assert e.value.details["field"] == "serial"
    with pytest.raises(InvalidInputError):
        measurement_trace(r.store, r.c, batch="abc")
    with pytest.raises(InvalidInputError):
        measurement_trace(r.store, r.c, characteristic_id=char.id, serial="A1", at=T0.replace(tzinfo=None))
    with pytest.raises(NotFoundError):
        measurement_trace(r.store, r.c, characteristic_id=char.id, serial="NOPE")
    with pytest.raises(NotFoundError):  # another tenant's value
        measurement_trace(r.store, r.x, characteristic_id=char.id, serial="A1")
    with pytest.raises(NotFoundError):  # another tenant's working instrument
        instrument_trace(r.store, r.x, r.gauge_c.id)


def test_bulk_traceability_agrees_with_the_chain_walk(chain):
    from jingce.services.calibration import enterprise_calibration, traceable_instruments

    r = chain
    cal(r.store, r.admin, r.gauge_x, r.lab, "X1", T0 - D(days=10), [r.lab_std])
    for at in (T0 - D(days=100), T0, T0 + D(days=45), T0 + D(days=400)):
        bulk = traceable_instruments(r.store, r.reg, at=at)
        for iid, ok in bulk.items():
            assert ok == r.store.calibration_chain(r.reg, iid, at).unbroken, (iid, at)
    rows = {e.enterprise_id: e for e in enterprise_calibration(r.store, r.reg, at=T0)}
    assert (rows[r.ent["C"].id].instruments, rows[r.ent["C"].id].traceable) == (1, 1)
    assert rows[r.ent["X"].id].coverage == 1.0
    late = {e.enterprise_id: e for e in enterprise_calibration(r.store, r.reg, at=T0 + D(days=45))}
    assert late[r.ent["C"].id].compliance == 0.0 and late[r.ent["X"].id].compliance == 1.0
