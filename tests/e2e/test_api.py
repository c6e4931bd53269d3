"""The REST API: authentication, the pinned error shape, batch ingest, and tenancy on every route."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from fastapi.testclient import TestClient

from jingce.api import create_app
from jingce.api.security import DEMO_SECRET, hash_password
from jingce.errors import InvalidInputError
from jingce.model import Calibration
from jingce.settings import Settings
from tests.integration.conftest import Region, h, rows  # noqa: F401 - rows used via Region

PASSWORD = "correct horse battery"


def build_world(path):
    """The small region of tests/integration/conftest.py behind an app, every password PASSWORD."""
    from sqlalchemy import update

    from jingce.store import Store
    from jingce.store import tables as t

    st = Store(Settings(data_dir=path / "data"))
    r = Region(st)
    r.ingest_basics()
    with st.engine.begin() as conn:
        conn.execute(update(t.app_user).values(password_hash=hash_password(PASSWORD)))
    st.add_calibration(r.admin, Calibration(instrument_id=r.gauge_x.id, lab_id=r.lab.id, certificate_no="X1",
                                            calibrated_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
                                            valid_until=dt.datetime(2027, 1, 1, tzinfo=dt.UTC),
                                            expanded_uncertainty=0.001, standard_ids=(r.lab_std.id,)))
    app = create_app(Settings(data_dir=path / "data", demo=True), store=st)
    r.app = app
    return r


@pytest.fixture
def world(tmp_path):
    return build_world(tmp_path)


def client(world, user: str | None) -> TestClient:
    c = TestClient(world.app)
    if user:
        r = c.post("/api/v1/auth/login", json={"username": user, "password": PASSWORD})
        assert r.status_code == 200, r.text
        c.headers["Authorization"] = f"Bearer {r.json()['token']}"
    return c


def assert_error_shape(resp, status: int, code: str) -> dict:
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "message_zh", "details"}
    assert body["error"]["code"] == code
    return body["error"]


def test_login_logout_and_rate_limit(world):
    c = TestClient(world.app)
    assert_error_shape(c.get("/api/v1/auth/me"), 401, "unauthenticated")
    err = assert_error_shape(c.post("/api/v1/auth/login", json={"username": "c", "password": "wrong pass"}),
                             401, "unauthenticated")
    assert "密码" not in err["message"] and err["message_zh"]
    ok = c.post("/api/v1/auth/login", json={"username": "c", "password": PASSWORD})
    assert ok.status_code == 200 and ok.json()["user"]["role"] == "enterprise_admin"
    assert c.get("/api/v1/auth/me").json()["username"] == "c"  # via the session cookie
    for _ in range(5):
        c.post("/api/v1/auth/login", json={"username": "x", "password": "wrong pass"})
    assert_error_shape(c.post("/api/v1/auth/login", json={"username": "x", "password": PASSWORD}), 429,
                       "too_many_requests")
    bad = TestClient(world.app, headers={"Authorization": "Bearer forged.token"})
    assert_error_shape(bad.get("/api/v1/enterprises"), 401, "unauthenticated")


def test_csrf_for_cookie_sessions(world):
    c = TestClient(world.app)
    login = c.post("/api/v1/auth/login", json={"username": "c", "password": PASSWORD}).json()
    d1 = world.store.find_characteristic(world.admin, "C", "ASSY", "RUNOUT").id
    alarms = c.get("/api/v1/alarms")
    assert alarms.status_code == 200
    assert_error_shape(c.post("/api/v1/alarms/1/acknowledge"), 403, "permission_denied")
    r = c.post("/api/v1/alarms/1/acknowledge", headers={"X-CSRF-Token": login["csrf"]})
    assert_error_shape(r, 404, "not_found")  # CSRF passed; there is no alarm 1
    assert d1


def test_secret_required_outside_demo(tmp_path):
    with pytest.raises(InvalidInputError, match="JINGCE_SECRET_KEY|required"):
        create_app(Settings(data_dir=tmp_path / "d"))
    with pytest.raises(InvalidInputError):
        create_app(Settings(data_dir=tmp_path / "d", secret_key=DEMO_SECRET))
    assert create_app(Settings(data_dir=tmp_path / "d", secret_key="x" * 40)) is not None


BATCH = {"measurements": [
    {"enterprise": "C", "part_number": "ASSY", "serial": f"B{i}", "characteristic": "BORE", "value": 20.005 + i * 1e-3,
     "unit": "mm", "time": f"2026-04-01T08:0{i}:00+08:00", "nominal": 20.0, "lower_limit": 19.99, "upper_limit": 20.02}
    for i in range(5)]}


def test_batch_post_is_atomic_and_idempotent(world):
    c = client(world, "c")
    r = c.post("/api/v1/measurements", content=json.dumps(BATCH))
    assert r.status_code == 200 and r.json()["created"] and r.json()["rows"] == 5
    again = c.post("/api/v1/measurements", content=json.dumps(BATCH))
    assert again.status_code == 200 and not again.json()["created"]
    bad = json.loads(json.dumps(BATCH))
    bad["measurements"][3]["value"] = "twenty"
    err = assert_error_shape(c.post("/api/v1/measurements", content=json.dumps(bad)), 422, "format_error")
    assert err["details"]["field"] == "measurements.3.value"
    other = json.loads(json.dumps(BATCH))
    other["measurements"][2]["stage"] = "shipping"
    err = assert_error_shape(c.post("/api/v1/measurements", content=json.dumps(other)), 422, "format_error")
    assert err["details"]["field"] == "stage" and err["details"]["line"] == 2
    bore = world.store.find_characteristic(world.admin, "C", "ASSY", "BORE").id
    v = c.get(f"/api/v1/characteristics/{bore}/values").json()
    assert v["n"] == 5 and v["upper_limit"] == 20.02  # nothing of the bad batches landed
    intrude = json.loads(json.dumps(BATCH))
    for m in intrude["measurements"]:
        m["enterprise"] = "X"
    assert_error_shape(client(world, "x").post("/api/v1/measurements", content=json.dumps(BATCH)), 422,
                       "format_error")  # X may not write C's enterprise; told "unknown enterprise"
    assert_error_shape(c.post("/api/v1/measurements", content=b"{not json"), 422, "format_error")


def test_analyses(world):
    c = client(world, "c")
    names = [a["name"] for a in c.get("/api/v1/analyses").json()]
    assert "spc.xbar_r" in names and "uncertainty.gum" in names
    example = next(a["example"] for a in c.get("/api/v1/analyses").json() if a["name"] == "spc.xbar_r")
    r = c.post("/api/v1/analyses/spc.xbar_r", json=example)
    assert r.status_code == 200 and "xbar" in r.json()
    err = assert_error_shape(c.post("/api/v1/analyses/spc.xbar_r", json={"data": [[1.0]]}), 422, "invalid_input")
    assert err["details"]["argument"] == "data"
    assert_error_shape(c.post("/api/v1/analyses/nope", json={}), 404, "not_found")


# Tenancy on every route: tests/e2e/test_api_tenancy.py (enumerates the OpenAPI document).


def test_oversized_body_is_refused(world):
    c = client(world, "c")
    r = c.post("/api/v1/measurements", content=b"x", headers={"content-length": str(64 * 1024 * 1024)})
    assert_error_shape(r, 413, "payload_too_large")
