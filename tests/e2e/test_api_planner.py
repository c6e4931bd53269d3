"""The precision planner and gage studies over HTTP."""

from __future__ import annotations

from jingce.services.calculations.msa import _AIAG_GRR
from tests.e2e.test_api import assert_error_shape, client, world  # noqa: F401 - the fixture


def test_gage_study_and_precision_plan_over_http(world):  # noqa: F811
    w = world
    x = client(w, "x")
    cid = w.store.find_characteristic(w.admin, "X", "OTHER", "L").id
    eid = w.ent["X"].id
    url = f"/api/v1/characteristics/{cid}/gage-studies"
    r = x.post(url, json={"instrument_id": w.gauge_x.id, "kind": "grr", "data": {"readings": _AIAG_GRR}})
    assert r.status_code == 201, r.text
    assert r.json()["pct_grr"] > 30 and r.json()["kind"] == "grr" and r.json()["created_by"] == "x"
    err = assert_error_shape(x.post(url, json={"instrument_id": w.gauge_x.id, "kind": "type1",
                                               "data": {"readings": [10.0, 10.1]}}), 422, "invalid_input")
    assert err["details"]["field"] == "data.reference" and err["message_zh"]
    assert_error_shape(x.post(url, json={"instrument_id": w.gauge_x.id, "kind": "nope", "data": {}}), 422,
                       "invalid_input")
    assert [s["kind"] for s in x.get(url).json()] == ["grr"]
    plan = x.get(f"/api/v1/enterprises/{eid}/precision-plan")
    assert plan.status_code == 200, plan.text
    body = plan.json()
    (row,) = body["rows"]
    # X-MIC calibrated with U = 0.001 mm (k = 2) and no resolution: u = 0.0005, TUR = 0.2 / 0.002 = 100
    assert row["instrument_code"] == "X-MIC" and abs(row["tur"] - 100) < 1e-9 and row["u_source"] == "calibration"
    assert row["flags"] == ["grr"] and row["light"] == "red" and row["option"]["kind"] in ("lab", "none")
    assert body["summary"]["grr_above_30"] == 1 and body["summary"]["inadequate"] == 1
    reg = client(w, "reg").get(f"/api/v1/enterprises/{eid}/precision-plan")
    assert reg.status_code == 200 and reg.json()["rows"] == [] and reg.json()["summary"]["grr_above_30"] == 1
    assert "X-MIC" not in reg.text
    assert_error_shape(client(w, "c").get(f"/api/v1/enterprises/{eid}/precision-plan"), 404, "not_found")
    assert_error_shape(client(w, "lab").get(f"/api/v1/enterprises/{eid}/precision-plan"), 403, "permission_denied")
    assert_error_shape(client(w, "reg").post(url, json={"instrument_id": w.gauge_x.id, "kind": "grr", "data": {}}),
                       403, "permission_denied")
