"""Digital calibration certificates in and out of the store: traceability edges, lookups by
identification, refusals that land nothing, repeated imports, and the ``jingce cert`` commands."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from jingce.cli.cert_cmds import cert_app
from jingce.errors import FormatError, InvalidInputError, NotFoundError
from jingce.formats import dcc
from jingce.model import Calibration, Instrument, Lab
from jingce.services.certificates import export_dcc, import_dcc

DATA = Path(__file__).parents[1] / "data" / "dcc"
T = dt.datetime(2026, 1, 10, tzinfo=dt.UTC)


def _calibrate(region, **kw):
    return region.store.add_calibration(region.admin, Calibration(**({
        "instrument_id": region.gauge_c.id, "lab_id": region.lab.id, "certificate_no": "LAB-2026-001",
        "calibrated_at": T, "valid_until": T + dt.timedelta(days=365), "result": "adjusted", "error_as_found": 0.004,
        "error_as_left": -0.0005, "expanded_uncertainty": 0.0012, "coverage_factor": 2.0,
        "coverage_probability": 0.95, "unit": "mm", "standard_ids": (region.lab_std.id,)} | kw)))


def _fields(cal: Calibration) -> dict:
    return cal.model_dump(exclude={"id", "instrument_id", "lab_id", "standard_ids"})


def test_export_then_import_elsewhere_gives_the_same_calibration(region, tmp_path):
    from jingce.settings import Settings
    from jingce.store import Store

    st, a = region.store, region.admin
    _calibrate(region, calibrated_at=T - dt.timedelta(days=400), valid_until=T + dt.timedelta(days=10),
               instrument_id=region.lab_std.id, lab_id=region.nmi.id, certificate_no="NMI-1", result="pass",
               error_as_found=None, error_as_left=None, standard_ids=(region.national.id,))
    cal = _calibrate(region)
    data = export_dcc(st, a, cal.id)
    dcc.validate(data)
    cert = dcc.read(data, "c.xml")
    assert cert.equipment[0].certificate == "NMI-1"  # the standard's own certificate, for the chain
    # the same store: already imported, nothing changes
    again = import_dcc(st, a, data, "c.xml")
    assert not again.created and again.calibrations[0].id == cal.id and "already imported" in again.message()
    # another store with the same registry: the same calibration lands, against the same standard
    other = Store(Settings(data_dir=tmp_path / "other"))
    try:
        r2 = type(region)(other)
        res = import_dcc(other, r2.admin, data, "c.xml")
        assert res.created and len(res.calibrations) == 1
        got = res.calibrations[0]
        assert _fields(got) == _fields(cal)
        assert (got.instrument_id, got.lab_id, got.standard_ids) == (r2.gauge_c.id, r2.lab.id, (r2.lab_std.id,))
        assert other.calibrations(r2.admin, r2.gauge_c.id) == [got]
    finally:
        other.close()


def _temperature_registry(region):
    st, a = region.store, region.admin
    lab = st.add_lab(a, Lab(tenant_id=region.tenants["L"].id, code="KF", name="Kalibrierfirma GmbH",
                            qualification="qualified"))
    item = st.add_instrument(a, Instrument(tenant_id=region.tenants["C"].id, code="string-customer-item",
                                           name="Temperature sensor", quantity="temperature", unit="K",
                                           enterprise_id=region.ent["C"].id))
    std = st.add_instrument(a, Instrument(tenant_id=region.tenants["L"].id,
                                          code="string-manufacturer-measuringEquipment-1", name="Pt 100",
                                          kind="reference_standard", quantity="temperature", unit="K", lab_id=lab.id))
    return lab, item, std


def test_ptb_example_lands_with_its_traceability_edge(region):
    lab, item, std = _temperature_registry(region)
    data = (DATA / "gp_temperature_typical_v1.2.xml").read_bytes()
    res = import_dcc(region.store, region.admin, data, "gp.xml")
    assert res.created and res.lab.id == lab.id
    (cal,) = res.calibrations
    assert (cal.instrument_id, cal.standard_ids, cal.certificate_no) == (item.id, (std.id,),
                                                                         "GP_DCC_temperature_typical_1.2")
    assert (cal.expanded_uncertainty, cal.coverage_factor, cal.coverage_probability, cal.unit) == (0.061, 2.0, 0.95,
                                                                                                   "K")
    assert (cal.error_as_found, cal.result.value) == (0.107, "pass")
    assert (cal.calibrated_at, cal.valid_until) == (dt.datetime(1957, 8, 13, tzinfo=dt.UTC),
                                                    dt.datetime(1959, 10, 22, tzinfo=dt.UTC))
    chain = region.store.calibration_chain(region.admin, item.id, dt.datetime(1958, 1, 1, tzinfo=dt.UTC))
    assert any(link.standard_id == std.id and link.status == "ok" for link in chain.links)
    # the audit chain records it, and a second import lands nothing
    assert region.store.verify_audit().ok
    again = import_dcc(region.store, region.admin, data, "gp.xml")
    assert not again.created
    assert len(region.store.calibrations(region.admin, item.id)) == 1


def test_unknown_item_lab_or_standard_is_named_and_nothing_lands(region):
    st, a = region.store, region.admin
    data = (DATA / "gp_temperature_typical_v1.2.xml").read_bytes()
    with pytest.raises(NotFoundError) as e:
        import_dcc(st, a, data, "gp.xml")
    assert e.value.details["field"] == "dcc:name"
    assert e.value.details["element"].endswith("dcc:calibrationLaboratory/dcc:contact/dcc:name")
    lab, item, std = _temperature_registry(region)
    unknown_std = data.replace(b"string-manufacturer-measuringEquipment-1", b"not-registered")
    with pytest.raises(NotFoundError) as e:
        import_dcc(st, a, unknown_std, "gp.xml")
    assert e.value.details["element"] == ("/dcc:digitalCalibrationCertificate/dcc:measurementResults/"
                                          "dcc:measurementResult/dcc:measuringEquipments/dcc:measuringEquipment/"
                                          "dcc:identifications")
    assert e.value.details["field"] == "dcc:identification" and "not-registered" in e.value.message
    unknown_item = data.replace(b"string-customer-item", b"x").replace(b"string-manufacturer-item", b"y") \
        .replace(b"string-calibrationLaboratory-item", b"z")
    with pytest.raises(NotFoundError) as e:
        import_dcc(st, a, unknown_item, "gp.xml")
    assert e.value.details["element"].endswith("dcc:items/dcc:item/dcc:identifications")
    assert st.calibrations(a, item.id) == []


def test_multi_item_certificate_is_all_or_nothing(region):
    """PTB's hygrometer certificate (two items; its second standard carries no identification), with
    the items' and the first standard's identifications replaced by jingce codes (PTB's numbers
    contain spaces, which instrument codes cannot): refused before anything is written; without
    the unidentified standard both items land, numbered per item."""
    st, a = region.store, region.admin
    lab = st.add_lab(a, Lab(tenant_id=region.tenants["L"].id, code="KF", name="Kalibrierfirma GmbH"))
    items = [st.add_instrument(a, Instrument(tenant_id=region.tenants["C"].id, code=code, name=code, unit="1",
                                             quantity="humidity")) for code in ("HYG-DISPLAY", "HYG-SENSOR")]
    std = st.add_instrument(a, Instrument(tenant_id=region.tenants["L"].id, code="PT100-7", name="Pt 100",
                                          kind="reference_standard", lab_id=lab.id))
    cert = dcc.read((DATA / "gp_humidity_v1.0.xml").read_bytes(), "h.xml")
    mr = cert.measurement_results[0]
    items_ = tuple(dataclasses.replace(it, identifications=(
        *it.identifications, dcc.Identification("owner", code))) for it, code in zip(cert.items, ("HYG-DISPLAY",
                                                                                               "HYG-SENSOR"),
                                                                                   strict=True))
    eq0 = dataclasses.replace(mr.equipment[0], identifications=(dcc.Identification("calibrationLaboratory",
                                                                                   "PT100-7"),))
    derived = dataclasses.replace(cert, items=items_, measurement_results=(
        dataclasses.replace(mr, equipment=(eq0, mr.equipment[1])),))
    with pytest.raises(NotFoundError) as e:
        import_dcc(st, a, dcc.write(derived), "h.xml")
    assert e.value.details["element"].endswith("dcc:measuringEquipments/dcc:measuringEquipment[2]")
    assert all(st.calibrations(a, i.id) == [] for i in items)
    fixed = dataclasses.replace(derived, measurement_results=(dataclasses.replace(mr, equipment=(eq0,)),))
    res = import_dcc(st, a, dcc.write(fixed), "h.xml")
    assert [c.certificate_no for c in res.calibrations] == ["Id 123456789 HtW", "Id 123456789 HtW/2"]
    assert [c.instrument_id for c in res.calibrations] == [i.id for i in items]
    assert {c.standard_ids for c in res.calibrations} == {(std.id,)}
    assert {c.unit for c in res.calibrations} == {"1"} and res.calibrations[0].expanded_uncertainty == 0.011
    assert not import_dcc(st, a, dcc.write(fixed), "h.xml").created


def test_validity_from_the_instrument_when_the_certificate_has_none(region):
    lab, item, std = _temperature_registry(region)
    cert = dcc.read((DATA / "gp_temperature_typical_v1.2.xml").read_bytes(), "t")
    no_date = dcc.write(dataclasses.replace(cert, recalibration_date=None))
    with pytest.raises(InvalidInputError) as e:
        import_dcc(region.store, region.admin, no_date, "t.xml")
    assert e.value.details["field"] == "basic_recalibration"
    (cal,) = import_dcc(region.store, region.admin, no_date, "t.xml", validity_days=180).calibrations
    assert cal.valid_until - cal.calibrated_at == dt.timedelta(days=180)


def test_bad_file_is_a_format_error(region):
    with pytest.raises(FormatError) as e:
        import_dcc(region.store, region.admin, b"<not-xml", "x.xml")
    assert e.value.details["file"] == "x.xml"


def test_cli_import_and_export(region, tmp_path, monkeypatch):
    _temperature_registry(region)
    engine = region.store.engine
    if engine.dialect.name == "postgresql":  # the CLI must open the very schema the fixture made
        with engine.connect() as conn:
            schema = conn.exec_driver_sql("SELECT current_schema()").scalar()
        monkeypatch.setenv("JINGCE_DB_URL", engine.url.update_query_dict(
            {"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False))
    app = typer.Typer()
    app.add_typer(cert_app, name="cert")
    data_dir = str(region.store.settings.data_dir)
    runner = CliRunner()
    res = runner.invoke(app, ["cert", "import", str(DATA / "gp_temperature_typical_v1.2.xml"), "--data", data_dir])
    assert res.exit_code == 0, res.output
    text = " ".join(res.output.split())
    assert "imported certificate KF/GP_DCC_temperature_typical_1.2" in text and "U = 0.061 K" in text
    res = runner.invoke(app, ["cert", "import", str(DATA / "gp_temperature_typical_v1.2.xml"), "--data", data_dir])
    assert "already imported" in res.output
    cal_id = region.store.calibrations(region.admin, region.store.get_instrument(
        region.admin, code="string-customer-item").id)[0].id
    out = tmp_path / "exported.xml"
    res = runner.invoke(app, ["cert", "export", str(cal_id), "--out", str(out), "--data", data_dir])
    assert res.exit_code == 0, res.output
    again = dcc.read(out.read_bytes(), str(out))
    assert again.summary().expanded_uncertainty == 0.061 and again.laboratory_code == "KF"


def test_lab_by_code_then_by_name(region):
    lab, item, std = _temperature_registry(region)
    cert = dcc.read((DATA / "gp_temperature_typical_v1.2.xml").read_bytes(), "t")
    # a code the registry does not know falls back to the name; neither known: the code is named
    other_code = dcc.write(dataclasses.replace(cert, laboratory_code="DAkkS-K-99999"))
    assert import_dcc(region.store, region.admin, other_code, "t.xml").lab.id == lab.id
    nobody = dcc.write(dataclasses.replace(cert, laboratory_code="DAkkS-K-99999", unique_identifier="N-2",
                                           laboratory=dcc.Contact(name=((None, "Unknown GmbH"),))))
    with pytest.raises(NotFoundError) as e:
        import_dcc(region.store, region.admin, nobody, "n.xml")
    assert e.value.details["field"] == "dcc:calibrationLaboratoryCode"
