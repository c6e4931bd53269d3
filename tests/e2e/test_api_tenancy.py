"""Tenancy on every route of the OpenAPI document (new routes are covered automatically).

Each operation is called with another tenant's ids (tenant X's enterprise, product,
characteristic, instrument, alarm, serial) in its path, query and body, as users of other
tenants (C's enterprise admin, S's enterprise user, the lab). An operation that names one of X's
ids must answer 403 or 404 with the pinned error shape and change nothing; an operation that
names none (listings, auth) must not show any of X's data. The admin gets X's data from the same
GET requests, so the ids are real. A path or body parameter this test cannot place fails the
test: map it below when adding a route.
"""

from __future__ import annotations

import datetime as dt
import re

import pyarrow as pa
import pytest

from tests.e2e import tenancy_parts, test_api
from tests.e2e.test_api import assert_error_shape, client
from tests.integration.conftest import h

X_MARKERS = ("X-MIC", "OTHER", "X Ltd", "X-ALARM-DETAIL", "X-SERIAL-X1")
"""Strings that appear only in tenant X's data."""

PUBLIC = {"GET /api/v1/labs/{lab_id}"} | tenancy_parts.union("PUBLIC")
"""Operations on public resources (the lab directory): any user may read any id."""

ALLOWED = {"POST /api/v1/measurements": {422}} | tenancy_parts.allowed()
"""Besides 403/404: a batch naming X's enterprise is refused as naming an unknown enterprise."""

UNSCOPED = {"POST /api/v1/auth/login", "POST /api/v1/auth/logout", "GET /api/v1/auth/me",
            "POST /api/v1/analyses/{name}", "GET /api/v1/analyses", "GET /api/v1/enterprises",
            "GET /api/v1/instruments", "GET /api/v1/labs", "GET /api/v1/alarms", "POST /api/v1/enterprises",
            "GET /api/v1/dashboard/enterprise", "GET /api/v1/dashboard/region", "POST /api/v1/certificates"
            } | tenancy_parts.union("UNSCOPED")
"""Operations that may be called without naming any of X's ids (they are still checked for leaks)."""


@pytest.fixture(scope="module")
def xworld(tmp_path_factory):
    w = test_api.build_world(tmp_path_factory.mktemp("tenancy"))
    st, a = w.store, w.admin
    w.char_x = st.find_characteristic(a, "X", "OTHER", "L").id
    # an alarm of X (raised with a batch of X's values), so the alarm routes have an id to try
    t0 = dt.datetime(2026, 3, 5, tzinfo=dt.UTC)
    table = pa.table({"enterprise": ["X"], "part_number": ["OTHER"], "serial": ["X-SERIAL-X1"],
                      "characteristic": ["L"], "value": [10.5], "unit": ["mm"],
                      "measured_at": pa.array([t0], pa.timestamp("us", tz="UTC")), "nominal": [10.0],
                      "lower_limit": [9.9], "upper_limit": [10.1], "position": pa.array([0], pa.int64())})
    st.ingest(a, table, content_hash=h("x-alarm"), source_format="test", alarms=[{
        "characteristic_id": w.char_x, "enterprise_id": w.ent["X"].id, "measured_at": t0, "value": 10.5,
        "kind": "spec", "rule": None, "detail": "X-ALARM-DETAIL", "serial": "X-SERIAL-X1",
        "raised_at": t0}])
    w.alarm_x = st.alarms(a, enterprise_id=w.ent["X"].id)[0].id
    w.cal_x = st.calibrations(a, w.gauge_x.id)[0].id
    w.extra_ids = {}
    for part in tenancy_parts.PARTS:
        if hasattr(part, "setup"):
            w.extra_ids.update(part.setup(w))
    return w


