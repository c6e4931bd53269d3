"""The jingce CSV layout: reading, error locations, encodings, round trip."""

import datetime as dt

import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from jingce import formats
from jingce.errors import FormatError
from jingce.formats import csv as jcsv

HEADER = "enterprise,part_number,serial,characteristic,value,unit,time,nominal,lower_limit,upper_limit\n"
GOOD = HEADER + (
    "E1,P1,S1,D1,10.01,mm,2026-03-01T08:15:00+08:00,10,9.9,10.1\n"
    "E1,P1,S1,D2,10.02,mm,2026-03-01 08:16:00,10,9.9,10.1\n"
    "E1,P1,S2,D1,9.98,mm,2026-03-01T00:17:30Z,10,9.9,10.1\n"
)


def read(text, **kw):
    return jcsv.read(text.encode("utf-8") if isinstance(text, str) else text, "m.csv", **kw)


def test_reads_rows_with_exact_and_wall_clock_times():
    t = read(GOOD).table
    assert t.num_rows == 3
    assert t.column("value").to_pylist() == [10.01, 10.02, 9.98]
    assert t.column("measured_at").to_pylist()[0] == dt.datetime(2026, 3, 1, 0, 15, tzinfo=dt.UTC)
    assert t.column("measured_at")[1].as_py() is None  # no offset: wall-clock time, read in the site's zone
    assert t.column("local_time")[1].as_py() == dt.datetime(2026, 3, 1, 8, 16)
    assert t.column("line").to_pylist() == [2, 3, 4]
    assert t.column("position").to_pylist() == [0, 1, 2]


@pytest.mark.parametrize("row, line, field", [
    ("E1,P1,S1,D1,1o.0,mm,2026-03-01T08:15:00Z,10,9.9,10.1", 3, "value"),
    ("E1,P1,S1,D1,10,mm,01/03/2026,10,9.9,10.1", 3, "time"),
    ("E1,P1,S1,,10,mm,2026-03-01T08:15:00Z,10,9.9,10.1", 3, "characteristic"),
    ("E1,P1,S1,D1,10,mm,2026-03-01T08:15:00Z,ten,9.9,10.1", 3, "nominal"),
    ("E1,P1,S1,D1,inf,mm,2026-03-01T08:15:00Z,10,9.9,10.1", 3, "value"),
])
def test_a_bad_field_is_named_with_file_and_line(row, line, field):
    text = HEADER + "E1,P1,S1,D1,10.01,mm,2026-03-01T08:15:00Z,10,9.9,10.1\n" + row + "\n"
    with pytest.raises(FormatError) as e:
        read(text)
    assert e.value.details == {"file": "m.csv", "line": line, "field": field}


def test_header_problems():
    with pytest.raises(FormatError, match="unknown column 'colour'"):
        read("enterprise,colour\nE1,red\n")
    with pytest.raises(FormatError, match="missing required column"):
        read("enterprise,part_number,characteristic,value\nE1,P,K,1\n")
    with pytest.raises(FormatError, match="appears twice"):
        read("value,value\n1,2\n")
    with pytest.raises(FormatError, match="empty"):
        read("")
    with pytest.raises(FormatError, match="no rows"):
        read(HEADER)


def test_chinese_headers_semicolons_decimal_comma_gb18030():
    text = "企业;零件号;特性;测量值;单位;时间;时区\nE1;P1;直径;10,015;mm;2026-03-01 08:00:00;Asia/Shanghai\n"
    t = jcsv.read(text.encode("gb18030"), "cn.csv", decimal=",").table
    assert t.column("characteristic").to_pylist() == ["直径"]
    assert t.column("value").to_pylist() == [10.015]
    assert t.column("zone").to_pylist() == ["Asia/Shanghai"]


def test_quoted_newlines_keep_line_numbers():
    text = (HEADER.replace("upper_limit\n", "upper_limit,operator\n")
            + 'E1,P1,S1,D1,10,mm,2026-03-01T08:15:00Z,10,9.9,10.1,"Li\nWei"\n'
            + "E1,P1,S1,D2,x,mm,2026-03-01T08:15:00Z,10,9.9,10.1,Wang\n")
    with pytest.raises(FormatError) as e:
        read(text)
    assert e.value.details["line"] == 4


def test_defaults_and_skip_bad():
    text = "characteristic,value,time\nK,1.5,2026-01-01T00:00:00Z\nK,bad,2026-01-01T00:01:00Z\nK,2.5,2026-01-01T00:02:00Z\n"
    r = read(text, defaults={"enterprise": "E1", "part_number": "P"}, skip_bad=True)
    assert r.table.column("value").to_pylist() == [1.5, 2.5]
    assert r.table.column("enterprise").to_pylist() == ["E1", "E1"]
    assert [(s.details["line"], s.details["field"]) for s in r.skipped] == [(3, "value")]


def test_round_trip_and_detection():
    t = read(GOOD).table
    t = t.set_column(t.column_names.index("measured_at"), "measured_at",
                     pa.array([dt.datetime(2026, 3, 1, i, tzinfo=dt.UTC) for i in range(3)], pa.timestamp("us", tz="UTC")))
    again = read(jcsv.write(t)).table
    for col in ("enterprise", "part_number", "serial", "characteristic", "value", "unit", "measured_at", "nominal",
                "lower_limit", "upper_limit"):
        assert again.column(col).to_pylist() == t.column(col).to_pylist(), col
    assert formats.detect(GOOD.encode(), "x.csv").name == "csv"
    assert formats.detect(GOOD.encode(), "x.data").name == "csv"
    with pytest.raises(FormatError):
        formats.detect(b"\x00\x01binary", "x.bin")


@pytest.mark.fuzz
@given(st.binary(max_size=400) | st.text(alphabet=",;\n\"\t0123456789.eE-+:TZabcdefgchrstvnumpk_ ", max_size=400))
def test_fuzz_only_format_errors_escape(data):
    raw = data.encode() if isinstance(data, str) else data
    for payload in (raw, HEADER.encode() + raw):
        try:
            jcsv.read(payload, "fuzz.csv")
        except FormatError:
            pass
