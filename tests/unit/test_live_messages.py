"""The live JSON message format: parsing and errors that name the element and field."""

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jingce.collect.messages import encode, parse
from jingce.errors import FormatError

TOPIC = "jingce/C/P1/gauge7/measurements"
GOOD = {"id": "g7-1", "time": "2026-03-01T08:15:00+08:00", "part_number": "ASSY", "serial": "A1",
        "values": [{"characteristic": "D1", "value": 10.01, "unit": "mm"}, {"characteristic": "D2", "value": 3}]}


def test_parse_message_with_topic_enterprise_and_site():
    m = parse(encode(GOOD), TOPIC)
    assert (m.enterprise, m.site, m.part_number, m.serial) == ("C", "P1", "ASSY", "A1")
    assert m.characteristics == ["D1", "D2"] and m.values == [10.01, 3.0] and m.units == ["mm", None]
    assert m.measured_at == dt.datetime(2026, 3, 1, 0, 15, tzinfo=dt.UTC)
    assert m.message_id == "g7-1" and len(m) == 2
    local = parse(encode(GOOD | {"time": "2026-03-01T08:15:00"}), TOPIC)
    assert local.measured_at is None and local.local_time == dt.datetime(2026, 3, 1, 8, 15)


@pytest.mark.parametrize("change, field", [
    ({"id": None}, "id"), ({"time": "yesterday"}, "time"), ({"values": []}, "values"),
    ({"values": [{"characteristic": "D1", "value": "ten"}]}, "value"),
    ({"values": [{"characteristic": "D1", "value": float("nan")}]}, "value"),
    ({"values": [{"value": 1.0}]}, "characteristic"), ({"part_number": ""}, "part_number"),
])
def test_bad_messages_name_the_field(change, field):
    doc = {k: v for k, v in (GOOD | change).items() if v is not None}
    with pytest.raises(FormatError) as e:
        parse(encode(doc), TOPIC)
    assert e.value.details["field"] == field
    assert e.value.details["element"].startswith(TOPIC)


def test_bad_topic_and_payload():
    with pytest.raises(FormatError):
        parse(encode(GOOD), "other/C/P1")
    with pytest.raises(FormatError):
        parse(b"\xff{", TOPIC)
    with pytest.raises(FormatError):
        parse(b"[1, 2]", TOPIC)


@pytest.mark.fuzz
@given(st.binary(max_size=300) | st.recursive(
    st.none() | st.booleans() | st.floats() | st.text(max_size=10) | st.integers(),
    lambda c: st.lists(c, max_size=4) | st.dictionaries(st.sampled_from(
        ["id", "time", "values", "part_number", "value", "characteristic", "unit", "serial"]), c, max_size=6),
    max_leaves=20).map(lambda d: encode(d) if not isinstance(d, bytes) else d))
def test_fuzz_only_format_errors_escape(payload):
    try:
        parse(payload if isinstance(payload, bytes) else bytes(payload), TOPIC)
    except FormatError:
        pass
