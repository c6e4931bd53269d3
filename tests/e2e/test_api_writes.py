"""Registry writes over HTTP: role checks, tenancy (another tenant's ids give 404 and change
nothing), bounded request models and the pinned error shape naming the field."""

from __future__ import annotations

import pytest

from tests.e2e import test_api
from tests.e2e.test_api import assert_error_shape, client

world = test_api.world  # the fixture


def admin_client(w):
    from jingce.api.security import issue_token

    c = client(w, None)
    c.headers["Authorization"] = f"Bearer {issue_token(w.app.state.secret, w.admin.user_id, 'admin', 600)}"
    return c


def test_enterprise_admin_builds_its_registry(world):
    c = client(world, "c")
    cid = world.ent["C"].id
    site = c.post(f"/api/v1/enterprises/{cid}/sites", json={"code": "P2", "name": "second plant",
                                                            "timezone": "Asia/Harbin"})
    assert site.status_code == 201 and site.json()["enterprise_id"] == cid
    assert {s["code"] for s in c.get(f"/api/v1/enterprises/{cid}/sites").json()} == {"P1", "P2"}
    prod = c.post("/api/v1/products", json={"enterprise_id": cid, "part_number": "HUB", "name": "wheel hub"})
    assert prod.status_code == 201
    pid = prod.json()["id"]
    ch = c.post("/api/v1/characteristics", json={"product_id": pid, "key": "BORE", "nominal": 50.0,
                                                 "lower_limit": 49.99, "upper_limit": 50.01, "kind": "diameter"})
    assert ch.status_code == 201 and ch.json()["kind"] == "diameter"
    plan = c.post(f"/api/v1/products/{pid}/plans", json={"name": "final", "items": [
        {"characteristic_id": ch.json()["id"], "stage": "final", "sample_size": 5, "frequency": "1/shift"}]})
    assert plan.status_code == 201 and plan.json()["items"][0]["stage"] == "final"
    assert [p["name"] for p in c.get(f"/api/v1/products/{pid}/plans").json()] == ["final"]
    assert c.post("/api/v1/parts", json={"product_id": pid, "serial": "H1"}).status_code == 201
    assert_error_shape(c.post("/api/v1/parts", json={"product_id": pid, "serial": "H1"}), 409, "conflict")
    bom = c.post(f"/api/v1/products/{pid}/bom", json={"child_product_id": world.ring.id, "quantity": 2})
    assert bom.status_code == 201 and bom.json()["parent_product_id"] == pid
    # as-built: the supplier's ring R3 (shared with C) goes into hub H1
    link = {"assembly_product_id": pid, "assembly_serial": "H1", "component_product_id": world.ring.id,
            "component_serial": "R3", "position": "inner"}
    first = c.post("/api/v1/assemblies", json=link)
    assert first.status_code == 201 and first.json()["created"] is True
    assert c.post("/api/v1/assemblies", json=link).json()["created"] is False  # idempotent
    lineage = c.get("/api/v1/parts/H1/lineage").json()
    assert [n["serial"] for n in lineage["nodes"]] == ["H1", "R3"]
    err = assert_error_shape(c.post("/api/v1/assemblies", json=link | {"component_serial": "R99"}), 404,
                             "not_found")
    assert err["details"]["field"] == "component_serial"
    inst = c.post("/api/v1/instruments", json={"code": "C-BORE", "name": "bore gauge", "enterprise_id": cid,
                                               "mpe": 0.002})
    assert inst.status_code == 201 and inst.json()["tenant_id"] == world.tenants["C"].id


