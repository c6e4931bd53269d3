"""Q-DAS AQDEF: the shared fixtures, error locations, bad records, encodings, catalogues, /0,
multi-part files, blocks, round trips (sources of the fixtures: tests/data/aqdef/README.md)."""

import csv
import datetime as dt
import io
import json
import zipfile
from pathlib import Path

import pyarrow as pa
import pytest

from jingce import formats
from jingce.errors import FormatError
from jingce.formats import aqdef

DATA = Path(__file__).parents[1] / "data" / "aqdef"
ENT = {"enterprise": "E1"}


def rd(data, name="t.dfq", **kw):
    kw.setdefault("defaults", ENT)
    return aqdef.read(data.encode("windows-1252") if isinstance(data, str) else data, name, **kw)


def expected():
    return list(csv.DictReader(open(DATA / "expected_values.csv", encoding="utf-8")))


def assert_expected(table):
    exp = expected()
    rows = table.to_pylist()
    assert len(rows) == len(exp)
    for got, want in zip(rows, exp, strict=True):
        assert got["part_number"] == want["part_number"]
        assert got["characteristic"] == want["characteristic"]
        assert got["nominal"] == float(want["nominal"])
        assert got["lower_limit"] == float(want["lsl"])
        assert got["upper_limit"] == float(want["usl"])
        assert got["unit"] == want["unit"]
        assert got["serial"] == want["serial"]
        assert got["local_time"] == dt.datetime.fromisoformat(want["local_time"])
        assert got["measured_at"] is None  # K0004 has no zone: the store reads it in the site's zone
        assert got["value"] == float(want["value"])  # exact: the decimal text parses to the same double
        assert got["enterprise"] == "E1"


@pytest.mark.parametrize("fname", ["shaft_kfield.dfq", "shaft_valueline.dfq"])
def test_dfq_fixtures_give_the_expected_rows(fname):
    r = aqdef.read((DATA / fname).read_bytes(), fname, defaults=ENT)
    assert_expected(r.table)
    assert r.skipped == ()
    t = r.table
    assert t.column("operator").to_pylist()[0] == "7"
    assert t.column("machine").to_pylist()[0] == "12"
    assert json.loads(t.column("attributes")[0].as_py()) == {"K0002": "0", "K0012": "3"}
    assert t.column("characteristic_name").to_pylist()[:2] == ["Bearing seat diameter", "Overall length"]
    assert t.column("position").to_pylist() == list(range(10))
    assert r.metadata["characteristics"][0]["K8500"] == "5"
    assert r.metadata["parts"][0]["K1002"] == "Drive shaft"


def test_dfd_dfx_pair_given_as_description_or_as_a_zip():
    dfd, dfx = (DATA / "shaft.dfd").read_bytes(), (DATA / "shaft.dfx").read_bytes()
    r = aqdef.read(dfx, "shaft.dfx", description=dfd, defaults=ENT)
    assert_expected(r.table)
    assert r.table.column("line").to_pylist()[:3] == [1, 1, 2]  # lines of the .dfx
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("shaft.dfd", dfd)
        z.writestr("shaft.dfx", dfx)
    zipped = buf.getvalue()
    assert_expected(aqdef.read(zipped, "shaft.zip", defaults=ENT).table)
    assert formats.detect(zipped, "shaft.zip").name == "aqdef"
    with pytest.raises(FormatError, match="needs its .dfd") as e:
        aqdef.read(dfx, "shaft.dfx", defaults=ENT)
    assert e.value.details["file"] == "shaft.dfx" and e.value.details["line"] == 1


def test_detection_by_extension_and_content():
    for fname in ("shaft_kfield.dfq", "shaft_valueline.dfq", "shaft.dfd"):
        data = (DATA / fname).read_bytes()
        assert formats.detect(data, fname).name == "aqdef"
        assert formats.detect(data, "upload.bin").name == "aqdef"


HEAD = "K0100 2\nK1001/1 P-1\nK2001/1 D1\nK2101/1 10\nK2110/1 9.9\nK2111/1 10.1\nK2142/1 mm\nK2001/2 D2\nK2142/2 mm\n"


@pytest.mark.parametrize("body, line, field", [
    ("K0001/1 10.01\nK0001/2 x.5\n", 11, "K0001/2"),
    ("K0001/1 10.01\nK0004/1 31.02.2025/08:00:00\n", 11, "K0004/1"),
    ("K0001/1 10.01\nK0004/1 10.03.2025/25:00:00\n", 11, "K0004/1"),
    ("K0001/1 10.01\nK0002/1 ok\n", 11, "K0002/1"),
    ("K0001/1 10.01\nK00x1/1 4\n", 11, "K00x1/1"),
    ("K0001/1 10.01\nK0001/1/ 4\n", 11, "K0001/1/"),
    ("K0001/1 inf\n", 10, "K0001/1"),
])
def test_a_bad_line_or_field_is_named_with_file_line_and_field(body, line, field):
    with pytest.raises(FormatError) as e:
        rd(HEAD + body)
    assert e.value.details == {"file": "t.dfq", "line": line, "field": field}


