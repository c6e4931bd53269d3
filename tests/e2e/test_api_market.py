"""The service market over HTTP: post a need, rank, order, accept, deliver; each visibility rule."""

from __future__ import annotations

import datetime as dt

import pytest

from jingce.model import Characteristic, Lab, Role, ScopeEntry, Tenant, User
from tests.e2e.test_api import assert_error_shape, build_world, client

FUTURE = (dt.datetime.now(dt.UTC) + dt.timedelta(days=20)).isoformat()


@pytest.fixture(scope="module")
def w(tmp_path_factory):
    w = build_world(tmp_path_factory.mktemp("market"))
    st, a = w.store, w.admin
    w.bore = st.add_characteristic(a, Characteristic(product_id=w.assy.id, key="BORE", nominal=20.0, lower_limit=19.99,
                                                     upper_limit=20.02, unit="mm"))
    t2 = st.add_tenant(a, Tenant(code="tl2", name="Lab 2", kind="lab"))
    from jingce.api.security import hash_password
    from tests.e2e.test_api import PASSWORD
    st.add_user(a, User(tenant_id=t2.id, username="lab2", role=Role.LAB), hash_password(PASSWORD))
    w.susp = st.add_lab(a, Lab(tenant_id=t2.id, code="SUSP", name="Suspended lab", qualification="suspended",
                               scope=(ScopeEntry(quantity="length", range_min=0, range_max=500, cmc_absolute=1e-4),)))
    return w


def _need(c, w, **over):
    body = {"kind": "measurement", "characteristic_id": w.bore.id, "serials": ["A1", "A2"], "deadline": FUTURE,
            "decision_rule": "guarded_acceptance", "location": "Harbin"} | over
    r = c.post("/api/v1/market/requests", json=body)
    assert r.status_code == 201, r.text
    return r.json()


def test_post_rank_order_accept_deliver(w):
    c, lab = client(w, "c"), client(w, "lab")
    need = _need(c, w)
    assert need["lower_limit"] == 19.99 and need["status"] == "open"
    rk = c.get(f"/api/v1/market/requests/{need['id']}/ranking").json()
    assert rk["requirement"]["required_uncertainty"] == pytest.approx(0.03 / 8)
    assert 0 < rk["requirement"]["false_accept_risk"] < 0.01
    assert [r["code"] for r in rk["ranked"]] == ["LAB"]
    why = {e["code"]: e["reasons"][0] for e in rk["excluded"]}
    assert why["SUSP"]["en"] == "suspended" and why["NMI"]["en"] == "scope has no length" and why["NMI"]["zh"]
    err = assert_error_shape(c.post("/api/v1/market/orders", json={"request_id": need["id"], "lab_id": w.susp.id}),
                             422, "invalid_input")
    assert err["details"]["field"] == "lab_id"
    r = c.post("/api/v1/market/orders", json={"request_id": need["id"], "lab_id": w.lab.id})
    assert r.status_code == 201, r.text
    order = r.json()
    assert any(n["ref"] == f"order:{order['id']}" for n in lab.get("/api/v1/notifications").json())
    assert_error_shape(c.post(f"/api/v1/market/orders/{order['id']}/accept"), 403, "permission_denied")
    assert lab.post(f"/api/v1/market/orders/{order['id']}/accept").json()["status"] == "accepted"
    delivery = {"certificate_no": "API-1", "instrument_id": w.lab_std.id, "measured_at": "2026-04-02T08:00:00Z",
                "values": [{"serial": "A1", "value": 20.003}, {"serial": "A2", "value": 20.006}]}
    rows = w.store.lake_stats()["rows"]
    d1 = lab.post(f"/api/v1/market/orders/{order['id']}/deliver", json=delivery)
    assert d1.status_code == 200, d1.text
    d2 = lab.post(f"/api/v1/market/orders/{order['id']}/deliver", json=delivery)
    assert d2.json() == d1.json() and d1.json()["batch_id"] and w.store.lake_stats()["rows"] == rows + 2
    for who in (c, lab):
        vals = who.get(f"/api/v1/market/orders/{order['id']}/values").json()
        assert [(v["serial"], v["value"], v["instrument_id"]) for v in vals] == [
            ("A1", 20.003, w.lab_std.id), ("A2", 20.006, w.lab_std.id)]
    assert any("delivered" in n["subject"] for n in c.get("/api/v1/notifications").json())


