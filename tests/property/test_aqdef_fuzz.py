"""Fuzzing the AQDEF reader: whatever the bytes, only FormatError escapes (``make fuzz`` runs these
with 100,000 inputs each; the default run is short)."""

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jingce.errors import FormatError
from jingce.formats import aqdef

DATA = Path(__file__).parents[1] / "data" / "aqdef"
SEEDS = [(DATA / f).read_bytes() for f in ("shaft_kfield.dfq", "shaft_valueline.dfq", "shaft.dfd")]
DFX = (DATA / "shaft.dfx").read_bytes()
TOKENS = ["K0001/1 ", "K0002/2 ", "K0004/1 ", "K0004/0 ", "K0006/1 ", "K0008/1 ", "K0012/2 ", "K0001/1/2 ",
          "K0100 ", "K1001/1 ", "K1001/2 ", "K1001/0 ", "K2001/1 ", "K2001/3 ", "K2004/1 5", "K2142/0 ", "K2110/1 ",
          "K2111/2 ", "K2112/1 ", "K4090/1 ", "K4092/1 ", "K4073/1 ", "K0005/1 ", "K0014/1 ", "25.003", "1,5", "-",
          "10.03.2025/08:00:00", "31.02.2025/08:00", "99.99.99/99:99", "\x14", "\x0f", "\r\n", "\n", "\r", " ",
          "#", "255", "e9", "nan", "inf", "直径", "Ä", "\x00", "\x1a", "PK\x03\x04"]


def _read(data: bytes, **kw) -> None:
    for skip in (False, True):
        try:
            aqdef.read(data, "fuzz.dfq", defaults={"enterprise": "E"}, skip_bad=skip, **kw)
        except FormatError:
            pass


@pytest.mark.fuzz
@given(st.binary(max_size=600))
def test_fuzz_bytes(data):
    _read(data)


@pytest.mark.fuzz
@given(st.lists(st.sampled_from(TOKENS) | st.text(max_size=6), max_size=60))
def test_fuzz_k_lines(tokens):
    text = "".join(tokens)
    for enc in ("utf-8", "gb18030"):
        _read(text.encode(enc, errors="ignore"))


@pytest.mark.fuzz
@given(st.sampled_from(SEEDS), st.lists(st.tuples(st.integers(0, 2000), st.integers(0, 6), st.binary(max_size=8)),
                                        max_size=6))
def test_fuzz_mutated_fixtures(seed, edits):
    data = bytearray(seed)
    for pos, cut, insert in edits:
        pos = min(pos, len(data))
        data[pos:pos + cut] = insert
    _read(bytes(data))


@pytest.mark.fuzz
@given(st.binary(max_size=300), st.lists(st.tuples(st.integers(0, 500), st.binary(max_size=4)), max_size=4))
def test_fuzz_dfx_with_description(extra, edits):
    dfx = bytearray(DFX + extra)
    for pos, insert in edits:
        pos = min(pos, len(dfx))
        dfx[pos:pos + len(insert)] = insert
    try:
        aqdef.read(bytes(dfx), "f.dfx", description=SEEDS[2], defaults={"enterprise": "E"})
    except FormatError:
        pass