def test_a_bad_description_field_names_the_dfd():
    dfd = (DATA / "shaft.dfd").read_bytes().replace(b"K2110/2 79.950", b"K2110/2 79,95x")
    with pytest.raises(FormatError) as e:
        aqdef.read((DATA / "shaft.dfx").read_bytes(), "shaft.dfx", description=dfd, defaults=ENT)
    assert e.value.details == {"file": "shaft.dfd", "line": 19, "field": "K2110/2"}


def test_one_bad_record_refuses_the_file_unless_skipping():
    body = ("K0001/1 10.01\nK0004/1 10.03.2025/08:00:00\nK0001/2 5\n"
            "K0001/1 10.02\nK0004/1 10.03.2025/99:00:00\nK0001/2 6\n"
            "K0001/1 abc\nK0001/2 7\nK9x\n")
    with pytest.raises(FormatError):
        rd(HEAD + body)
    r = rd(HEAD + body, skip_bad=True)
    assert r.table.column("value").to_pylist() == [10.01, 5.0, 6.0, 7.0]
    assert [(s.details["line"], s.details["field"]) for s in r.skipped] == [(14, "K0004/1"), (16, "K0001/1"),
                                                                            (18, "K9x")]
    assert r.table.column("position").to_pylist() == [0, 1, 2, 3]


def test_value_lines_with_an_undescribed_characteristic_or_too_many_fields():
    good = "10.0\x140\x1410.03.2025/08:00:00"
    with pytest.raises(FormatError) as e:
        rd(HEAD + good + "\x0f" + good + "\x0f" + good + "\n")
    assert e.value.details == {"file": "t.dfq", "line": 10, "field": "K0001/3"}
    with pytest.raises(FormatError, match="at most 10") as e:
        rd(HEAD + good + "\x14" * 10 + "\n")
    r = rd(HEAD + good + "\x0f" + good + "\x0f" + good + "\n" + good + "\n", skip_bad=True)
    assert r.table.num_rows == 3 and len(r.skipped) == 1


@pytest.mark.parametrize("encoding, text", [
    ("windows-1252", "Außendurchmesser Ø"),
    ("utf-8", "Außendurchmesser Ø 外径"),
    ("utf-8-sig", "外径"),
    ("gb18030", "轴承座直径"),
])
def test_encodings_are_detected(encoding, text):
    data = (HEAD.replace("K2001/2 D2", f"K2001/2 D2\nK2002/2 {text}") + "K0001/1 1\nK0001/2 2\n").encode(encoding)
    r = aqdef.read(data, "t.dfq", defaults=ENT)
    assert r.table.column("characteristic_name").to_pylist() == [None, text]
    assert r.metadata["encoding"]["t.dfq"] == encoding


def test_named_encoding_and_a_wrong_one():
    data = (HEAD + "K0001/1 1\nK0002/1 0\nK0001/2 2\n").replace("D2", "直径").encode("gb18030")
    assert aqdef.read(data, "t.dfq", encoding="gb18030", defaults=ENT).table.column("characteristic")[1].as_py() == "直径"
    with pytest.raises(FormatError, match="cannot decode as ascii"):
        aqdef.read(data, "t.dfq", encoding="ascii", defaults=ENT)


def test_catalogues_resolve_operator_machine_gauge_nest():
    text = HEAD + (
        "K4090/1 7\nK4092/1 Li\nK4093/1 Wei\nK4092/2 Wang\n"
        "K4060/1 12\nK4062/1 M-12\nK4063/1 Grinder 12\n"
        "K4070/1 3\nK4072/1 G-3\nK4073/1 Air gauge 3\n"
        "K4252/2 Nest two\n"
        "K0001/1 10.0\nK0008/1 7\nK0010/1 12\nK0012/1 3\nK0007/1 2\n"
        "K0001/2 4.0\nK0008/2 2\nK0010/2 99\n")
    t = rd(text).table
    assert t.column("operator").to_pylist() == ["Wei Li", "Wang"]  # by key field K4090, else by entry number
    assert t.column("machine").to_pylist() == ["Grinder 12", "99"]  # unknown codes stay as they are
    assert json.loads(t.column("attributes")[0].as_py()) == {"K0007": "2", "nest": "Nest two", "K0012": "3",
                                                            "gauge": "Air gauge 3"}
    t2 = rd(text, gauge_as_instrument=True).table
    assert t2.column("instrument").to_pylist() == ["G-3", None]


