"""The root-cause and region quality routes over HTTP: who sees what, the error shape."""

from __future__ import annotations

import pytest

from tests.e2e.test_api import assert_error_shape, build_world, client
from tests.integration.test_rootcause import build_chain


@pytest.fixture(scope="module")
def qworld(tmp_path_factory):
    w = build_world(tmp_path_factory.mktemp("quality"))
    build_chain(w)
    yield w
    w.store.close()


def test_customer_gets_the_ranking_with_points(qworld):
    r = client(qworld, "c").get(f"/api/v1/characteristics/{qworld.runout.id}/root-cause")
    assert r.status_code == 200, r.text
    d = r.json()
    assert (d["candidates"][0]["product"], d["candidates"][0]["code"]) == ("RING", "OD")
    assert d["scatter"]["kind"] == "points" and d["hidden_components"] == 1
    assert "SEAL" not in r.text


def test_regulator_gets_statistics_and_binned_scatter(qworld):
    r = client(qworld, "reg").get(f"/api/v1/characteristics/{qworld.runout.id}/root-cause")
    assert r.status_code == 200, r.text
    d = r.json()
    assert d["scatter"]["kind"] == "binned" and "points" not in d["scatter"] and d["raw_values"] is False
    assert any(c.get("product") == "SEAL" for c in d["candidates"])


def test_other_tenants_get_not_found(qworld):
    for user in ("x", "s", "lab"):
        r = client(qworld, user).get(f"/api/v1/characteristics/{qworld.runout.id}/root-cause")
        assert_error_shape(r, 404, "not_found")


def test_bad_period_names_the_field(qworld):
    r = client(qworld, "c").get(f"/api/v1/characteristics/{qworld.runout.id}/root-cause",
                                params={"start": "2026-03-05", "end": "2026-03-01"})
    body = assert_error_shape(r, 422, "invalid_input")
    assert body["details"]["field"] == "end"
    r = client(qworld, "c").get(f"/api/v1/characteristics/{qworld.runout.id}/root-cause", params={"start": "soon"})
    assert r.status_code == 422


def test_worst_characteristics_per_tenant(qworld):
    ids = [c["id"] for c in client(qworld, "c").get("/api/v1/quality/worst").json()["characteristics"]]
    assert qworld.runout.id in ids
    assert client(qworld, "x").get("/api/v1/quality/worst").json()["characteristics"] == []
    r = client(qworld, "c").get("/api/v1/quality/worst", params={"enterprise_id": qworld.ent["X"].id})
    assert_error_shape(r, 404, "not_found")


def test_region_dashboard_has_the_new_indicators(qworld):
    d = client(qworld, "reg").get("/api/v1/dashboard/region").json()
    chain = d["chains"][0]
    for key in ("traceability_coverage", "calibration_compliance", "nonconforming_characteristics"):
        assert key in chain
    assert qworld.runout.id in [c["id"] for c in d["nonconforming"]]
    assert "proficiency" in d
    e = client(qworld, "reg").get(f"/api/v1/dashboard/region/enterprises/{qworld.ent['C'].id}").json()
    assert e["indicators"]["nonconforming_characteristics"] >= 1
    assert all("traceable" in i for i in e["instruments"])