@pytest.mark.parametrize(("over", "field"), [
    ({"range_min": 5.0, "range_max": 1.0}, "range_min"),
    ({"deadline": "2020-01-01T00:00:00Z"}, "deadline"),
    ({"unit": "parsecs-ish"}, "unit"),
    ({"serials": ["A1", "NOT-A-PART"]}, "serials"),
])
def test_bad_needs_name_the_field(w, over, field):
    c = client(w, "c")
    before = len(c.get("/api/v1/market/requests").json())
    r = c.post("/api/v1/market/requests", json={"kind": "measurement", "characteristic_id": w.bore.id,
                                                 "serials": ["A1"], "deadline": FUTURE, "decision_rule": "simple"} | over)
    assert r.status_code == 422, r.text
    assert field in str(r.json()["error"]["details"]) or field in r.json()["error"]["message"]
    assert len(c.get("/api/v1/market/requests").json()) == before


def test_other_tenants_characteristic_is_not_found(w):
    x_char = w.store.find_characteristic(w.admin, "X", "OTHER", "L").id
    r = client(w, "c").post("/api/v1/market/requests", json={"kind": "measurement", "characteristic_id": x_char,
                                                              "serials": ["X1"], "deadline": FUTURE,
                                                              "decision_rule": "simple"})
    assert_error_shape(r, 404, "not_found")


def test_manufacturer_sees_only_its_own(w):
    c, x, s = client(w, "c"), client(w, "x"), client(w, "s")
    need = _need(c, w)
    assert need["id"] in [q["id"] for q in c.get("/api/v1/market/requests").json()]
    assert x.get("/api/v1/market/requests").json() == [] and s.get("/api/v1/market/orders").json() == []
    assert_error_shape(x.get(f"/api/v1/market/requests/{need['id']}"), 404, "not_found")
    assert_error_shape(x.get(f"/api/v1/market/requests/{need['id']}/ranking"), 404, "not_found")
    assert_error_shape(x.post("/api/v1/market/orders", json={"request_id": need["id"], "lab_id": w.lab.id}),
                       404, "not_found")


def test_a_lab_sees_only_orders_addressed_to_it(w):
    c, lab, lab2 = client(w, "c"), client(w, "lab"), client(w, "lab2")
    need = _need(c, w)
    assert_error_shape(lab.get(f"/api/v1/market/requests/{need['id']}"), 404, "not_found")  # not ordered from it
    assert_error_shape(lab.get(f"/api/v1/market/requests/{need['id']}/ranking"), 403, "permission_denied")
    order = c.post("/api/v1/market/orders", json={"request_id": need["id"], "lab_id": w.lab.id}).json()
    assert lab.get(f"/api/v1/market/requests/{need['id']}").status_code == 200
    assert order["id"] in [o["id"] for o in lab.get("/api/v1/market/orders").json()]
    assert lab2.get("/api/v1/market/orders").json() == [] and lab2.get("/api/v1/market/requests").json() == []
    for path in (f"/api/v1/market/orders/{order['id']}", f"/api/v1/market/orders/{order['id']}/values",
                 f"/api/v1/market/requests/{need['id']}"):
        assert_error_shape(lab2.get(path), 404, "not_found")
    assert_error_shape(lab2.post(f"/api/v1/market/orders/{order['id']}/accept"), 404, "not_found")
    # the lab reads none of the manufacturer's values directly
    assert lab.get(f"/api/v1/characteristics/{w.bore.id}/values").status_code in (200, 404)
    body = lab.get(f"/api/v1/characteristics/{w.bore.id}/values")
    assert body.status_code == 404 or body.json().get("n", 0) == 0


def test_the_regulator_sees_needs_orders_and_counts_but_no_values(w):
    c, reg = client(w, "c"), client(w, "reg")
    need = _need(c, w)
    order = c.post("/api/v1/market/orders", json={"request_id": need["id"], "lab_id": w.lab.id}).json()
    assert need["id"] in [q["id"] for q in reg.get("/api/v1/market/requests").json()]
    assert order["id"] in [o["id"] for o in reg.get("/api/v1/market/orders").json()]
    assert reg.get(f"/api/v1/market/requests/{need['id']}/ranking").status_code == 200
    ov = reg.get("/api/v1/market/overview").json()
    assert ov["orders_by_status"].get("ordered", 0) >= 1 and ov["orders_by_lab"]["LAB"] >= 1
    assert_error_shape(reg.get(f"/api/v1/market/orders/{order['id']}/values"), 404, "not_found")
    assert_error_shape(c.get("/api/v1/market/overview"), 403, "permission_denied")
    assert_error_shape(reg.post("/api/v1/market/requests", json={"kind": "measurement", "deadline": FUTURE}),
                       403, "permission_denied")