def test_slash_zero_applies_to_all():
    text = ("K0100 2\nK1001 P-0\nK2142/0 mm\nK2110/0 1\nK2111/0 3\nK2001/1 A\nK2001/2 B\nK2111/2 5\n"
            "K0001/1 1.5\nK0001/2 2.5\nK0004/0 10.03.2025/08:00:00\nK0006/0 S1\n"
            "K0001/1 1.6\nK0006/1 S9\nK0001/2 2.6\nK0004/0 10.03.2025/09:00\nK0006/0 S2\n")
    t = rd(text).table
    assert t.column("unit").to_pylist() == ["mm"] * 4
    assert t.column("lower_limit").to_pylist() == [1.0] * 4
    assert t.column("upper_limit").to_pylist() == [3.0, 5.0, 3.0, 5.0]  # own fields win over /0
    assert t.column("serial").to_pylist() == ["S1", "S1", "S9", "S2"]
    assert [x.hour for x in t.column("local_time").to_pylist()] == [8, 8, 9, 9]
    assert t.column("part_number").to_pylist() == ["P-0"] * 4  # no /i: index 1


def test_multi_part_file():
    text = ("K0100 3\nK1001/1 SHAFT\nK2001/1 D1\nK2142/1 mm\nK2001/2 L1\nK2142/2 mm\n"
            "K1001/2 HUB\nK1002/2 Hub\nK2001/3 D1\nK2142/3 mm\n"
            "K0001/1 25.0\nK0001/2 80.0\nK0001/3 40.0\nK0001/3 40.1\n")
    t = rd(text).table
    assert list(zip(t.column("part_number").to_pylist(), t.column("characteristic").to_pylist(),
                    t.column("value").to_pylist(), strict=True)) == [
        ("SHAFT", "D1", 25.0), ("SHAFT", "L1", 80.0), ("HUB", "D1", 40.0), ("HUB", "D1", 40.1)]


def test_records_in_any_field_order_sparse_fields_and_explicit_numbers():
    text = HEAD + ("K0004/1 10.03.2025/08:00:00\nK0001/1 1.0\nK0005/1 101\n"
                   "K0004/1 10.03.2025/08:05:00\nK0001/1 2.0\n"
                   "K0004/1 10.03.25 08:10\nK0001/1 3.0\nK0005/1 102,103\n")
    t = rd(text).table
    assert t.column("value").to_pylist() == [1.0, 2.0, 3.0]
    assert [x.minute for x in t.column("local_time").to_pylist()] == [0, 5, 10]
    assert [json.loads(a)["K0005"] if a else None for a in t.column("attributes").to_pylist()] == [
        "101", None, "102,103"]
    t = rd(HEAD + "K0001/1/2 2.0\nK0001/1/1 1.0\nK0006/1/2 B\nK0006/1/1 A\n").table
    assert t.column("serial").to_pylist() == ["B", "A"]


def test_appended_blocks_number_their_characteristics_afresh():
    one = (DATA / "shaft_kfield.dfq").read_text("windows-1252")
    two = one.replace("SHAFT-100", "SHAFT-200")
    t = rd(one + two).table
    assert t.num_rows == 20
    assert t.column("part_number").to_pylist()[9:11] == ["SHAFT-100", "SHAFT-200"]


def test_attribute_255_marks_the_value_invalid_and_decimal_comma():
    t = rd(HEAD.replace("K2111/1 10.1", "K2111/1 10,1") + "K0001/1 10,05\nK0002/1 255\nK0001/1 10.0\n").table
    assert t.column("status").to_pylist() == ["invalid", None]
    assert t.column("value").to_pylist() == [10.05, 10.0]
    assert t.column("upper_limit").to_pylist() == [10.1, 10.1]


def test_serial_choice_and_hash_mark():
    body = "K0001/1 1\nK0006/1 #B7\nK0014/1 SN-1\nK0001/1 2\nK0006/1 B8\n"
    t = rd(HEAD + body).table
    assert t.column("serial").to_pylist() == ["SN-1", "B8"]
    assert [json.loads(a).get("K0006") if a else None for a in t.column("attributes").to_pylist()] == ["#B7", None]
    assert rd(HEAD + body, serial="K0006").table.column("serial").to_pylist() == ["B7", "B8"]
    assert rd(HEAD + body, serial="none").table.column("serial").to_pylist() == [None, None]


def test_file_level_problems():
    with pytest.raises(FormatError, match="empty"):
        rd("")
    with pytest.raises(FormatError, match="no measured values"):
        rd(HEAD)
    with pytest.raises(FormatError, match="no part number"):
        rd("K2001/1 D\nK2142/1 mm\nK0001/1 1\n")
    assert rd("K2001/1 D\nK0001/1 1\n", defaults={**ENT, "part_number": "P"}).table.num_rows == 1
    with pytest.raises(FormatError, match="NUL"):
        rd(b"K0100 1\x00\n")
    with pytest.raises(FormatError, match="bad zip"):
        rd(b"PK\x03\x04garbage", "x.zip")


