"""QIF through the ingest service: the same measurements via QIF and via the jingce CSV layout land as
identical measurements; a published sample lands with its devices mapped to registered instruments."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pytest

from jingce.errors import FormatError
from jingce.formats import csv as jcsv
from jingce.formats import qif
from jingce.model.batch import conform_input
from jingce.services.ingest import ingest_bytes
from jingce.settings import Settings
from jingce.store import Store

DATA = Path(__file__).parents[1] / "data" / "qif3"
T0 = dt.datetime(2026, 3, 2, 6, 30, tzinfo=dt.UTC)
COMPARED = ("measured_at", "zone", "value", "nominal", "lower_limit", "upper_limit", "unit", "status", "stage",
            "part_number", "serial", "operator", "machine", "instrument_id", "characteristic", "enterprise_id",
            "product_id", "site_id", "position", "attributes")


def measurements() -> pa.Table:
    rows = []
    specs = [("OD", 52.0, 51.97, 52.03, "mm", "diameter", "C-CMM"), ("ID", 25.0, 24.99, 25.01, "mm", "diameter", None),
             ("RUN", None, None, 0.02, "mm", "runout", "C-CMM"), ("ANG", 45.0, 44.5, 45.5, "degree", "angle", None)]
    for s in range(5):
        for k, (ch, nom, lo, hi, unit, kind, inst) in enumerate(specs):
            rows.append(dict(enterprise="S", site="P1", part_number="RING", serial=f"R{s:03d}", characteristic=ch,
                             value=round((nom or 0.005) + 0.001 * ((s * 7 + k) % 5 - 2), 6), unit=unit,
                             measured_at=T0 + dt.timedelta(minutes=3 * s, seconds=k), stage="final",
                             operator="wang" if s % 2 else "li", machine="M3", instrument=inst, nominal=nom,
                             lower_limit=lo, upper_limit=hi, kind=kind, characteristic_name=f"{ch} of the ring",
                             position=len(rows)))
    return conform_input(pa.Table.from_pylist(rows))


def _landed(store: Store, actor) -> list[dict]:
    rows = store.measurements(actor, columns=COMPARED).to_pylist()
    return sorted(rows, key=lambda r: (r["serial"], r["characteristic"]))


def test_same_measurements_via_qif_and_csv_land_identically(tmp_path, region):
    t = measurements()
    csv_bytes = jcsv.write(t)
    qif_bytes = qif.write(t)
    qif.validate(qif_bytes)
    via_csv = ingest_bytes(region.store, region.admin, csv_bytes, "ring.csv", format="csv")
    assert via_csv.result.rows == t.num_rows
    other = Store(Settings(data_dir=tmp_path / "qif-store"))
    try:
        r2 = type(region)(other)
        via_qif = ingest_bytes(other, r2.admin, qif_bytes, "ring.qif")  # detected
        assert via_qif.format == "qif" and via_qif.result.rows == t.num_rows
        a, b = _landed(region.store, region.admin), _landed(other, r2.admin)
        assert len(a) == t.num_rows and a == b
        ca = {c.key: c for c in region.store.list_characteristics(region.admin, product_id=a[0]["product_id"])}
        cb = {c.key: c for c in other.list_characteristics(r2.admin, product_id=b[0]["product_id"])}
        fields = ("unit", "nominal", "lower_limit", "upper_limit", "kind", "name")
        assert {k: tuple(getattr(c, f) for f in fields) for k, c in ca.items()} == \
            {k: tuple(getattr(c, f) for f in fields) for k, c in cb.items()}
        # a repeat of the same file lands nothing
        assert not ingest_bytes(other, r2.admin, qif_bytes, "ring.qif").result.created
    finally:
        other.close()


def test_published_sample_lands_with_mapped_devices(region):
    data = (DATA / "QIF_Results_Sample.QIF").read_bytes()
    res = ingest_bytes(region.store, region.admin, data, "QIF_Results_Sample.QIF", format="qif",
                       defaults={"enterprise": "S"}, instruments={"CMM": "C-CMM", "GAGE PINS": None,
                                                                  "CALIPERS": None})
    assert res.result.rows == 13
    landed = region.store.measurements(region.admin, columns=("part_number", "instrument_id", "measured_at",
                                                              "zone")).to_pylist()
    assert {r["part_number"] for r in landed} == {"QM_X_123456"}
    assert {r["instrument_id"] for r in landed} == {region.gauge_c.id, None}
    # 2015-10-23T05:36:11 without offset: wall-clock time at S's site (Europe/Berlin, CEST then)
    assert {r["measured_at"] for r in landed} == {dt.datetime(2015, 10, 23, 3, 36, 11, tzinfo=dt.UTC)}
    assert {r["zone"] for r in landed} == {"Europe/Berlin"}


def test_unregistered_device_is_refused_whole(region):
    data = (DATA / "QIF_Results_Sample.QIF").read_bytes()
    with pytest.raises(FormatError) as e:
        ingest_bytes(region.store, region.admin, data, "s.qif", format="qif", defaults={"enterprise": "S"})
    assert e.value.details["field"] == "instrument" and e.value.details["file"] == "s.qif"
    assert region.store.measurements(region.admin, columns=("value",)).num_rows == 0


def test_exported_qif_lands_as_the_same_measurements_elsewhere(tmp_path, region):
    """``jingce export --format qif`` (the export service) then ingest into another store."""
    from jingce.services.export import export_bytes

    t = measurements()
    ingest_bytes(region.store, region.admin, jcsv.write(t), "ring.csv", format="csv")
    data = export_bytes(region.store, region.admin, "qif", enterprise_id=region.ent["S"].id)
    qif.validate(data)
    other = Store(Settings(data_dir=tmp_path / "copy"))
    try:
        r2 = type(region)(other)
        assert ingest_bytes(other, r2.admin, data, "export.qif").result.rows == t.num_rows
        keep = [c for c in COMPARED if c != "position"]
        a = [{k: r[k] for k in keep} for r in _landed(region.store, region.admin)]
        b = [{k: r[k] for k in keep} for r in _landed(other, r2.admin)]
        assert a == b
    finally:
        other.close()
