"""Traceability, out-of-tolerance impact and calibration management over HTTP: the chain of a
measurement with its uncertainty, bad calibrations refused (a cycle, a future date), the impact
report and who may run and read it, the calibration plan."""

from __future__ import annotations

import datetime as dt
import math

import pytest

from jingce.model import Calibration
from tests.e2e.test_api import assert_error_shape, build_world, client


@pytest.fixture(scope="module")
def w(tmp_path_factory):
    world = build_world(tmp_path_factory.mktemp("trace"))
    st, a = world.store, world.admin
    st.add_calibration(a, Calibration(instrument_id=world.lab_std.id, lab_id=world.nmi.id, certificate_no="N1",
                                      calibrated_at=dt.datetime(2025, 12, 1, tzinfo=dt.UTC),
                                      valid_until=dt.datetime(2026, 12, 1, tzinfo=dt.UTC),
                                      expanded_uncertainty=0.0002, standard_ids=(world.national.id,)))
    return world


def test_chain_of_an_instrument_with_its_uncertainty(w):
    x = client(w, "x")
    body = x.get(f"/api/v1/instruments/{w.gauge_x.id}/trace", params={"at": "2026-03-01T00:00:00Z"}).json()
    assert body["unbroken"] and body["unit"] == "mm" and body["breaks"] == []
    us = {(link["instrument_id"], link["standard_id"]): link["u"] for link in body["links"]}
    assert us[(w.gauge_x.id, w.lab_std.id)] == pytest.approx(0.0005)  # U/k = 0.001/2
    assert us[(w.lab_std.id, w.national.id)] == pytest.approx(0.0001)
    assert body["u_chain"] == pytest.approx(math.hypot(0.0005, 0.0001))
    nodes = {n["instrument_id"]: n for n in body["nodes"]}
    assert nodes[w.national.id]["u_cumulative"] == 0.0
    assert nodes[w.lab_std.id]["u_cumulative"] == pytest.approx(0.0001)
    # later, the micrometer's calibration has expired: the chain breaks at that link, and says why
    later = x.get(f"/api/v1/instruments/{w.gauge_x.id}/trace", params={"at": "2027-02-01T00:00:00Z"}).json()
    assert not later["unbroken"]
    assert {(b["instrument_id"], b["status"]) for b in later["breaks"]} == {(w.gauge_x.id, "expired"),
                                                                             (w.lab_std.id, "expired")}
    assert "expired" in later["breaks"][0]["reason"] and later["breaks"][0]["reason_zh"]


