"""DCC certificates over HTTP: import (XML body) and export, with roles and tenancy."""

from __future__ import annotations

from pathlib import Path

import pytest

from jingce.formats import dcc
from tests.e2e import test_api
from tests.e2e.test_api import assert_error_shape, client
from tests.integration.test_certificates import _temperature_registry

DATA = Path(__file__).parents[1] / "data" / "dcc"
XML = {"Content-Type": "application/xml"}


@pytest.fixture
def world(tmp_path):
    w = test_api.build_world(tmp_path)
    w.kf, w.item, w.std = _temperature_registry(w)
    return w


def test_import_then_export_a_ptb_certificate(world):
    data = (DATA / "gp_temperature_typical_v1.2.xml").read_bytes()
    admin = client(world, "admin")
    r = admin.post("/api/v1/certificates", content=data, headers=XML)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["created"] and body["lab_code"] == "KF" and len(body["calibration_ids"]) == 1
    again = admin.post("/api/v1/certificates", content=data, headers=XML).json()
    assert not again["created"] and again["calibration_ids"] == body["calibration_ids"]
    cal_id = body["calibration_ids"][0]
    # the customer who owns the instrument reads its certificate back as a DCC
    c = client(world, "c")
    out = c.get(f"/api/v1/calibrations/{cal_id}/dcc")
    assert out.status_code == 200 and out.headers["content-type"].startswith("application/xml")
    cert = dcc.read(out.content, "export")
    assert cert.summary().expanded_uncertainty == 0.061 and cert.laboratory_code == "KF"
    # another tenant gets 404, exactly as for an id that does not exist
    x = client(world, "x")
    assert_error_shape(x.get(f"/api/v1/calibrations/{cal_id}/dcc"), 404, "not_found")
    assert_error_shape(x.get("/api/v1/calibrations/999999/dcc"), 404, "not_found")


def test_bad_certificates_and_roles(world):
    admin = client(world, "admin")
    bad = admin.post("/api/v1/certificates", content=b"<not-xml", headers=XML)
    err = assert_error_shape(bad, 422, "format_error")
    assert err["details"]["file"] == "request body"
    assert_error_shape(admin.post("/api/v1/certificates", content=b"", headers=XML), 422, "format_error")
    # enterprise users and the regulator do not issue certificates
    data = (DATA / "gp_temperature_typical_v1.2.xml").read_bytes()
    for user in ("c", "reg"):
        assert_error_shape(client(world, user).post("/api/v1/certificates", content=data, headers=XML), 403,
                           "permission_denied")
    assert world.store.calibrations(world.admin, world.item.id) == []