def test_roles(world):
    cid = world.ent["C"].id
    # enterprise users ingest measurements but do not change the registry; labs and the regulator neither
    for user in ("s", "lab", "reg"):
        u = client(world, user)
        assert_error_shape(u.post("/api/v1/products", json={"enterprise_id": cid, "part_number": "N",
                                                            "name": "n"}), 403, "permission_denied")
        assert_error_shape(u.post(f"/api/v1/enterprises/{cid}/sites", json={"code": "Q", "name": "q"}), 403,
                           "permission_denied")
    assert_error_shape(client(world, "c").post("/api/v1/enterprises", json={
        "tenant_id": world.tenants["C"].id, "code": "C2", "name": "n"}), 403, "permission_denied")
    made = admin_client(world).post("/api/v1/enterprises", json={"tenant_id": world.tenants["C"].id, "code": "C2",
                                                                 "name": "C second", "industry_chain": "bearings"})
    assert made.status_code == 201
    # only labs register standards; only labs record calibrations
    assert_error_shape(client(world, "c").post("/api/v1/instruments", json={
        "code": "C-STD", "name": "s", "kind": "national_standard"}), 403, "permission_denied")
    assert_error_shape(client(world, "c").post("/api/v1/calibrations", json={
        "instrument_id": world.gauge_c.id, "lab_id": world.lab.id, "certificate_no": "FAKE",
        "calibrated_at": "2026-01-01T00:00:00Z", "valid_until": "2027-01-01T00:00:00Z",
        "expanded_uncertainty": 0.001}), 403, "permission_denied")
    lab = client(world, "lab")
    cal = lab.post("/api/v1/calibrations", json={
        "instrument_id": world.gauge_c.id, "lab_id": world.lab.id, "certificate_no": "L-1",
        "calibrated_at": "2026-01-01T00:00:00Z", "valid_until": "2027-06-01T00:00:00Z",
        "expanded_uncertainty": 0.001, "standard_ids": [world.lab_std.id]})
    assert cal.status_code == 201 and cal.json()["standard_ids"] == [world.lab_std.id]


def test_lab_scope(world):
    lab, reg = client(world, "lab"), client(world, "reg")
    angle = {"quantity": "angle", "range_min": 0, "range_max": 360, "unit": "deg", "cmc_absolute": 0.001}
    err = assert_error_shape(lab.post(f"/api/v1/labs/{world.lab.id}/scope", json=angle), 403, "permission_denied")
    assert "regulator" in err["message"]  # a qualified lab cannot widen its own scope: the regulator reviews it
    r = reg.post(f"/api/v1/labs/{world.lab.id}/scope", json=angle)
    assert r.status_code == 201 and [s["quantity"] for s in r.json()["scope"]] == ["length", "angle"]
    assert len(reg.post(f"/api/v1/labs/{world.lab.id}/scope", json=angle).json()["scope"]) == 2  # kept once
    mass = {"quantity": "mass", "range_min": 0, "range_max": 1, "unit": "kg", "cmc_absolute": 1e-6}
    assert_error_shape(lab.post(f"/api/v1/labs/{world.nmi.id}/scope", json=mass), 403,
                       "permission_denied")  # another lab's scope
    assert_error_shape(client(world, "c").post(f"/api/v1/labs/{world.lab.id}/scope", json=mass), 403,
                       "permission_denied")
    err = assert_error_shape(reg.post(f"/api/v1/labs/{world.lab.id}/scope", json=mass | {"range_min": 2}), 422,
                             "invalid_input")
    assert err["details"]["field"] == "range_min"
    assert len(client(world, "reg").get(f"/api/v1/labs/{world.lab.id}").json()["scope"]) == 2


def test_an_applying_lab_writes_its_own_scope(world):
    """While its application is under review (``applied``) a lab completes its scope itself."""
    from jingce.model import Lab

    lab_tenant = world.store.get_lab(world.admin, world.lab.id).tenant_id
    applying = world.store.add_lab(world.admin, Lab(tenant_id=lab_tenant, code="APPLYING", name="applying lab"))
    r = client(world, "lab").post(f"/api/v1/labs/{applying.id}/scope", json={
        "quantity": "angle", "range_min": 0, "range_max": 360, "unit": "deg", "cmc_absolute": 0.001})
    assert r.status_code == 201, r.text


def _counts(w) -> tuple:
    st, a = w.store, w.admin
    return (len(st.list_products(a, w.ent["X"].id)), len(st.list_characteristics(a)),
            len(st.list_sites(a, w.ent["X"].id)), len(st.list_instruments(a)), len(st.bom(a, w.other.id)))


