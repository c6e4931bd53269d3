"""CSV mapping profiles for CMM software table exports (fixtures and their sources:
tests/data/csv_profiles/README.md)."""

import csv
import datetime as dt
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jingce import formats
from jingce.errors import FormatError
from jingce.formats import csv as jcsv
from jingce.formats import csv_profiles as cp

DATA = Path(__file__).parents[1] / "data" / "csv_profiles"
EXPECTED = list(csv.DictReader(open(Path(__file__).parents[1] / "data" / "aqdef" / "expected_values.csv")))[:2]
RUN = {"enterprise": "E1", "time": "2025-03-10 08:00:00", "part_number": "SHAFT-100"}


@pytest.mark.parametrize("fname, profile, key_suffix", [
    ("calypso_chr.txt", "calypso", ""),
    ("pcdmis.csv", "pcdmis", None),
    ("generic.csv", "generic", ""),
    ("plant7.csv", str(DATA / "plant7.yaml"), ""),
])
def test_profiles_give_the_aqdef_fixture_values(fname, profile, key_suffix):
    r = jcsv.read((DATA / fname).read_bytes(), fname, profile=profile, defaults={**RUN, "unit": "mm"})
    rows = r.table.to_pylist()
    assert len(rows) == 2
    for got, want in zip(rows, EXPECTED, strict=True):
        key = got["characteristic"]
        assert key.split(".")[0] == want["characteristic"] if key_suffix is None else key == want["characteristic"]
        assert got["value"] == float(want["value"])
        assert got["nominal"] == float(want["nominal"])
        assert got["lower_limit"] == pytest.approx(float(want["lsl"]), abs=1e-12)
        assert got["upper_limit"] == pytest.approx(float(want["usl"]), abs=1e-12)
        assert got["unit"] == "mm" and got["part_number"] == "SHAFT-100" and got["enterprise"] == "E1"
        assert got["local_time"] == dt.datetime(2025, 3, 10, 8)
    assert r.table.column("line").to_pylist()[0] == (4 if fname == "pcdmis.csv" else 2)


def test_calypso_keeps_plan_and_type_and_is_detected():
    data = (DATA / "calypso_chr.txt").read_bytes()
    t = cp.read(data, "run_chr.txt", profile="calypso", defaults=RUN).table
    assert json.loads(t.column("attributes")[0].as_py())["symbol"] == "diameter"
    fmt = formats.detect(data, "run_chr.txt")
    assert fmt.name == "calypso-chr"
    assert fmt.read(data, "run_chr.txt", defaults=RUN).table.num_rows == 2
    assert formats.detect((DATA / "pcdmis.csv").read_bytes(), "x.csv").name == "pcdmis-csv"


def test_pcdmis_preamble_gives_part_and_serial():
    t = cp.read((DATA / "pcdmis.csv").read_bytes(), "p.csv", profile="pcdmis",
                defaults={"enterprise": "E1", "time": "2025-03-10T00:00:00Z", "unit": "mm"}).table
    assert t.column("part_number").to_pylist() == ["SHAFT-100"] * 2
    assert t.column("serial").to_pylist() == ["S001"] * 2
    assert t.column("measured_at")[0].as_py() == dt.datetime(2025, 3, 10, tzinfo=dt.UTC)


def test_user_profile_from_a_mapping_and_json(tmp_path):
    spec = {"name": "m", "delimiter": ";", "decimal": ",", "unit": "mm", "tolerances": "limits",
            "columns": {"characteristic": "Merkmal", "value": "Istwert", "lower_limit": "UT", "upper_limit": "OT"}}
    data = b"Merkmal;Istwert;UT;OT\nD1;25,003;24,98;25,02\n"
    t = cp.read(data, "m.csv", profile=spec, defaults=RUN).table
    assert t.column("lower_limit").to_pylist() == [24.98] and t.column("value").to_pylist() == [25.003]
    (tmp_path / "m.json").write_text(json.dumps(spec))
    assert cp.read(data, "m.csv", profile=str(tmp_path / "m.json"), defaults=RUN).table.num_rows == 1


@pytest.mark.parametrize("spec, match", [
    ({"columns": {"value": "x"}}, "characteristic"),
    ({"columns": {"characteristic": "k"}}, "'value'"),
    ({"columns": {"characteristic": "k", "value": "v", "colour": "c"}}, "unknown target"),
    ({"columns": {"characteristic": "k", "value": "v"}, "decimal": ";"}, "decimal"),
    ({"columns": "k"}, "columns"),
])
def test_bad_profiles(spec, match):
    with pytest.raises(FormatError, match=match):
        cp.get_profile(spec)
    with pytest.raises(FormatError, match="unknown profile"):
        cp.get_profile("mcosmos")


def test_bad_fields_are_named_and_skippable():
    data = (DATA / "generic.csv").read_bytes() + b"D2,2x,3,0.1,-0.1,mm,SHAFT-100,S002,2025-03-10 08:05:00\n" \
        + b"D3,1.0,1.0,0.1,-0.1,mm,SHAFT-100,S002,10/03/2025\n"
    with pytest.raises(FormatError) as e:
        cp.read(data, "g.csv", defaults={"enterprise": "E1"})
    assert e.value.details == {"file": "g.csv", "line": 4, "field": "actual"}
    r = cp.read(data, "g.csv", defaults={"enterprise": "E1"}, skip_bad=True)
    assert r.table.num_rows == 2
    assert [(s.details["line"], s.details["field"]) for s in r.skipped] == [(4, "actual"), (5, "time")]
    with pytest.raises(FormatError, match="no 'time'"):
        cp.read((DATA / "calypso_chr.txt").read_bytes(), "c.txt", profile="calypso", defaults={"enterprise": "E"})
    with pytest.raises(FormatError, match="no header line"):
        cp.read(b"a,b\n1,2\n", "x.csv", defaults=RUN)


@pytest.mark.fuzz
@given(st.binary(max_size=400) | st.text(alphabet="key,actual nominal upper lower tol\t;\n0123456789.,-+eE:T ",
                                         max_size=400),
       st.sampled_from(["generic", "calypso", "pcdmis"]))
def test_fuzz_profiles_only_format_errors_escape(data, profile):
    raw = data.encode() if isinstance(data, str) else data
    for payload in (raw, b"key,actual,nominal,upper tol,lower tol\n" + raw,
                    (DATA / "calypso_chr.txt").read_bytes()[:200] + raw):
        try:
            cp.read(payload, "fuzz.csv", profile=profile, defaults=RUN)
        except FormatError:
            pass
