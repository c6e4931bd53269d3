"""PTB's published DCC examples (tests/data/dcc, LGPL-3.0, see the README there) read into
DccCertificate; expected values are the decimal literals of the files, compared exactly."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from jingce.errors import FormatError
from jingce.formats import dcc

DATA = Path(__file__).parents[1] / "data" / "dcc"
HUMIDITY = "gp_humidity_v1.0.xml"
TEMPERATURE = "gp_temperature_typical_v1.2.xml"


def read(name: str, **kw) -> dcc.DccCertificate:
    return dcc.read((DATA / name).read_bytes(), name, **kw)


def test_humidity_example_3_1_2():
    c = read(HUMIDITY)
    assert c.schema_version == "3.1.2"
    assert c.unique_identifier == "Id 123456789 HtW"
    assert (c.country_code, c.languages, c.mandatory_languages) == ("DE", ("de", "en"), ("de",))
    assert (c.begin_performance, c.end_performance) == (dt.date(1957, 8, 13), dt.date(1957, 8, 14))
    assert c.recalibration_date == dt.date(1959, 10, 22) and c.conformity == "pass"
    assert dcc.text_of(c.laboratory.name) == "Kalibrierfirma GmbH" and c.laboratory.email == "info@kalibrierfirma.xx"
    assert c.laboratory.location == dcc.Location("Musterstadt", "DE", "00900", "Musterstraße", "1")
    assert [dcc.text_of(i.name) for i in c.items] == ["Display unit", "Humidity sensor"]
    assert [dcc.text_of(i.name, "de") for i in c.items] == ["Anzeigegerät", "Feuchtesensor"]
    assert c.items[1].identifications == (
        dcc.Identification("manufacturer", "Fs 135792468 Hu", (("de", "Serien Nr."), ("en", "Serial no."))),
        dcc.Identification("customer", "Be 123456789 kk",
                           (("de", "Messmittel Nr."), ("en", "Measurement equipment no."))),
        dcc.Identification("calibrationLaboratory", "Cl 123456789 By",
                           (("de", "Equipment Nr."), ("en", "Equipment no."))))
    # the standards used: the traceability edges, with their own certificates
    eq = c.equipment
    assert [dcc.text_of(e.name) for e in eq] == ["Pt 100 thermometer", "Dew point hygrometer"]
    assert [e.certificate for e in eq] == ["GP-mE-Certificate-x", "GP-mE-Certificate-y"]
    assert [e.ref_type for e in eq] == ["basic_standardUsed"] * 2
    assert eq[0].identifications[0].value == "Temperaturmesstechnik GmbH" and eq[1].identifications == ()
    ref, shown, error = c.quantities
    assert ref.ref_type == "basic_referenceValue" and ref.values == (0.201, 0.500, 0.800, 0.901, 0.801, 0.500, 0.200)
    assert shown.values == (0.197, 0.499, 0.803, 0.912, 0.813, 0.506, 0.197)
    # the hybrid's first representation (\one); the uncertainty is per point, k and p broadcast
    assert error.unit == "\\one" and error.pint_unit == "1"
    assert error.values == (-0.004, -0.001, 0.003, 0.011, 0.012, 0.006, -0.003)
    assert error.expanded_uncertainty == (0.006, 0.008, 0.010, 0.011, 0.010, 0.008, 0.006)
    assert error.coverage_factor == (2.0,) * 7 and error.coverage_probability == (0.95,) * 7
    assert error.conformity == ("pass",)


def test_humidity_summary():
    s = read(HUMIDITY).summary()
    assert s.certificate_no == "Id 123456789 HtW"
    assert s.calibrated_at == dt.datetime(1957, 8, 14, tzinfo=dt.UTC)
    assert s.valid_until == dt.datetime(1959, 10, 22, tzinfo=dt.UTC)
    assert (s.expanded_uncertainty, s.coverage_factor, s.coverage_probability, s.unit) == (0.011, 2.0, 0.95, "1")
    assert (s.error_as_found, s.error_as_left, s.result) == (0.012, None, "pass")
    assert s.source.endswith("dcc:quantity[3]/si:hybrid/si:realListXMLList[1]")


def test_temperature_example_3_1_1():
    c = read(TEMPERATURE)
    assert c.schema_version == "3.1.1"
    assert c.unique_identifier == "GP_DCC_temperature_typical_1.2"
    assert [(i.issuer, i.value) for i in c.items[0].identifications] == [
        ("manufacturer", "string-manufacturer-item"), ("customer", "string-customer-item"),
        ("calibrationLaboratory", "string-calibrationLaboratory-item")]
    (std,) = c.equipment
    assert std.ref_type == "basic_normalUsed" and std.certificate is None
    assert std.identifications == (dcc.Identification("manufacturer", "string-manufacturer-measuringEquipment-1"),)
    error = c.quantities[2]
    assert error.values == (0.072, 0.089, 0.107, -0.009, -0.084) and error.unit == "\\kelvin"
    assert error.expanded_uncertainty == (0.061,) * 5 and error.distribution == "normal"
    s = c.summary()
    assert (s.expanded_uncertainty, s.coverage_factor, s.coverage_probability, s.unit) == (0.061, 2.0, 0.95, "K")
    assert (s.error_as_found, s.result) == (0.107, "pass")
    assert s.calibrated_at == dt.datetime(1957, 8, 13, tzinfo=dt.UTC)


def test_3_1_1_example_differs_from_3_1_2_only_in_its_version():
    raw = (DATA / TEMPERATURE).read_bytes()
    with pytest.raises(FormatError) as e:
        dcc.validate(raw, TEMPERATURE)
    assert e.value.details["field"] == "dcc:digitalCalibrationCertificate" and "schemaVersion" in e.value.message
    dcc.validate(raw.replace(b'schemaVersion="3.1.1"', b'schemaVersion="3.1.2"'), TEMPERATURE)


@pytest.mark.parametrize("name", [HUMIDITY, TEMPERATURE])
def test_written_certificate_validates_and_reads_back_identically(name):
    c = read(name)
    data = dcc.write(c)
    dcc.validate(data)
    assert dcc.read(data, "w.xml") == c