def test_other_tenants_ids_give_404_and_change_nothing(world):
    """Every write naming another tenant's id is answered exactly as if the id did not exist."""
    import re

    c = client(world, "c")
    xid, other, missing = world.ent["X"].id, world.other.id, 2_147_483_000
    before = _counts(world)
    attempts = [
        ("/api/v1/enterprises/{e}/sites", {"code": "Z", "name": "z"}, xid),
        ("/api/v1/products", {"enterprise_id": "{e}", "part_number": "Z", "name": "z"}, xid),
        ("/api/v1/characteristics", {"product_id": "{p}", "key": "Z"}, other),
        ("/api/v1/parts", {"product_id": "{p}", "serial": "Z1"}, other),
        ("/api/v1/products/{p}/plans", {"name": "z"}, other),
        ("/api/v1/products/{p}/bom", {"child_product_id": world.assy.id}, other),
        (f"/api/v1/products/{world.assy.id}/bom", {"child_product_id": "{p}"}, other),
        ("/api/v1/assemblies", {"assembly_product_id": "{p}", "assembly_serial": "X1",
                                "component_product_id": world.assy.id, "component_serial": "A1"}, other),
        ("/api/v1/assemblies", {"assembly_product_id": world.assy.id, "assembly_serial": "A1",
                                "component_product_id": "{p}", "component_serial": "X1"}, other),
        ("/api/v1/instruments", {"code": "Z-1", "name": "z", "enterprise_id": "{e}"}, xid),
    ]

    def send(url, body, ident):
        u = url.replace("{e}", str(ident)).replace("{p}", str(ident))
        b = {k: ident if v in ("{e}", "{p}") else v for k, v in body.items()}
        err = assert_error_shape(c.post(u, json=b), 404, "not_found")
        return err["details"]["field"], re.sub(r"\d+", "N", err["message"])

    for url, body, ident in attempts:
        assert send(url, body, ident) == send(url, body, missing), url
    assert _counts(world) == before


@pytest.mark.parametrize(("body", "field"), [
    ({"product_id": 0, "key": "K"}, "product_id"),  # ids start at 1
    ({"product_id": 2**40, "key": "K"}, "product_id"),  # beyond the id range
    ({"product_id": 1, "key": "K" * 129}, "key"),
    ({"product_id": 1, "key": "a/b"}, "key"),
    ({"product_id": 1, "key": "K", "nominal": "ten"}, "nominal"),
    ({"product_id": 1, "key": "K", "colour": "red"}, "colour"),
    ({"product_id": 1, "key": "K", "kind": "smell"}, "kind"),
    ({"product_id": 1, "key": "K", "lower_limit": 2, "upper_limit": 1}, "lower_limit"),
    ({"product_id": 1, "key": "K", "unit": "parsec-per-fortnight-x"}, "unit"),
    ({"product_id": 1, "key": "K", "unit": "m*("}, "unit"),  # pint raises a tokenize error here
    ({"key": "K"}, "product_id"),
])
def test_bad_characteristic_bodies(world, body, field):
    n = len(world.store.list_characteristics(world.admin))
    err = assert_error_shape(client(world, "c").post("/api/v1/characteristics", json=body), 422, "invalid_input")
    assert err["details"]["field"] == field
    assert len(world.store.list_characteristics(world.admin)) == n


def test_malformed_and_non_finite_input(world):
    c = client(world, "c")
    for raw in (b"{", b"[]", b"null", b'{"product_id": 1, "key": "K", "nominal": NaN}'):
        r = c.post("/api/v1/characteristics", content=raw, headers={"content-type": "application/json"})
        assert_error_shape(r, 422, "invalid_input")
    batch = {"measurements": [{"enterprise": "C", "part_number": "ASSY", "characteristic": "BORE", "value": 1.0,
                               "time": "2026-04-01T08:00:00+08:00"}] * 3}
    text = test_api.json.dumps(batch).replace('"value": 1.0', '"value": NaN', 1)
    err = assert_error_shape(c.post("/api/v1/measurements", content=text), 422, "format_error")
    assert err["details"]["field"] == "measurements.0.value"
    assert_error_shape(c.get("/api/v1/products/99999999999"), 422, "invalid_input")
    assert_error_shape(c.get("/api/v1/products/2147483647"), 404, "not_found")


def test_batch_row_rules_match_the_documented_model(world):
    """The batch is validated as a typed dict (fast); it must have the documented model's fields
    and accept and refuse the same values."""
    from jingce.api.routes import measurements as m

    assert set(m._Row.__annotations__) == set(m.MeasurementIn.model_fields)
    spec = world.app.openapi()["paths"]["/api/v1/measurements"]["post"]["requestBody"]["content"]["application/json"]
    assert set(spec["schema"]["properties"]["measurements"]["items"]["properties"]) == set(m.MeasurementIn.model_fields)
    good = {"enterprise": "C", "part_number": "P", "characteristic": "K", "value": 1.0, "time": "2026-01-01T00:00:00Z"}
    cases = [good, good | {"value": "1.5"}, good | {"unit": "m*("}, good | {"serial": "s" * 129}, good | {"x": 1},
             good | {"time": "yesterday"}, {k: v for k, v in good.items() if k != "value"}, good | {"site": None},
             good | {"enterprise": ""}, good | {"nominal": 1e400},
             *({kk: v for kk, v in good.items() if kk != k} for k in good)]  # each required field missing
    for row in cases:
        try:
            m.MeasurementIn.model_validate(row)
            model_ok = True
        except ValueError:
            model_ok = False
        try:
            m._BATCH.validate_python({"measurements": [row]})
            fast_ok = True
        except ValueError:
            fast_ok = False
        assert model_ok == fast_ok, row