def x_ids(w) -> dict[str, object]:
    """Another tenant's id for each parameter name the API uses."""
    return {
        "enterprise_id": w.ent["X"].id, "product_id": w.other.id, "characteristic_id": w.char_x,
        "instrument_id": w.gauge_x.id, "alarm_id": w.alarm_x, "serial": "X-SERIAL-X1",
        "assembly_product_id": w.other.id, "component_product_id": w.other.id, "child_product_id": w.other.id,
        "parent_product_id": w.other.id, "tenant_id": w.tenants["X"].id, "lab_id": w.nmi.id,
        "standard_ids": [w.national.id], "calibration_id": w.cal_x,
    } | getattr(w, "extra_ids", {})


def _resolve(spec: dict, schema: dict) -> dict:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = spec["components"]["schemas"][name]
    return schema


def _value(spec: dict, schema: dict, name: str, ids: dict):
    """A valid value for a property (X's id for id-like names), or raise if it cannot be built."""
    if name in ids:
        return ids[name]
    schema = _resolve(spec, schema)
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            options = [o for o in schema[key] if _resolve(spec, o).get("type") != "null"]
            return _value(spec, options[0], name, ids)
    if "enum" in schema:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    kind = schema.get("type")
    if kind == "string":
        if schema.get("format") == "date-time":
            return "2026-06-01T00:00:00Z" if name in ("valid_until", "end") else "2026-01-01T00:00:00Z"
        if schema.get("format") == "date":
            return "2026-01-01"
        if name == "unit":
            return "mm"
        return "Z1"
    if kind == "integer":
        return max(1, schema.get("minimum", 1))
    if kind == "number":
        return 1.0 if name != "range_max" else 2.0
    if kind == "boolean":
        return False
    if kind == "array":
        return [_value(spec, schema.get("items", {}), name, ids)] if schema.get("minItems") else []
    if kind == "object" or "properties" in schema:
        return _body(spec, schema, ids)
    if not schema:
        return {}
    raise AssertionError(f"cannot build a value for {name!r}: {schema}")


def _body(spec: dict, schema: dict, ids: dict) -> dict:
    schema = _resolve(spec, schema)
    props = schema.get("properties", {})
    wanted = set(schema.get("required", ())) | (set(props) & set(ids))
    return {k: _value(spec, props[k], k, ids) for k in props if k in wanted}


def requests_of(app, w) -> list[tuple[str, str, str, dict, object, str]]:
    """(label, method, url, query, json body, where an X id is named: "path", "body", "query" or
    "") for every operation of the API."""
    spec = app.openapi()
    ids = x_ids(w)
    out = []
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            label = f"{method.upper()} {path}"
            url, query, names_x = path, {}, ""
            for p in op.get("parameters", []):
                name = p["name"]
                if p["in"] == "path":
                    if name in ids:
                        url = url.replace("{" + name + "}", str(ids[name]))
                        names_x = "path"
                    elif name == "name":
                        url = url.replace("{name}", "spc.imr")
                    else:
                        raise AssertionError(f"{label}: no other-tenant value for path parameter {name!r}")
                elif p["in"] == "query" and name in ids:
                    query[name] = ids[name]
                    names_x = names_x or "query"
            body = None
            content = op.get("requestBody", {}).get("content", {})
            if "application/json" in content:
                schema = content["application/json"]["schema"]
                body = _body(spec, schema, ids)
                if set(_flat_keys(body)) & set(ids):
                    names_x = "body"
            if label == "POST /api/v1/measurements":
                body = {"measurements": [{"enterprise": "X", "part_number": "OTHER", "characteristic": "L",
                                          "value": 10.0, "time": "2026-03-01T00:00:00Z"}]}
                names_x = "body"
            out.append((label, method.upper(), url, query, body, names_x))
    return out


def _flat_keys(x):
    if isinstance(x, dict):
        for k, v in x.items():
            yield k
            yield from _flat_keys(v)
    elif isinstance(x, list):
        for v in x:
            yield from _flat_keys(v)


