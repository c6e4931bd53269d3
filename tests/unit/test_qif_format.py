"""QIF 3 writer and reader: schema validity of everything written, round trips, error locations,
skip_bad, statistics from the kernels, hardened parsing and offline schema validation."""

from __future__ import annotations

import datetime as dt
import json
import socket
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from lxml import etree

from jingce.errors import FormatError
from jingce.formats import _xml, qif
from jingce.model.batch import conform_input

DATA = Path(__file__).parents[1] / "data" / "qif3"
T0 = dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.UTC)
BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<QIFDocument xmlns="http://qifstandards.org/xsd/qif3">&lol9;</QIFDocument>"""


def table(n_serials=3, **overrides) -> pa.Table:
    """Measurements of six characteristics covering the written types (diameter, zone, angle,
    temperature, profile, a second linear unit), with the optional fields set on some rows."""
    rows = []
    specs = [("D1", 10.0, 9.9, 10.1, "mm", "diameter"), ("POS", None, None, 0.05, "mm", "position"),
             ("ANG", 30.0, 29.5, 30.5, "degree", "angle"), ("T", None, None, None, "degC", None),
             ("PROF", None, -0.1, 0.2, "mm", "profile"), ("L2", 5.0, None, 5.2, "µm", "length")]
    for s in range(n_serials):
        for k, (ch, nom, lo, hi, unit, kind) in enumerate(specs):
            rows.append(dict(
                enterprise="S", site="P1" if s else None, part_number="RING", serial=f"R{s}", characteristic=ch,
                value=(nom or 0.0) + 0.001 * s + 0.01 * k, unit=unit, measured_at=T0 + dt.timedelta(minutes=10 * s + k),
                stage="final", operator="Li" if k % 2 else None, instrument="C-CMM" if k < 3 else None,
                nominal=nom, lower_limit=lo, upper_limit=hi, kind=kind, characteristic_name=f"name {ch}",
                criticality="major" if k == 0 else None, status="invalid" if (s, k) == (1, 1) else None,
                attributes=json.dumps({"K0006": "B1"}) if k == 1 else None, position=len(rows)) | overrides)
    return conform_input(pa.Table.from_pylist(rows))


def rows_of(t: pa.Table) -> list[dict]:
    out = t.drop(["position", "line"]).to_pylist()
    return sorted(out, key=lambda r: (r["serial"] or "", r["characteristic"], r["value"]))


def test_written_document_validates_and_reads_back_identically():
    t = table()
    data = qif.write(t)
    qif.validate(data)  # the shipped schema, offline
    back = qif.read(data, "out.qif")
    assert back.skipped == ()
    assert rows_of(back.table) == rows_of(t)


def test_round_trip_of_local_times_zones_and_second_parts():
    t = table(1, measured_at=None, local_time=dt.datetime(2026, 3, 1, 8, 15, 30, 123456), zone="Asia/Shanghai")
    t2 = table(1, part_number="HUB", enterprise="X", site=None)
    both = pa.concat_tables([t, t2])
    back = qif.read(qif.write(both), "x.qif").table
    assert rows_of(back) == rows_of(both)


def test_read_write_read_of_a_published_sample_is_stable():
    first = qif.read((DATA / "QIF_Results_Sample.QIF").read_bytes(), "s.qif", defaults={"enterprise": "E1"}).table
    again = qif.read(qif.write(first), "w.qif").table
    assert rows_of(again) == rows_of(first)


def test_characteristic_types_written():
    root = etree.fromstring(qif.write(table(1)))
    ns = {"q": _xml.QIF_NS}
    items = {el.findtext("q:Name", namespaces=ns): etree.QName(el).localname
             for el in root.iterfind(".//q:CharacteristicItems/*", ns)}
    assert items == {"D1": "DiameterCharacteristicItem", "POS": "UserDefinedLinearCharacteristicItem",
                     "ANG": "AngleCharacteristicItem", "T": "UserDefinedTemperatureCharacteristicItem",
                     "PROF": "SurfaceProfileCharacteristicItem", "L2": "LengthCharacteristicItem"}
    # the profile zone: width 0.3 placed with 0.2 outside the material
    prof = root.find(".//q:SurfaceProfileCharacteristicDefinition", ns)
    assert (prof.findtext("q:ToleranceValue", namespaces=ns), prof.findtext("q:OuterDisposition", namespaces=ns)) \
        == ("0.3", "0.2")
    # a second linear unit is defined in OtherUnits and named on each value
    assert root.find(".//q:OtherUnits/q:LinearUnit/q:UnitName", ns).text == "µm"
    assert {v.get("linearUnit") for v in root.iterfind(".//q:LengthCharacteristicMeasurement/q:Value", ns)} == {"µm"}
    assert root.find(".//q:PrimaryUnits/q:TemperatureUnit/q:UnitConversion/q:Offset", ns).text == "273.15"


def test_writer_refuses_what_qif_cannot_hold():
    with pytest.raises(FormatError) as e:
        qif.write(table(1, unit="HRC"))
    assert e.value.details["field"] == "unit" and "position" in e.value.details
    with pytest.raises(FormatError) as e:
        qif.write(table(1, value=float("nan")))
    assert e.value.details["field"] == "value"
    with pytest.raises(FormatError) as e:
        qif.write(table(1).drop(["enterprise"]))
    assert e.value.details["field"] == "enterprise"
    assert qif.read(qif.write(table(1).drop(["enterprise"]), enterprise="Z"), "x").table.column("enterprise")[0] \
        .as_py() == "Z"


def test_decimals_are_written_without_exponents():
    t = table(1, value=1e-07)
    data = qif.write(t)
    assert b"0.0000001" in data and b"e-07" not in data
    assert qif.read(data, "x").table.column("value").to_pylist()[0] == 1e-07


# -- errors name the element path and the field ------------------------------------------------

def _sample() -> bytes:
    return (DATA / "QIF_Results_Sample.QIF").read_bytes()


def test_bad_value_is_refused_with_element_path_and_field():
    bad = _sample().replace(b"<Value>9.499476</Value>", b"<Value>9,499476</Value>", 1)
    with pytest.raises(FormatError) as e:
        qif.read(bad, "bad.qif", defaults={"enterprise": "E1"})
    d = e.value.details
    assert d["file"] == "bad.qif" and d["field"] == "Value" and d["line"] == 893
    assert d["element"] == ("/QIFDocument/Results/MeasurementResultsSet/MeasurementResults/MeasuredCharacteristics/"
                            "CharacteristicMeasurements/DiameterCharacteristicMeasurement[1]/Value")


def test_dangling_reference_is_refused_whole_unless_skip_bad():
    bad = _sample().replace(b"<CharacteristicItemId>67</CharacteristicItemId>",
                            b"<CharacteristicItemId>999</CharacteristicItemId>", 1)
    with pytest.raises(FormatError) as e:
        qif.read(bad, "bad.qif", defaults={"enterprise": "E1"})
    assert e.value.details["element"].endswith("DiameterCharacteristicMeasurement[2]")
    r = qif.read(bad, "bad.qif", defaults={"enterprise": "E1"}, skip_bad=True)
    assert r.table.num_rows == 12 and len(r.skipped) == 1
    assert r.skipped[0].details["element"].endswith("DiameterCharacteristicMeasurement[2]")
    assert 9 not in r.table.column("position").to_pylist()  # positions keep the file's numbering
    # the same document read without the schema: the reference is still checked, by the reader
    with pytest.raises(FormatError) as e:
        qif.read(bad, "bad.qif", defaults={"enterprise": "E1"}, validate=False)
    assert e.value.details["field"] == "CharacteristicItemId"
    assert len(qif.read(bad, "bad.qif", defaults={"enterprise": "E1"}, validate=False, skip_bad=True).skipped) == 1


def test_problem_outside_a_measurement_refuses_even_with_skip_bad():
    bad = _sample().replace(b"<UnitName>mm</UnitName>", b"<UnitName>furlongs per fortnight</UnitName>", 1)
    with pytest.raises(FormatError) as e:
        qif.read(bad, "bad.qif", defaults={"enterprise": "E1"}, skip_bad=True)
    assert e.value.details["field"] == "UnitName"
    assert e.value.details["element"] == "/QIFDocument/FileUnits/PrimaryUnits/LinearUnit"
    wrong = _sample().replace(b"<Factor>0.001</Factor>", b"<Factor>0.0254</Factor>", 1)
    with pytest.raises(FormatError) as e:
        qif.read(wrong, "bad.qif", defaults={"enterprise": "E1"})
    assert e.value.details["field"] == "Factor"


def test_missing_enterprise_part_number_and_results():
    with pytest.raises(FormatError) as e:
        qif.read(_sample(), "s.qif")
    assert e.value.details["field"] == "enterprise" and e.value.details["element"] == "/QIFDocument"
    no_product = qif.write(table(1))
    root = etree.fromstring(no_product)
    root.remove(root.find(f"{{{_xml.QIF_NS}}}Product"))
    for a in root.iter(f"{{{_xml.QIF_NS}}}AsmPathId"):
        a.getparent().remove(a)
    data = etree.tostring(root)
    with pytest.raises(FormatError) as e:
        qif.read(data, "p.qif")
    assert e.value.details["field"] == "part_number"
    assert qif.read(data, "p.qif", defaults={"part_number": "PN9"}).table.column("part_number")[0].as_py() == "PN9"
    results = etree.fromstring(qif.write(table(1)))
    results.remove(results.find(f"{{{_xml.QIF_NS}}}Results"))
    with pytest.raises(FormatError) as e:
        qif.read(etree.tostring(results), "r.qif", validate=False)
    assert e.value.details["field"] == "Results"


@pytest.mark.parametrize("data, field", [
    (b"", "xml"), (b"<QIFDocument", "xml"), (b"\xff\xfe\x00<", "xml"),
    (b"<dcc:digitalCalibrationCertificate xmlns:dcc='https://ptb.de/dcc'/>", "QIFDocument"),
    (b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>', "DOCTYPE"),
])
def test_not_qif(data, field):
    with pytest.raises(FormatError) as e:
        qif.read(data, "x.qif")
    assert e.value.details["field"] == field and e.value.details["file"] == "x.qif"


def test_billion_laughs_is_refused_quickly():
    import time

    start = time.perf_counter()
    with pytest.raises(FormatError):
        qif.read(BILLION_LAUGHS, "lol.qif")
    with pytest.raises(FormatError):
        _xml.parse(BILLION_LAUGHS.replace(b"&lol9;", b""), "lol.qif")  # the DTD alone is refused too
    assert time.perf_counter() - start < 5


def test_validation_is_offline(monkeypatch):
    """Compiling the schemas and validating works with every network connection refused."""
    def refuse(*args, **kwargs):
        raise OSError("network disabled in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    _xml.clear_schema_cache()
    try:
        qif.validate(_sample())
        qif.validate(qif.write(table(1)))
    finally:
        _xml.clear_schema_cache()


def test_resolver_refuses_non_local_addresses(tmp_path):
    main = tmp_path / "main.xsd"
    main.write_text('<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:x">'
                    '<xs:import namespace="urn:y" schemaLocation="http://example.com/y.xsd"/></xs:schema>')
    with pytest.raises(_xml.OfflineSchemaError, match="example.com"):
        _xml.compile_schema(main, {}, tmp_path)
    # a relative include that leaves the schema folder is refused as well
    inner = tmp_path / "inner"
    inner.mkdir()
    (tmp_path / "other.xsd").write_text('<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" '
                                        'targetNamespace="urn:y"/>')
    (inner / "main.xsd").write_text(main.read_text().replace("http://example.com/y.xsd", "../other.xsd"))
    with pytest.raises(_xml.OfflineSchemaError, match="other.xsd"):
        _xml.compile_schema(inner / "main.xsd", {}, inner)
    # ... while the same include inside the folder compiles
    assert _xml.compile_schema(inner / "main.xsd", {}, tmp_path) is not None
    # the shipped remote imports map to shipped files
    resolver = _xml.LocalResolver({"https://ptb.de/si/v2.1.0/SI_Format.xsd": _xml.SCHEMAS / "dcc" / "x"}, _xml.SCHEMAS)
    with pytest.raises(_xml.OfflineSchemaError):
        resolver.resolve("https://ptb.de/si/v2.2.0/SI_Format.xsd", None, None)
    assert resolver.refused == ["https://ptb.de/si/v2.2.0/SI_Format.xsd"]


# -- statistics ----------------------------------------------------------------------------------

def _process(n=60, seed=3) -> pa.Table:
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        rows.append(dict(enterprise="S", part_number="RING", serial=f"R{i}", characteristic="D1",
                         value=10 + rng.normal(0, 0.02), unit="mm", measured_at=T0 + dt.timedelta(minutes=i),
                         nominal=10.0, lower_limit=9.9, upper_limit=10.1, kind="diameter", position=2 * i))
        rows.append(dict(enterprise="S", part_number="RING", serial=f"R{i}", characteristic="FL",
                         value=abs(rng.normal(0.01, 0.005)), unit="mm", measured_at=T0 + dt.timedelta(minutes=i),
                         upper_limit=0.05, kind="flatness", position=2 * i + 1))
    return conform_input(pa.Table.from_pylist(rows))


def test_statistics_are_the_kernels_results():
    from jingce.kernels import spc
    from jingce.kernels.capability import capability

    t = _process()
    stats = qif.statistics_from_kernels(t, subgroup_size=5)
    x = np.array([r["value"] for r in t.to_pylist() if r["characteristic"] == "D1"])
    cap = capability(x, lsl=9.9, usl=10.1, target=10.0, subgroup_size=5)
    chart = spc.xbar_r(x.reshape(-1, 5))
    d1 = stats["D1"]
    assert (d1["Cp"], d1["Cpk"], d1["Pp"], d1["Ppk"], d1["Cpm"]) == (cap.cp, cap.cpk, cap.pp, cap.ppk, cap.cpm)
    assert (d1["UpperControlLimit"], d1["LowerControlLimit"]) == (chart.xbar.ucl[-1], chart.xbar.lcl[-1])
    assert d1["Average"] == pytest.approx(x.mean(), rel=1e-15)
    assert d1["StandardDeviation"] == pytest.approx(np.std(x, ddof=1), rel=1e-12)
    assert d1["NumberOutOfTolerance"] == 0
    # one-sided: Cpk and Ppk only (Cp, Pp, Cpm need both limits)
    assert {"Cpk", "Ppk"} <= set(stats["FL"]) and not {"Cp", "Pp", "Cpm"} & set(stats["FL"])


def test_statistics_document_validates_and_reads_back():
    t = _process()
    data = qif.write_statistics(t, subgroup_size=5)
    qif.validate(data)
    r = qif.read(data, "stats.qif")
    assert rows_of(r.table) == rows_of(t)
    expected = qif.statistics_from_kernels(t, subgroup_size=5)
    got = r.metadata["statistics"]
    for key in ("D1", "FL"):
        assert got[key].pop("status") == "PASS"
        assert got[key] == expected[key]
    root = etree.fromstring(data)
    ns = {"q": _xml.QIF_NS}
    cap = root.find(".//q:CapabilityStudyResults", ns)
    assert cap.findtext("q:NumberOfSamples", namespaces=ns) == "120"
    assert cap.findtext("q:SubgroupSize", namespaces=ns) == "5"
    ids = root.find(".//q:DiameterCharacteristicStats/q:MeasuredIds/q:Ids", ns)
    assert ids.get("n") == "60"


def test_statistics_need_measurements_and_one_part_number():
    t = _process(10)
    with pytest.raises(FormatError) as e:
        qif.write(t, statistics={"NOPE": {"Average": 1.0}})
    assert e.value.details["field"] == "statistics"
    two = pa.concat_tables([t, conform_input(t.drop(["part_number"]).append_column(
        "part_number", pa.array(["HUB"] * t.num_rows)))])
    with pytest.raises(FormatError) as e:
        qif.write_statistics(two)
    assert e.value.details["field"] == "part_number"


def test_structure_validation_leaves_out_only_the_identity_constraints():
    dangling = _sample().replace(b"<FeatureItemIds n=\"1\">\n          <Id>10</Id>",
                                 b"<FeatureItemIds n=\"1\">\n          <Id>777</Id>", 1)
    with pytest.raises(FormatError) as e:
        qif.read(dangling, "d.qif", defaults={"enterprise": "E1"})
    assert "keyref" in e.value.message
    # the reader does not follow feature references: without the keys the rows are read
    assert qif.read(dangling, "d.qif", defaults={"enterprise": "E1"}, validate="structure").table.num_rows == 13
    broken = _sample().replace(b"<Value>9.499476</Value>", b"<Value>x</Value>", 1)
    with pytest.raises(FormatError) as e:
        qif.read(broken, "b.qif", defaults={"enterprise": "E1"}, validate="structure")
    assert e.value.details["field"] == "Value"
    with pytest.raises(FormatError) as e:
        qif.read(_sample(), "s.qif", validate="sometimes")
    assert e.value.details["field"] == "validate"