def test_fast_and_strict_batch_parsers_agree():
    """Arrow's JSON reader parses plain batches; pydantic judges the rest. On input both accept
    they build the same table; anything unusual goes to the strict parser."""
    import json

    import numpy as np

    from jingce.api.routes import measurements as m

    rng = np.random.default_rng(11)
    rows = []
    for i in range(300):
        row = {"enterprise": "C", "part_number": "ASSY", "characteristic": f"K{i % 7}",
               "value": float(rng.standard_normal() * 10.0 ** rng.integers(-6, 6)),
               "time": ["2026-04-01T08:00:00+08:00", "2026-04-01T00:00:00.123456Z",
                        "2026-04-01T00:00:00-05:30"][i % 3]}
        if i % 2:
            row |= {"serial": f"序列-{i}", "unit": ["mm", "µm", "N·m"][i % 3], "nominal": 1.0, "stage": "final"}
        rows.append(row)
    raw = json.dumps({"measurements": rows}, ensure_ascii=bool(rng.integers(2))).encode()
    fast = m._fast_table(raw)
    assert fast is not None and fast.equals(m._strict_table(raw))
    unusual = [rows[:1] and {"measurements": [rows[0] | {"time": "2026-04-01T08:00:00"}]},  # local time
               {"measurements": [rows[0] | {"value": "1.5"}]}, {"measurements": [rows[0] | {"unit": "m*("}]},
               {"measurements": [rows[0] | {"serial": "x" * 129}]}, {"measurements": []},
               {"measurements": [rows[0] | {"enterprise": ""}]}, {"measurements": [rows[0] | {"x": 1}]},
               {"measurements": [rows[0]], "more": 1}, {"measurements": [None]}, {"measurements": None},
               {"measurements": [{k: v for k, v in rows[0].items() if k != "value"}]}]
    for body in unusual:
        assert m._fast_table(json.dumps(body).encode()) is None, body
    assert m._fast_table(b'{"measurements": [{"enterprise": "C", "enterprise": "D"}]}') is None
    assert m._fast_table(raw + raw) is None  # two documents
    one = json.dumps({"measurements": [rows[0] | {"value": 12345.0}]}).encode()
    assert m._fast_table(one) is not None and m._fast_table(one.replace(b"12345.0", b"1e400")) is None  # inf


def test_fast_parser_on_odd_documents():
    """Arrow's JSON reader crashed the process on a document starting with null; such input never
    reaches it, and on generated near-JSON the fast parser agrees with the strict one or declines."""
    import json

    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from jingce.api.routes import measurements as m

    for raw in (b"null", b"  null{}", b'null{"measurements": []}', b"\tnull\n", b"[null]", b"1", b""):
        assert m._fast_table(raw) is None
    one = json.dumps({"measurements": [good := {"enterprise": "C", "part_number": "P", "characteristic": "K",
                                                "value": 1.0, "time": "2026-01-01T00:00:00Z"}]}).encode()
    assert m._fast_table(one) is not None
    assert m._fast_table(one.replace(b'"K"', b'"\x80K"')) is None  # invalid UTF-8: the strict parser refuses it
    with_unit = json.dumps({"measurements": [good | {"unit": "m*("}]}).encode()
    assert m._fast_table(with_unit) is None  # a bad unit: left to the strict parser, which names the row
    scalars = st.none() | st.booleans() | st.integers(-10**20, 10**20) | st.floats(allow_nan=False) | st.text(max_size=9)
    keys = st.sampled_from([*m.MeasurementIn.model_fields, "x"])
    rows = st.builds(lambda d: good | d, st.dictionaries(keys, scalars, max_size=3)) | scalars

    @settings(max_examples=300, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(st.lists(rows, max_size=4), st.lists(st.tuples(st.integers(0, 200), st.binary(max_size=3)), max_size=2))
    def agree(elems, edits):
        raw = json.dumps({"measurements": elems}).encode()
        for pos, junk in edits:
            raw = raw[:pos] + junk + raw[pos:]
        fast = m._fast_table(raw)
        if fast is not None:
            assert fast.equals(m._strict_table(raw))

    agree()