def _same(a: pa.Table, b: pa.Table, cols=("part_number", "characteristic", "value", "serial", "local_time",
                                          "nominal", "lower_limit", "upper_limit", "unit", "operator", "machine",
                                          "status", "characteristic_name")):
    key = lambda r: (r["part_number"], r["characteristic"], r["local_time"], r["value"])  # noqa: E731
    ra = sorted(a.select(list(cols) + ["attributes"]).to_pylist(), key=key)
    rb = sorted(b.select(list(cols) + ["attributes"]).to_pylist(), key=key)
    for x, y in zip(ra, rb, strict=True):
        for c in cols:
            assert x[c] == y[c], (c, x, y)
        assert json.loads(x["attributes"] or "{}") == json.loads(y["attributes"] or "{}")


@pytest.mark.parametrize("form", ["kfield", "valueline"])
@pytest.mark.parametrize("fname", ["shaft_kfield.dfq", "shaft_valueline.dfq"])
def test_round_trip(fname, form):
    r = aqdef.read((DATA / fname).read_bytes(), fname, defaults=ENT)
    written = aqdef.write(r.table, form=form, characteristics=r.metadata["characteristics"])
    again = aqdef.read(written, "again.dfq", defaults=ENT)
    _same(r.table, again.table)
    assert again.metadata["characteristics"][0]["K8500"] == "5"
    assert (b"\x0f" in written) == (form == "valueline")


def test_round_trip_with_catalogues_events_multi_part_and_gb18030():
    text = ("K0100 3\nK1001/1 轴\nK2001/1 D1\nK2002/1 外径\nK2142/1 mm\nK2101/1 10\nK2110/1 9.9\nK2111/1 10.1\n"
            "K2001/2 L1\nK2142/2 mm\nK1001/2 HUB\nK2001/3 R\nK2142/3 µm\nK2111/3 20\n"
            "K4090/1 7\nK4092/1 王\nK4070/1 3\nK4073/1 气动量仪\n"
            "K0001/1 10.01\nK0002/1 0\nK0004/1 01.02.2025/23:59:59\nK0005/1 101,102\nK0006/1 S1\nK0007/1 2\n"
            "K0008/1 7\nK0010/1 M1\nK0012/1 3\nK0053/1 ORDER-9\n"
            "K0001/2 80.0\nK0002/2 255\nK0004/2 01.02.2025/23:59:59\nK0006/2 S1\n"
            "K0001/3 3.5\nK0004/3 02.02.2025/00:00:00\nK0006/3 H1\nK0008/3 5\n")
    r = rd(text.encode("gb18030"))
    assert r.table.column("operator").to_pylist() == ["王", None, "5"]
    written = aqdef.write(r.table, encoding="gb18030")
    _same(r.table, aqdef.read(written, "x.dfq", defaults=ENT).table)
    with pytest.raises(FormatError, match="cannot be written in windows-1252"):
        aqdef.write(r.table)
    with pytest.raises(FormatError, match="no place in a value line"):
        aqdef.write(r.table, form="valueline", encoding="utf-8")


def test_write_from_utc_rows_uses_the_zone():
    t = pa.table({"part_number": ["P"], "characteristic": ["D"], "value": [1.25], "unit": ["mm"],
                  "measured_at": pa.array([dt.datetime(2025, 3, 10, 0, 0, tzinfo=dt.UTC)],
                                          pa.timestamp("us", tz="UTC")),
                  "zone": ["Asia/Shanghai"]})
    back = rd(aqdef.write(t)).table
    assert back.column("local_time").to_pylist() == [dt.datetime(2025, 3, 10, 8, 0)]
    t2 = t.append_column("nominal", pa.array([1.0]))
    t2 = pa.concat_tables([t2, t2.set_column(t2.column_names.index("nominal"), "nominal", pa.array([2.0]))])
    with pytest.raises(FormatError, match="varies within"):
        aqdef.write(t2)


def test_times_parser_edge_cases():
    times, bad = aqdef.parse_times(pa.array(["29.02.2024/00:00:00", "29.02.2025/00:00:00", "1.3.69/1:2:3",
                                             "2025-03-10 08:00:00", None, "10.03.2025"], pa.string()))
    assert times.to_pylist()[:4] == [dt.datetime(2024, 2, 29), None, dt.datetime(1969, 3, 1, 1, 2, 3),
                                     dt.datetime(2025, 3, 10, 8)]
    assert bad.tolist() == [False, True, False, False, False, True]
