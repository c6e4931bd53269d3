"""DCC writer and reader: certificates from jingce calibrations, D-SI units, summaries, error
locations, refusals, hardened parsing."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from jingce.errors import FormatError
from jingce.formats import dcc
from jingce.model import Calibration, Instrument, Lab

DATA = Path(__file__).parents[1] / "data" / "dcc"
T = dt.datetime(2026, 1, 10, tzinfo=dt.UTC)


def model(**kw):
    inst = Instrument(id=7, tenant_id=1, code="C-MIC-01", name="外径千分尺 / micrometer", unit="mm")
    lab = Lab(id=2, tenant_id=3, code="LAB05", name="Harbin Calibration Lab")
    stds = [Instrument(id=11, tenant_id=3, code="GB-SET-3", name="gauge block set", kind="reference_standard"),
            Instrument(id=12, tenant_id=3, code="TH-9", name="thermometer", kind="reference_standard", unit="degC")]
    cal = Calibration(**({"id": 5, "instrument_id": 7, "lab_id": 2, "certificate_no": "LAB05-2026-0042",
                          "calibrated_at": T, "valid_until": T + dt.timedelta(days=365),
                          "expanded_uncertainty": 0.0012, "coverage_factor": 2.0, "coverage_probability": 0.95,
                          "unit": "mm", "standard_ids": (11, 12)} | kw))
    return cal, inst, lab, stds


def test_certificate_from_calibration_round_trip():
    cal, inst, lab, stds = model(result="adjusted", error_as_found=0.004, error_as_left=-0.0005)
    cert = dcc.certificate_from_calibration(cal, inst, lab, stds, customer="C Ltd", standard_certificates={11: "NIM-1"})
    data = dcc.write(cert)
    dcc.validate(data)
    back = dcc.read(data, "c.xml")
    assert back == cert
    s = back.summary()
    assert (s.certificate_no, s.calibrated_at, s.valid_until) == ("LAB05-2026-0042", T, T + dt.timedelta(days=365))
    assert (s.result, s.error_as_found, s.error_as_left) == ("adjusted", 0.004, -0.0005)
    assert (s.expanded_uncertainty, s.coverage_factor, s.coverage_probability, s.unit) == (0.0012, 2.0, 0.95, "mm")
    assert [e.identifications[0].value for e in back.equipment] == ["GB-SET-3", "TH-9"]
    assert back.equipment[0].certificate == "NIM-1" and back.laboratory_code == "LAB05"
    assert back.items[0].identifications[0] == dcc.Identification("customer", "C-MIC-01", (("en", "jingce code"),))
    assert dcc.text_of(back.items[0].name) == "外径千分尺 / micrometer"


def test_certificate_without_errors_states_u_k_p():
    cal, inst, lab, stds = model(coverage_factor=2.3, coverage_probability=0.99, unit="µm", expanded_uncertainty=0.8)
    back = dcc.read(dcc.write(dcc.certificate_from_calibration(cal, inst, lab, [], customer="C")), "c.xml")
    s = back.summary()
    assert (s.expanded_uncertainty, s.coverage_factor, s.coverage_probability, s.unit) == (0.8, 2.3, 0.99, "µm")
    assert (s.error_as_found, s.result) == (None, "pass")
    assert back.quantities[0].unit == "\\micro\\metre"
    assert back.equipment == ()


@pytest.mark.parametrize("result, conformity", [("pass", "pass"), ("out_of_tolerance", "fail"), ("fail", "fail")])
def test_result_and_conformity(result, conformity):
    cal, inst, lab, stds = model(result=result, error_as_found=0.01)
    cert = dcc.certificate_from_calibration(cal, inst, lab, stds, customer="C")
    assert cert.conformity == conformity
    assert dcc.read(dcc.write(cert), "c").summary().result == result
    # without jingce's own statement the conformity decides
    plain = dataclasses.replace(cert, jingce_result=None)
    assert dcc.read(dcc.write(plain), "c").summary().result == ("pass" if conformity == "pass" else "out_of_tolerance")


@pytest.mark.parametrize("unit, dsi", [
    ("mm", "\\milli\\metre"), ("µm", "\\micro\\metre"), ("m", "\\metre"), ("°C", "\\degreecelsius"),
    ("K", "\\kelvin"), ("N·m", "\\metre\\newton"), ("m/s", "\\metre\\second\\tothe{-1}"), ("kg", "\\kilo\\gram"),
    ("1", "\\one"), ("%", "\\percent"), ("degree", "\\degree"), ("kPa", "\\kilo\\pascal"), ("L", "\\litre"),
])
def test_units_both_ways(unit, dsi):
    assert dcc.unit_to_dsi(unit) == dsi
    back = dcc.unit_from_dsi(dsi)
    from jingce.model.units import parse_unit

    assert parse_unit(back) == parse_unit(unit)


@pytest.mark.parametrize("text", ["\\kilogram", "\\metre\\tothe{2}", "\\per\\second", "\\kilo\\metre\\hour\\tothe{-1}"])
def test_dsi_unit_forms(text):
    from jingce.model.units import parse_unit

    expected = {"\\kilogram": "kg", "\\metre\\tothe{2}": "m ** 2", "\\per\\second": "1 / s",
                "\\kilo\\metre\\hour\\tothe{-1}": "km / h"}[text]
    assert parse_unit(dcc.unit_from_dsi(text)) == parse_unit(expected)


@pytest.mark.parametrize("text", ["", "mm", "\\milli", "\\furlong", "\\metre\\tothe{x}", "\\tothe{2}",
                                  "\\milli\\one", "\\metre junk"])
def test_bad_dsi_units(text):
    with pytest.raises(FormatError) as e:
        dcc.unit_from_dsi(text)
    assert e.value.details["field"] == "si:unit"


def test_units_dsi_cannot_write():
    with pytest.raises(FormatError) as e:
        dcc.unit_to_dsi("HRC")
    assert e.value.details["field"] == "unit"


@pytest.mark.parametrize("change, field", [
    ({"coverage_factor": 0.5}, "si:coverageFactor"),
])
def test_writer_refuses_what_dsi_cannot_hold(change, field):
    cal, inst, lab, stds = model(error_as_found=0.01, **change)
    with pytest.raises(FormatError) as e:
        dcc.write(dcc.certificate_from_calibration(cal, inst, lab, stds, customer="C"))
    assert e.value.details["field"] == field


def test_writer_refuses_non_finite_values():
    cal, inst, lab, stds = model(error_as_found=0.01)
    cert = dcc.certificate_from_calibration(cal, inst, lab, stds, customer="C")
    q = dataclasses.replace(cert.quantities[0], values=(float("inf"),))
    mr = cert.measurement_results[0]
    bad = dataclasses.replace(cert, measurement_results=(dataclasses.replace(
        mr, results=(dataclasses.replace(mr.results[0], quantities=(q,)),)),))
    with pytest.raises(FormatError) as e:
        dcc.write(bad)
    assert e.value.details["field"] == "si:value"


# -- errors name the element path and the field ------------------------------------------------

def _humidity() -> bytes:
    return (DATA / "gp_humidity_v1.0.xml").read_bytes()


def test_schema_error_names_element_and_field():
    bad = _humidity().replace(b"<si:valueXMLList>-0.004 -0.001", b"<si:valueXMLList>-0,004 -0.001", 1)
    with pytest.raises(FormatError) as e:
        dcc.read(bad, "h.xml")
    d = e.value.details
    assert d["file"] == "h.xml" and d["field"] == "si:valueXMLList" and d["line"] > 500
    assert d["element"].endswith("dcc:list/dcc:quantity[3]/si:hybrid/si:realListXMLList[1]/si:valueXMLList")
    # read without the schema, the reader finds the same field itself
    with pytest.raises(FormatError) as e:
        dcc.read(bad, "h.xml", validate=False)
    assert e.value.details["field"] == "si:valueXMLList"


def test_uncertainty_list_of_the_wrong_length():
    bad = _humidity().replace(b"0.006 0.008 0.010 0.011 0.010 0.008 0.006", b"0.006 0.008", 1)
    with pytest.raises(FormatError) as e:
        dcc.read(bad, "h.xml")
    assert e.value.details["field"] == "si:uncertaintyXMLList" and "2 entries for 7 values" in e.value.message


def test_missing_mandatory_element_in_lenient_mode():
    bad = _humidity().replace(b"<dcc:uniqueIdentifier>Id 123456789 HtW</dcc:uniqueIdentifier>", b"", 1)
    with pytest.raises(FormatError) as e:
        dcc.read(bad, "h.xml")
    # the schema names the element found where the identifier should be
    assert e.value.details["element"] == ("/dcc:digitalCalibrationCertificate/dcc:administrativeData/dcc:coreData/"
                                          "dcc:identifications")
    assert "uniqueIdentifier" in e.value.message
    with pytest.raises(FormatError) as e:
        dcc.read(bad, "h.xml", validate=False)
    assert e.value.details["field"] == "dcc:uniqueIdentifier"


@pytest.mark.parametrize("old, new, field", [
    (b'schemaVersion="3.1.2"', b'schemaVersion="2.4.0"', "schemaVersion"),
    (b"<dcc:endPerformanceDate>1957-08-14</dcc:endPerformanceDate>",
     b"<dcc:endPerformanceDate>1957-13-14</dcc:endPerformanceDate>", "dcc:endPerformanceDate"),
])
def test_version_and_dates(old, new, field):
    bad = _humidity().replace(old, new, 1)
    with pytest.raises(FormatError) as e:
        dcc.read(bad, "h.xml")
    assert e.value.details["field"] == field


def test_other_3x_versions_must_otherwise_follow_3_1_2():
    raw = (DATA / "gp_temperature_typical_v1.2.xml").read_bytes()
    assert dcc.read(raw.replace(b'schemaVersion="3.1.1"', b'schemaVersion="3.3.0"'), "t").unique_identifier
    bad = raw.replace(b"<dcc:performanceLocation>laboratory</dcc:performanceLocation>", b"", 1)
    with pytest.raises(FormatError) as e:
        dcc.read(bad, "t.xml")
    assert "performanceLocation" in e.value.message


def test_no_uncertainty_at_all():
    raw = _humidity()
    start = raw.index(b"<si:expandedUncXMLList>")
    end = raw.index(b"</si:expandedUncXMLList>") + len(b"</si:expandedUncXMLList>")
    cert = dcc.read(raw[:start] + raw[end:], "h.xml")
    with pytest.raises(FormatError) as e:
        cert.summary()
    assert e.value.details["field"] == "si:expandedUnc"


@pytest.mark.parametrize("data, field", [
    (b"", "xml"), (b"<dcc:x", "xml"), (b"<QIFDocument xmlns='http://qifstandards.org/xsd/qif3'/>",
                                         "dcc:digitalCalibrationCertificate"),
    (b'<!DOCTYPE d [<!ENTITY e "x">]><d>&e;</d>', "DOCTYPE"),
])
def test_not_a_dcc(data, field):
    with pytest.raises(FormatError) as e:
        dcc.read(data, "x.xml")
    assert e.value.details["field"] == field


def test_billion_laughs():
    entities = "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10))
    doc = (f'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY lol0 "lol">{entities}]>'
           '<dcc:digitalCalibrationCertificate xmlns:dcc="https://ptb.de/dcc">&lol9;'
           "</dcc:digitalCalibrationCertificate>").encode()
    with pytest.raises(FormatError):
        dcc.read(doc, "lol.xml")


def test_sniff():
    assert dcc.sniff(_humidity(), "h.xml")
    assert not dcc.sniff(b"<QIFDocument/>", "x")


def test_a_gum_evaluation_stated_in_a_certificate():
    """The uncertainty kernels' D-SI structure (to_dsi) goes into a certificate unchanged."""
    from jingce.kernels import uncertainty as unc

    r = unc.gum("l_s + d", {"l_s": unc.normal(50.000623, 25e-6, dof=18), "d": unc.normal(215e-6, 10e-6, dof=24)})
    (item,) = unc.to_dsi(r, "\\milli\\metre", "gauge block length")
    q = dcc.DsiQuantity.from_dsi(item, ref_type="basic_measuredValue")
    assert q.values == (float(r.y),) and q.expanded_uncertainty == (float(r.U),)
    assert q.coverage_factor == (float(r.k),) and q.name == ((None, "gauge block length"),)
    cal, inst, lab, stds = model()
    cert = dcc.certificate_from_calibration(cal, inst, lab, stds, customer="C")
    mr = cert.measurement_results[0]
    cert = dataclasses.replace(cert, measurement_results=(dataclasses.replace(
        mr, results=(*mr.results, dcc.Result(name=(("en", "Length"),), quantities=(q,)))),))
    back = dcc.read(dcc.write(cert), "g.xml")
    assert back == cert and back.quantities[-1] == q
    mc = unc.monte_carlo("l_s + d", {"l_s": unc.normal(50.0, 25e-6), "d": unc.normal(2e-4, 1e-5)}, 10_000,
                         np.random.default_rng(1))
    with pytest.raises(FormatError) as e:
        dcc.DsiQuantity.from_dsi(unc.to_dsi(mc, "\\milli\\metre")[0])
    assert e.value.details["field"] == "si:coverageInterval"