def _state(w) -> tuple:
    st, a = w.store, w.admin
    return (st.lake_stats()["rows"], len(st.list_enterprises(a)), len(st.list_characteristics(a)),
            len(st.list_instruments(a)), len(st.alarms(a, open_only=True)), len(st.list_products(a, w.ent["X"].id)),
            len(st.bom(a, w.other.id)), len(st.list_plans(a, w.other.id)), str(st.get_lab(a, w.nmi.id).scope),
            tuple(part.state(w) for part in tenancy_parts.PARTS if hasattr(part, "state")))


def _admin(w):
    from jingce.api.security import issue_token

    c = client(w, None)
    c.headers["Authorization"] = f"Bearer {issue_token(w.app.state.secret, w.admin.user_id, 'admin', 600)}"
    return c


def test_the_request_list_covers_every_operation(xworld):
    reqs = requests_of(xworld.app, xworld)
    spec_ops = {f"{m.upper()} {p}" for p, ops in xworld.app.openapi()["paths"].items() for m in ops}
    assert {r[0] for r in reqs} == spec_ops
    for label, *_, names_x in reqs:
        assert names_x or label in UNSCOPED, f"{label} names none of X's ids: map its parameters in x_ids()"


@pytest.mark.parametrize("user", ["c", "s", "lab"])
def test_other_tenants_ids_give_403_or_404_never_data(xworld, user):
    c = client(xworld, user)
    for label, method, url, query, body, names_x in requests_of(xworld.app, xworld):
        if label == "POST /api/v1/auth/logout":
            continue  # would end this client's cookie session only; it names nobody's data
        before = _state(xworld)
        resp = c.request(method, url, params=query, json=body)
        text = resp.text
        sent = url + str(body)  # an error may echo what was sent (a serial); that is no leak
        leaked = [m for m in X_MARKERS if m in text and m not in sent]
        assert not leaked, f"{user} {label}: response shows X's data {leaked}"
        assert resp.status_code < 500, f"{user} {label}: {resp.status_code} {text[:300]}"
        if names_x == "query" and resp.status_code == 200:
            assert resp.json() == [], f"{user} {label}: a filter by X's id must find nothing"
        elif names_x and label not in PUBLIC:
            allowed = {403, 404} | ALLOWED.get(label, set())
            assert resp.status_code in allowed, f"{user} {label}: {resp.status_code} {text[:300]}"
            assert_error_shape(resp, resp.status_code, resp.json()["error"]["code"])
        if method != "GET":
            assert _state(xworld) == before, f"{user} {label} changed the store"


def test_the_admin_reads_the_same_ids(xworld):
    """The ids used above are X's real data: the admin's GETs of them succeed and show it."""
    admin = _admin(xworld)
    for label, method, url, query, _body, names_x in requests_of(xworld.app, xworld):
        if method != "GET" or not names_x:
            continue
        resp = admin.get(url, params=query)
        assert resp.status_code == 200, f"admin {label}: {resp.status_code} {resp.text[:300]}"
    assert "X-MIC" in admin.get("/api/v1/instruments").text


def test_the_regulator_sees_registry_and_aggregates_not_values(xworld):
    reg = client(xworld, "reg")
    ids = x_ids(xworld)
    assert reg.get(f"/api/v1/enterprises/{ids['enterprise_id']}").status_code == 200  # registry metadata
    values = reg.get(f"/api/v1/characteristics/{ids['characteristic_id']}/values").json()
    assert values["n"] == 0  # raw values only where shared
    chart = reg.get(f"/api/v1/characteristics/{ids['characteristic_id']}/chart").json()
    assert chart["t"] == [] and chart["capability"]["n"] == 0
    assert "X-ALARM-DETAIL" not in reg.get("/api/v1/alarms").text
    drill = reg.get(f"/api/v1/dashboard/region/enterprises/{ids['enterprise_id']}")
    assert drill.status_code == 200 and not re.search(r"X-SERIAL|X-ALARM", drill.text)
    assert drill.json()["indicators"]["characteristics"] == 1
