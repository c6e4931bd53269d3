"""Cross-format: the same measurements sent as AQDEF (K-field DFQ, value-line DFQ, DFD+DFX zip),
as a jingce CSV and through a CALYPSO table profile land in the store as identical rows."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import pytest

from jingce.model import Enterprise, Site, Tenant
from jingce.services.ingest import ingest_bytes
from jingce.settings import Settings
from jingce.store import Store

DATA = Path(__file__).parents[1] / "data"
COLS = ("part_number", "characteristic", "serial", "value", "measured_at", "zone", "nominal", "lower_limit",
        "upper_limit", "unit", "status")


def _store(path: Path) -> tuple[Store, object]:
    store = Store(Settings(data_dir=path))
    admin = store.bootstrap()
    tenant = store.add_tenant(admin, Tenant(code="t", name="T", kind="enterprise"))
    ent = store.add_enterprise(admin, Enterprise(tenant_id=tenant.id, code="E1", name="E1 Ltd"))
    store.add_site(admin, Site(enterprise_id=ent.id, code="P1", name="plant", timezone="Asia/Shanghai"))
    return store, admin


def _rows(store, admin, keys=("D1", "L1")) -> list[dict]:
    out = []
    for key in keys:
        ch = store.find_characteristic(admin, "E1", "SHAFT-100", key)
        t = store.values(admin, ch.id)
        names = [c for c in COLS if c in t.column_names]
        out += [{"characteristic": key, **r} for r in t.select([c for c in names if c != "characteristic"]).to_pylist()]
    return sorted(out, key=lambda r: (r["characteristic"], r["measured_at"]))


def _jingce_csv() -> bytes:
    exp = list(csv.DictReader(open(DATA / "aqdef" / "expected_values.csv")))
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["enterprise", "part_number", "serial", "characteristic", "value", "unit", "time", "nominal",
                "lower_limit", "upper_limit"])
    for e in exp:
        w.writerow(["E1", e["part_number"], e["serial"], e["characteristic"], e["value"], e["unit"],
                    e["local_time"].replace("T", " "), e["nominal"], e["lsl"], e["usl"]])
    return buf.getvalue().encode()


def _zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("shaft.dfd", (DATA / "aqdef" / "shaft.dfd").read_bytes())
        z.writestr("shaft.dfx", (DATA / "aqdef" / "shaft.dfx").read_bytes())
    return buf.getvalue()


@pytest.fixture
def reference(tmp_path):
    store, admin = _store(tmp_path / "csv")
    r = ingest_bytes(store, admin, _jingce_csv(), "shaft.csv", format="csv")
    assert r.result.rows == 10
    rows = _rows(store, admin)
    store.close()
    return rows


@pytest.mark.parametrize("name, data", [
    ("shaft_kfield.dfq", (DATA / "aqdef" / "shaft_kfield.dfq").read_bytes()),
    ("shaft_valueline.dfq", (DATA / "aqdef" / "shaft_valueline.dfq").read_bytes()),
    ("shaft.zip", _zip()),
])
def test_aqdef_and_csv_land_as_identical_measurements(tmp_path, reference, name, data):
    store, admin = _store(tmp_path / "aqdef")
    r = ingest_bytes(store, admin, data, name, defaults={"enterprise": "E1"})
    assert r.format == "aqdef" and r.result.rows == 10
    got = _rows(store, admin)
    assert got == reference
    assert str(got[0]["measured_at"]) == "2025-03-10 00:00:00+00:00"  # 08:00 in Asia/Shanghai
    again = ingest_bytes(store, admin, data, name, defaults={"enterprise": "E1"})
    assert again.result.created is False  # the same file lands once
    store.close()


def test_calypso_profile_lands_like_the_first_two_rows(tmp_path, reference):
    store, admin = _store(tmp_path / "cal")
    data = (DATA / "csv_profiles" / "calypso_chr.txt").read_bytes()
    r = ingest_bytes(store, admin, data, "run_chr.txt",
                     defaults={"enterprise": "E1", "time": "2025-03-10 08:00:00"})
    assert r.format == "calypso-chr" and r.result.rows == 2
    got = _rows(store, admin)
    want = [x for x in reference if x["serial"] == "S001"]
    for g, w in zip(got, want, strict=True):
        for c in ("characteristic", "value", "measured_at", "nominal", "unit"):
            assert g[c] == w[c], c
        assert g["lower_limit"] == pytest.approx(w["lower_limit"], abs=1e-12)
        assert g["upper_limit"] == pytest.approx(w["upper_limit"], abs=1e-12)
    store.close()
