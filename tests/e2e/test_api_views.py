"""The view endpoints: control-chart data, enterprise and region dashboards, the traceability graph.

Limits and indices are checked against direct formulas (ISO 7870-2:2013 Table 3 and clause 8.2:
I limits mean +- 3 MR-bar/d2 with d2(2) = 2/sqrt(pi); X-bar/R limits grand mean +- A2 R-bar,
ISO 22514-2 Cpk = min(USL - mean, mean - LSL) / 3 sigma_within).
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pyarrow as pa
import pytest

from jingce.model import Calibration
from tests.e2e import test_api
from tests.e2e.test_api import assert_error_shape, client
from tests.integration.conftest import h

T0 = dt.datetime(2026, 2, 1, tzinfo=dt.UTC)
world = test_api.world  # the fixture


def _series(world, values: np.ndarray, key: str = "DIA", *, lower=9.9, upper=10.1) -> int:
    n = values.size
    table = pa.table({
        "enterprise": ["C"] * n, "part_number": ["ASSY"] * n, "serial": [f"D{i}" for i in range(n)],
        "characteristic": [key] * n, "value": values.astype(float), "unit": ["mm"] * n,
        "measured_at": pa.array([T0 + dt.timedelta(minutes=i) for i in range(n)], pa.timestamp("us", tz="UTC")),
        "nominal": [10.0] * n, "lower_limit": [lower] * n, "upper_limit": [upper] * n,
        "position": pa.array(range(n), pa.int64())})
    world.store.ingest(world.admin, table, content_hash=h(f"series-{key}-{n}"), source_format="test")
    return world.store.find_characteristic(world.admin, "C", "ASSY", key).id


@pytest.fixture
def series(world):
    rng = np.random.default_rng(7)
    x = 10.0 + 0.01 * rng.standard_normal(200)
    x[150] = 10.08  # far beyond 3 sigma: Nelson rule 1
    return x, _series(world, x)


def test_imr_chart_limits_violations_and_capability(world, series):
    x, cid = series
    r = client(world, "c").get(f"/api/v1/characteristics/{cid}/chart")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["chart"] == "imr" and body["subgroup_size"] == 1 and body["limits_source"] == "phase_i"
    assert body["characteristic"]["code"] == "DIA" and body["characteristic"]["enterprise_id"] == world.ent["C"].id
    assert len(body["t"]) == 200 and body["t"][1] - body["t"][0] == 60_000
    assert body["t"][0] == int(T0.timestamp() * 1000)
    i_panel, mr_panel = body["panels"]
    assert i_panel["name"] == "I" and mr_panel["name"] == "MR"
    mr = np.abs(np.diff(x))
    sigma = mr.mean() / (2 / math.sqrt(math.pi))
    assert i_panel["center"] == pytest.approx(x.mean(), rel=1e-12)
    assert i_panel["ucl"] == pytest.approx(x.mean() + 3 * sigma, rel=1e-9)
    assert i_panel["lcl"] == pytest.approx(x.mean() - 3 * sigma, rel=1e-9)
    assert mr_panel["points"][0] is None and mr_panel["points"][1] == pytest.approx(mr[0])  # NaN -> null
    at = {v["index"]: v["rules"] for v in i_panel["violations"]}
    assert 1 in at[150] and all(1 not in rules for i, rules in at.items() if i != 150)
    assert all(1 <= n <= 8 for v in i_panel["violations"] for n in v["rules"])
    cap = body["capability"]
    assert cap["n"] == 200 and cap["mean"] == pytest.approx(x.mean())
    assert cap["sigma_overall"] == pytest.approx(x.std(ddof=1))
    assert cap["cpk"] == pytest.approx(min(10.1 - x.mean(), x.mean() - 9.9) / (3 * cap["sigma_within"]))
    assert cap["ppk"] == pytest.approx(min(10.1 - x.mean(), x.mean() - 9.9) / (3 * x.std(ddof=1)))
    assert cap["cpk_ci"][0] < cap["cpk"] < cap["cpk_ci"][1]
    assert sum(cap["histogram"]["counts"]) == 200
    assert len(cap["histogram"]["edges"]) == len(cap["histogram"]["counts"]) + 1
    width = cap["histogram"]["edges"][1] - cap["histogram"]["edges"][0]
    area = np.trapezoid(cap["density"]["y"], cap["density"]["x"])  # density scaled to counts: area n * width
    assert area == pytest.approx(200 * width, rel=1e-3)


def test_xbar_charts_frozen_limits_and_period(world, series):
    x, cid = series
    c = client(world, "c")
    body = c.get(f"/api/v1/characteristics/{cid}/chart", params={"subgroup_size": 5}).json()
    assert body["chart"] == "xbar_r" and body["subgroup_size"] == 5 and len(body["t"]) == 40
    sub = x.reshape(40, 5)
    rbar = np.ptp(sub, axis=1).mean()
    xbar, r = body["panels"]
    assert (xbar["name"], r["name"]) == ("X̄", "R")
    assert xbar["ucl"] - xbar["center"] == pytest.approx(0.577 * rbar, rel=2e-3)  # A2(5) = 0.577 (tabled)
    assert r["ucl"] == pytest.approx(2.114 * rbar, rel=1e-3)  # D4(5) = 2.114
    assert body["t"][1] - body["t"][0] == 5 * 60_000
    s = c.get(f"/api/v1/characteristics/{cid}/chart", params={"chart": "xbar_s", "subgroup_size": 4}).json()
    assert s["panels"][1]["name"] == "S" and len(s["t"]) == 50
    period = c.get(f"/api/v1/characteristics/{cid}/chart", params={
        "start": (T0 + dt.timedelta(minutes=10)).isoformat(), "end": (T0 + dt.timedelta(minutes=30)).isoformat()})
    assert len(period.json()["t"]) == 20
    latest = c.get(f"/api/v1/characteristics/{cid}/chart", params={"limit": 50}).json()
    assert latest["truncated"] and len(latest["t"]) == 50  # the latest 50 of 200
    assert latest["t"][0] == int((T0 + dt.timedelta(minutes=150)).timestamp() * 1000)
    assert latest["panels"][0]["points"][0] == pytest.approx(x[150])
    world.store.freeze_limits(world.admin, cid, mu=10.0, sigma=0.01, n=100, method="test")
    frozen = c.get(f"/api/v1/characteristics/{cid}/chart").json()
    assert frozen["limits_source"] == "frozen v1"
    assert frozen["panels"][0]["center"] == 10.0 and frozen["panels"][0]["ucl"] == pytest.approx(10.03)
    err = assert_error_shape(c.get(f"/api/v1/characteristics/{cid}/chart", params={"chart": "imr",
                                                                                  "subgroup_size": 5}),
                             422, "invalid_input")
    assert err["details"]["field"] == "subgroup_size"
    err = assert_error_shape(c.get(f"/api/v1/characteristics/{cid}/chart", params={"chart": "pareto"}),
                             422, "invalid_input")
    assert err["details"]["field"] == "chart"
    assert_error_shape(c.get(f"/api/v1/characteristics/{cid}/chart", params={"start": "2026-01-01T00:00:00"}),
                       422, "invalid_input")


def test_chart_of_a_characteristic_without_values(world):
    cid = world.store.find_characteristic(world.admin, "C", "ASSY", "RUNOUT").id
    c = client(world, "c")
    body = c.get(f"/api/v1/characteristics/{cid}/chart", params={"end": "2000-01-01T00:00:00Z"}).json()
    assert body["t"] == [] and body["panels"][0]["points"] == [] and body["panels"][0]["center"] is None
    assert body["capability"]["n"] == 0 and body["capability"]["cpk"] is None


def test_enterprise_dashboard(world, series):
    _, cid = series
    body = client(world, "c").get("/api/v1/dashboard/enterprise").json()
    assert body["enterprise"]["code"] == "C"
    rows = {r["code"]: r for r in body["characteristics"]}
    assert rows["DIA"]["n"] == 200 and rows["DIA"]["light"] in ("green", "yellow", "red")
    cpk = rows["DIA"]["cpk"]
    assert rows["DIA"]["light"] == ("green" if cpk >= 1.33 else "yellow" if cpk >= 1.0 else "red")
    assert rows["RUNOUT"]["light"] == "grey" and rows["RUNOUT"]["n"] == 3  # too few values
    assert rows["DIA"]["alarms"] == 0 and body["alarms"] == []
    due = {i["code"]: i for i in body["instruments_due"]}
    assert due["C-CMM"]["status"] == "overdue" and due["C-CMM"]["valid_until"] is None  # never calibrated
    # another tenant's enterprise: 404, never data
    assert_error_shape(client(world, "c").get("/api/v1/dashboard/enterprise",
                                              params={"enterprise_id": world.ent["X"].id}), 404, "not_found")
    x = client(world, "x").get("/api/v1/dashboard/enterprise").json()
    assert x["enterprise"]["code"] == "X" and {r["code"] for r in x["characteristics"]} == {"L"}
    expires = dt.datetime(2027, 1, 1, tzinfo=dt.UTC) - dt.datetime.now(dt.UTC)  # X-MIC: valid until 2027-01-01
    want = [] if expires > dt.timedelta(days=30) else [("X-MIC", "due" if expires.total_seconds() > 0 else "overdue")]
    assert [(i["code"], i["status"]) for i in x["instruments_due"]] == want


def test_instruments_due_and_overdue(world):
    st, r = world.store, world
    now = dt.datetime.now(dt.UTC)
    st.add_calibration(r.admin, Calibration(instrument_id=r.gauge_c.id, lab_id=r.lab.id, certificate_no="C-DUE",
                                            calibrated_at=now - dt.timedelta(days=300),
                                            valid_until=now + dt.timedelta(days=10),
                                            expanded_uncertainty=0.001, standard_ids=(r.lab_std.id,)))
    due = client(world, "c").get("/api/v1/dashboard/enterprise").json()["instruments_due"]
    assert [(i["code"], i["status"]) for i in due] == [("C-CMM", "due")]


def test_region_dashboard_roles_and_indicators(world, series):
    for user in ("c", "s", "x", "lab"):
        assert_error_shape(client(world, user).get("/api/v1/dashboard/region"), 403, "permission_denied")
        assert_error_shape(client(world, user).get(f"/api/v1/dashboard/region/enterprises/{world.ent['C'].id}"),
                           403, "permission_denied")
    reg = client(world, "reg")
    body = reg.get("/api/v1/dashboard/region").json()
    assert [c["chain"] for c in body["chains"]] == ["bearings"]
    chain = body["chains"][0]
    assert chain["enterprises"] == 3
    ents = {e["code"]: e for e in body["enterprises"]}
    assert set(ents) == {"C", "S", "X"} and ents["C"]["chain"] == "bearings"
    assert chain["characteristics"] == sum(e["characteristics"] for e in ents.values()) == 5  # DIA RUNOUT OD ID L
    assert sum(chain["cpk_classes"].values()) == chain["characteristics"]
    x_valid = dt.datetime.now(dt.UTC) < dt.datetime(2027, 1, 1, tzinfo=dt.UTC)  # X-MIC's certificate
    assert ents["X"]["calibration_compliance"] == float(x_valid) and ents["C"]["calibration_compliance"] == 0.0
    assert chain["calibration_compliance"] == 0.5 * x_valid
    assert 0 <= chain["out_of_control_rate"] <= 1 and chain["ppm_out_of_spec"] >= 0
    assert reg.get("/api/v1/dashboard/region", params={"chain": "aero"}).json()["chains"] == []
    drill = reg.get(f"/api/v1/dashboard/region/enterprises/{world.ent['C'].id}").json()
    assert drill["enterprise"]["code"] == "C"
    assert {r["code"] for r in drill["characteristics"]} == {"DIA", "RUNOUT"}
    assert "values" not in drill["characteristics"][0] and "points" not in str(drill)  # indicators only
    assert drill["indicators"]["characteristics"] == 2
    assert_error_shape(reg.get("/api/v1/dashboard/region/enterprises/999999"), 404, "not_found")


def test_region_dashboard_from_summaries(world, series):
    from jingce.engine.local import LocalEngine
    from jingce.services.region import analyse_region

    reg = client(world, "reg")
    live = reg.get("/api/v1/dashboard/region").json()
    assert live["source"] == "lake"
    analyse_region(world.store, world.admin, LocalEngine())
    body = reg.get("/api/v1/dashboard/region").json()
    assert body["source"] == "summaries"
    assert body["chains"][0]["characteristics"] == live["chains"][0]["characteristics"]
    assert body["chains"][0]["cpk_classes"] == live["chains"][0]["cpk_classes"]
    period = reg.get("/api/v1/dashboard/region", params={"start": "2026-02-01", "end": "2026-02-02"}).json()
    assert period["chains"][0]["characteristics"] == 1  # only DIA was measured that day
    err = assert_error_shape(reg.get("/api/v1/dashboard/region", params={"start": "2026-02-02", "end": "2026-02-01"}),
                             422, "invalid_input")
    assert err["details"]["field"] == "end"


def test_chain_graph(world):
    tok = world.app.state.secret
    from jingce.api.security import issue_token

    admin = client(world, None)
    admin.headers["Authorization"] = f"Bearer {issue_token(tok, world.admin.user_id, 'admin', 600)}"
    body = admin.get(f"/api/v1/instruments/{world.gauge_x.id}/chain", params={"at": "2026-06-01T00:00:00Z"}).json()
    graph = body["graph"]
    nodes = {n["id"]: n for n in graph["nodes"]}
    assert nodes[world.gauge_x.id]["level"] == 0 and nodes[world.gauge_x.id]["status"] == "ok"
    assert nodes[world.lab_std.id]["level"] == 1 and nodes[world.lab_std.id]["status"] == "missing"
    assert graph["edges"] == [{"from": world.gauge_x.id, "to": world.lab_std.id, "certificate": "X1",
                               "valid_until": "2027-01-01T00:00:00Z", "status": "ok"}]
    x = client(world, "x").get(f"/api/v1/instruments/{world.gauge_x.id}/chain")
    assert x.status_code == 200 and x.json()["graph"]["nodes"][0]["label"].startswith("X-MIC")
    assert_error_shape(client(world, "c").get(f"/api/v1/instruments/{world.gauge_x.id}/chain"), 404, "not_found")


def test_json_view_encoding_round_trips():
    import json

    from jingce.api.routes.views import JSONView

    rng = np.random.default_rng(3)
    x = rng.standard_normal(1000) * 10.0 ** rng.integers(-8, 8, 1000)
    x[[5, 17, 900]] = [np.nan, np.inf, -np.inf]
    t = np.arange(1000, dtype=np.int64) * 60_000 + 1_767_225_600_000
    fake = "\x000123456789abcdef:1\x00"  # shaped like a placeholder, with another nonce
    body = json.loads(JSONView({"x": x, "t": t, "name": "\x000:1\x00", "few": np.array([np.nan, 1.5]),
                                "fake": fake}).body)
    assert body["fake"] == fake
    assert body["x"][5] is None and body["x"][17] is None and body["x"][900] is None
    finite = np.isfinite(x)
    assert np.array_equal(np.array([v for v in body["x"] if v is not None]), x[finite])  # exact digits
    assert body["t"] == t.tolist() and body["few"] == [None, 1.5]
    assert body["name"] == "\x000:1\x00"  # a string that looks like a placeholder stays a string


def test_store_series_equals_the_sql_read(world):
    """Store.series (pyarrow, used by the chart) returns what Store.measurements (DuckDB) does,
    across files whose times interleave, with the period, the limit and invalid values."""
    st, a = world.store, world.admin
    rng = np.random.default_rng(5)
    for k, offset in enumerate((0, 30)):  # two batches, interleaved in time
        n = 50
        table = pa.table({
            "enterprise": ["C"] * n, "part_number": ["ASSY"] * n, "serial": [f"M{k}-{i}" for i in range(n)],
            "characteristic": ["MIX"] * n, "value": rng.standard_normal(n), "unit": ["mm"] * n,
            "measured_at": pa.array([T0 + dt.timedelta(seconds=offset + 60 * i) for i in range(n)],
                                    pa.timestamp("us", tz="UTC")),
            "status": ["invalid" if i == 7 else "valid" for i in range(n)],
            "position": pa.array(range(n), pa.int64())})
        st.ingest(a, table, content_hash=h(f"mix-{k}"), source_format="test")
    cid = st.find_characteristic(a, "C", "ASSY", "MIX").id
    for kw in ({}, {"limit": 33}, {"start": T0 + dt.timedelta(minutes=5), "end": T0 + dt.timedelta(minutes=20)}):
        for actor in (a, world.c):
            want = st.measurements(actor, characteristic_id=cid, valid_only=True, columns=("measured_at", "value"),
                                   **kw)
            got = st.series(actor, cid, **kw)
            assert got.num_rows == want.num_rows > 0
            assert got.column("value").to_pylist() == want.column("value").to_pylist()
            assert got.column("measured_at").to_pylist() == want.column("measured_at").to_pylist()
    from jingce.errors import NotFoundError

    with pytest.raises(NotFoundError):
        st.series(world.x, cid)
    od = st.find_characteristic(a, "S", "RING", "OD").id  # shared with C as a single product
    assert st.series(world.c, od).column("value").to_pylist() == st.measurements(
        world.c, characteristic_id=od, columns=("value",)).column("value").to_pylist() != []


def test_a_chart_served_again_follows_the_data(world, series):
    """Rendered charts are reused only while nothing they depend on changed."""
    x, cid = series
    c = client(world, "c")
    url = f"/api/v1/characteristics/{cid}/chart"
    first = c.get(url).json()
    assert c.get(url).json() == first  # reused
    more = np.full(10, 10.0)
    table = pa.table({
        "enterprise": ["C"] * 10, "part_number": ["ASSY"] * 10, "serial": [f"E{i}" for i in range(10)],
        "characteristic": ["DIA"] * 10, "value": more, "unit": ["mm"] * 10,
        "measured_at": pa.array([T0 + dt.timedelta(days=1, minutes=i) for i in range(10)], pa.timestamp("us", tz="UTC")),
        "position": pa.array(range(10), pa.int64())})
    world.store.ingest(world.admin, table, content_hash=h("more-dia"), source_format="test")
    again = c.get(url).json()
    assert len(again["t"]) == 210 and again["capability"]["n"] == 210
    assert client(world, "c").get(url, params={"limit": 5}).json()["truncated"]  # other parameters, other chart
    assert_error_shape(client(world, "x").get(url), 404, "not_found")  # never served to another tenant
