"""Lab supervision over HTTP: application, regulator-only decisions, a proficiency round end to end,
audit findings, the directory and the indicators."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.e2e.test_api import assert_error_shape, build_world, client

SCOPE = [{"quantity": "length", "range_min": 0, "range_max": 300, "unit": "mm", "cmc_absolute": 0.0008,
          "cmc_relative": 0, "method": "JJG 146", "price": 150}]


@pytest.fixture(scope="module")
def w(tmp_path_factory):
    w = build_world(tmp_path_factory.mktemp("supervision"))
    w.http = {u: client(w, u) for u in ("c", "s", "lab", "reg")}
    from tests.e2e.test_api_tenancy import _admin

    w.http["admin"] = _admin(w)
    return w


def test_application_and_decisions(w):
    lab, reg = w.http["lab"], w.http["reg"]
    bad = [dict(SCOPE[0], range_min=300, range_max=0)]
    err = assert_error_shape(lab.post("/api/v1/supervision/applications",
                                      json={"code": "LAB-2", "name": "second site", "scope": bad}), 422, "invalid_input")
    assert err["details"]["field"] == "range_min" and "must be < range_max" in err["message"]
    assert_error_shape(w.http["c"].post("/api/v1/supervision/applications",
                                        json={"code": "C-LAB", "name": "c", "scope": SCOPE}), 403, "permission_denied")
    r = lab.post("/api/v1/supervision/applications", json={"code": "LAB-2", "name": "second site", "scope": SCOPE})
    assert r.status_code == 201, r.text
    new = r.json()
    assert new["qualification"] == "applied" and new["scope"][0]["price"] == 150
    lid = new["id"]
    # an application is not in the enterprises' directory, nor readable by id
    assert lid not in [x["id"] for x in w.http["c"].get("/api/v1/labs").json()]
    assert_error_shape(w.http["c"].get(f"/api/v1/labs/{lid}"), 404, "not_found")
    assert reg.get(f"/api/v1/labs/{lid}").status_code == 200 and lab.get(f"/api/v1/labs/{lid}").status_code == 200
    for user in ("c", "s", "lab", "admin"):  # only the regulator decides; not even the platform admin
        assert_error_shape(w.http[user].post(f"/api/v1/labs/{lid}/decisions", json={"action": "qualify"}), 403,
                           "permission_denied")
    err = assert_error_shape(reg.post(f"/api/v1/labs/{lid}/decisions", json={"action": "suspend", "reason": "x"}),
                             409, "conflict")
    assert "cannot suspend a lab that is applied" in err["message"] and err["details"]["state"] == "applied"
    assert reg.post(f"/api/v1/labs/{lid}/decisions", json={"action": "qualify"}).json()["qualification"] == "qualified"
    err = assert_error_shape(reg.post(f"/api/v1/labs/{lid}/decisions", json={"action": "qualify"}), 409, "conflict")
    assert "qualified" in err["message"]
    err = assert_error_shape(reg.post(f"/api/v1/labs/{lid}/decisions", json={"action": "suspend"}), 422,
                             "invalid_input")
    assert err["details"]["field"] == "reason"
    assert_error_shape(reg.post(f"/api/v1/labs/{lid}/decisions", json={"action": "apply"}), 422, "invalid_input")
    hist = lab.get(f"/api/v1/labs/{lid}/events").json()
    assert [e["action"] for e in hist] == ["apply", "qualify"]
    assert_error_shape(w.http["c"].get(f"/api/v1/labs/{lid}/events"), 404, "not_found")
    assert any(n["kind"] == "qualification" for n in lab.get("/api/v1/notifications").json())


def test_a_round_end_to_end(w):
    reg, lab = w.http["reg"], w.http["lab"]
    deadline = (dt.datetime.now(dt.UTC) + dt.timedelta(days=20)).isoformat()
    body = {"code": "PT-API-1", "title": "ring gauge 50 mm", "quantity": "length", "unit": "mm",
            "artefact": "ring gauge", "assigned_value": 50.0012, "assigned_uncertainty": 0.0004, "score_kind": "en",
            "deadline": deadline}
    assert_error_shape(w.http["admin"].post("/api/v1/supervision/rounds", json=body), 403, "permission_denied")
    assert_error_shape(reg.post("/api/v1/supervision/rounds", json=body | {"deadline": "2030-01-01T00:00:00"}),
                       422, "format_error")
    r = reg.post("/api/v1/supervision/rounds", json=body)
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    seen = lab.get(f"/api/v1/supervision/rounds/{rid}").json()
    assert seen["round"]["assigned_value"] is None and seen["results"] == []  # hidden until closed
    assert_error_shape(w.http["c"].get(f"/api/v1/supervision/rounds/{rid}"), 404, "not_found")
    # E_n = (50.0030 - 50.0012) / sqrt(0.0010^2 + 0.0004^2) = 0.0018 / 0.00107703 = 1.67126 -> unsatisfactory
    sub = lab.post(f"/api/v1/supervision/rounds/{rid}/results",
                   json={"lab_id": w.lab.id, "value": 50.0030, "expanded_uncertainty": 0.0010})
    assert sub.status_code == 201, sub.text
    assert_error_shape(lab.post(f"/api/v1/supervision/rounds/{rid}/results",
                                json={"lab_id": w.nmi.id, "value": 1, "expanded_uncertainty": 1}), 404, "not_found")
    assert_error_shape(lab.post(f"/api/v1/supervision/rounds/{rid}/close"), 403, "permission_denied")
    closed = reg.post(f"/api/v1/supervision/rounds/{rid}/close")
    assert closed.status_code == 200, closed.text
    (res,) = closed.json()["results"]
    assert res["lab_code"] == "LAB" and res["score"] == pytest.approx(1.671258, abs=1e-6)
    assert res["evaluation"] == "unsatisfactory" and res["flags"] == []  # U 0.0010 >= CMC 0.0005
    ent = w.http["c"].get(f"/api/v1/supervision/rounds/{rid}").json()
    assert ent["round"]["assigned_value"] == 50.0012 and ent["results"] == []
    assert ent["summary"] == {"participants": 1, "evaluations": {"unsatisfactory": 1}, "flags": {}}
    assert lab.get(f"/api/v1/supervision/rounds/{rid}").json()["results"][0]["score"] == res["score"]
    assert_error_shape(lab.post(f"/api/v1/supervision/rounds/{rid}/results",
                                json={"lab_id": w.lab.id, "value": 50.0, "expanded_uncertainty": 0.001}), 409,
                       "conflict")
    standing = {s["lab"]["code"]: s for s in w.http["c"].get("/api/v1/supervision/labs").json()}
    assert standing["LAB"]["latest_pt"]["evaluation"] == "unsatisfactory"
    assert any(n["kind"] == "proficiency" and "PT-API-1" in n["subject"] for n in lab.get("/api/v1/notifications").json())


def test_findings_and_indicators(w):
    reg, lab = w.http["reg"], w.http["lab"]
    f = reg.post(f"/api/v1/labs/{w.lab.id}/findings", json={"severity": "major", "clause": "ISO/IEC 17025 7.6",
                                                            "description": "uncertainty budget incomplete"})
    assert f.status_code == 201, f.text
    fid = f.json()["id"]
    assert_error_shape(w.http["admin"].post(f"/api/v1/labs/{w.lab.id}/findings",
                                            json={"severity": "minor", "description": "x"}), 403, "permission_denied")
    assert w.http["c"].get("/api/v1/supervision/findings").json() == []
    assert [x["id"] for x in lab.get("/api/v1/supervision/findings").json()] == [fid]
    standing = {s["lab"]["code"]: s for s in w.http["c"].get("/api/v1/supervision/labs").json()}
    assert standing["LAB"]["open_major_findings"] == 1
    ans = lab.post(f"/api/v1/supervision/findings/{fid}/answer", json={"corrective_action": "budget revised"})
    assert ans.status_code == 200 and ans.json()["status"] == "answered"
    assert_error_shape(lab.post(f"/api/v1/supervision/findings/{fid}/close", json={}), 403, "permission_denied")
    done = reg.post(f"/api/v1/supervision/findings/{fid}/close", json={"note": "verified"})
    assert done.json()["status"] == "closed"
    assert_error_shape(reg.post(f"/api/v1/supervision/findings/{fid}/close", json={}), 409, "conflict")
    ind = reg.get("/api/v1/supervision/indicators").json()
    assert set(ind) >= {"labs", "rounds", "results", "flagged_results", "open_findings"}
    assert ind["open_findings"]["major"] == 0
    assert_error_shape(w.http["c"].get("/api/v1/supervision/indicators"), 403, "permission_denied")
    assert_error_shape(lab.get("/api/v1/supervision/indicators"), 403, "permission_denied")