def test_trace_of_a_measured_value(w):
    x = client(w, "x")
    char = w.store.find_characteristic(w.admin, "X", "OTHER", "L")
    r = x.get("/api/v1/trace/measurement", params={"characteristic_id": char.id, "serial": "X1"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["measurement"]["instrument_id"] == w.gauge_x.id and body["measurement"]["serial"] == "X1"
    assert body["unbroken"] and body["trace"]["at"].startswith(body["measurement"]["measured_at"][:19])
    # by its lake row
    m = body["measurement"]
    again = x.get("/api/v1/trace/measurement", params={"batch": m["batch"], "position": m["position"]}).json()
    assert again["measurement"] == m
    # another tenant's value: not found; a missing field: named
    assert_error_shape(client(w, "c").get("/api/v1/trace/measurement",
                                          params={"characteristic_id": char.id, "serial": "X1"}), 404, "not_found")
    bad = x.get("/api/v1/trace/measurement", params={"characteristic_id": char.id})
    assert assert_error_shape(bad, 422, "invalid_input")["details"]["field"] == "serial"


def _cal(instrument, standard, no, at, **extra):
    return {"instrument_id": instrument, "lab_id": extra.pop("lab_id"), "certificate_no": no, "calibrated_at": at,
            "valid_until": "2027-12-01T00:00:00Z", "expanded_uncertainty": 0.001, "standard_ids": [standard], **extra}


def test_a_cycle_and_a_future_date_are_refused_and_change_nothing(w):
    lab = client(w, "lab")
    before = len(w.store.calibrations(w.admin, w.lab_std.id))
    # X-MIC was calibrated against LAB-GB; LAB-GB against X-MIC would close a cycle
    r = lab.post("/api/v1/calibrations", json=_cal(w.lab_std.id, w.gauge_x.id, "CYC-1", "2026-02-01T00:00:00Z",
                                                   lab_id=w.lab.id))
    body = assert_error_shape(r, 409, "conflict")
    assert body["details"]["field"] == "standard_ids" and "cycle" in body["message"]
    future = (dt.datetime.now(dt.UTC) + dt.timedelta(days=3)).isoformat()
    r = lab.post("/api/v1/calibrations", json=_cal(w.gauge_x.id, w.lab_std.id, "FUT-1", future, lab_id=w.lab.id))
    body = assert_error_shape(r, 422, "invalid_input")
    assert body["details"]["field"] == "calibrated_at" and "future" in body["message"]
    assert len(w.store.calibrations(w.admin, w.lab_std.id)) == before
    assert [c.certificate_no for c in w.store.calibrations(w.admin, w.gauge_x.id)] == ["X1"]


def test_impact_report_who_runs_and_who_reads(w):
    st, a = w.store, w.admin
    oot = st.add_calibration(a, Calibration(instrument_id=w.lab_std.id, lab_id=w.nmi.id, certificate_no="N2",
                                            calibrated_at=dt.datetime(2026, 6, 1, tzinfo=dt.UTC),
                                            valid_until=dt.datetime(2027, 6, 1, tzinfo=dt.UTC),
                                            result="out_of_tolerance", error_as_found=0.003,
                                            expanded_uncertainty=0.0002, standard_ids=(w.national.id,)))
    assert_error_shape(client(w, "c").post(f"/api/v1/calibrations/{oot.id}/impact"), 403, "permission_denied")
    # the lab holds the standard but did not issue the calibration that found it out of tolerance
    assert_error_shape(client(w, "lab").post(f"/api/v1/calibrations/{oot.id}/impact"), 403, "permission_denied")
    r = client(w, "reg").post(f"/api/v1/calibrations/{oot.id}/impact")
    assert r.status_code == 201, r.text
    rep = r.json()
    assert rep["summary"]["instrument"] == "LAB-GB" and rep["summary"]["totals"]["instruments"] == 2
    assert [e["code"] for e in rep["summary"]["enterprises"]] == ["X"]
    # X reads its part: its values measured with X-MIC, re-evaluated; C is not concerned
    x = client(w, "x")
    mine = x.get(f"/api/v1/impact-reports/{rep['id']}").json()
    assert [e["code"] for e in mine["summary"]["enterprises"]] == ["X"]
    rows = x.get(f"/api/v1/impact-reports/{rep['id']}/measurements").json()
    assert len(rows) == 2 and all(r["instrument_id"] == w.gauge_x.id and r["depth"] == 1 for r in rows)
    assert all(r["accepted"] and 0 <= r["pfa"] < 1 for r in rows)
    assert [n["ref"] for n in x.get("/api/v1/notifications").json()] == [f"calibration:{oot.id}"]
    assert_error_shape(client(w, "c").get(f"/api/v1/impact-reports/{rep['id']}"), 404, "not_found")
    assert client(w, "c").get("/api/v1/impact-reports").json() == []


def test_calibration_plan(w):
    body = client(w, "x").get("/api/v1/calibration/plan", params={"at": "2026-11-15T00:00:00Z"}).json()
    assert [i["code"] for i in body["items"]] == ["X-MIC"]
    assert body["items"][0]["status"] == "due" and body["counts"]["due"] == 1
    assert sum(wk["count"] for wk in body["recall"]) == 1 and len(body["recall"]) >= 13
    reg = client(w, "reg").get("/api/v1/calibration/plan", params={"at": "2026-11-15T00:00:00Z"}).json()
    assert {"X-MIC", "C-CMM", "LAB-GB"} <= {i["code"] for i in reg["items"]}
    assert "NAT-LEN" not in {i["code"] for i in reg["items"]}
    r = client(w, "x").get("/api/v1/calibration/plan", params={"horizon_days": 0})
    assert r.status_code == 422
    far = client(w, "x").get("/api/v1/calibration/plan", params={"at": "9999-12-31T00:00:00Z"})
    assert far.status_code == 422 and far.json()["error"]["details"]["field"] == "at"  # schemathesis found a 500
