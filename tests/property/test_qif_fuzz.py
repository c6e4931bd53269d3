"""Fuzzing the QIF reader, and round-trip properties of the QIF writer.

Whatever the bytes — random, truncated, flipped, or a valid document with elements deleted,
duplicated, moved or their text and attributes changed — only FormatError escapes, with or
without schema validation and with or without ``skip_bad`` (``make fuzz`` runs these with
100,000 inputs each; the default run is short). ``mutated`` is shared with test_dcc_fuzz.py.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from jingce.errors import FormatError
from jingce.formats import qif
from jingce.model.batch import conform_input

DATA = Path(__file__).parents[1] / "data" / "qif3"
T0 = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=12) | st.sampled_from(
    ["", "-1", "0", "1e5", "NaN", "INF", "1.5", "999", "abc", " 2 ", "2026-13-45T99:00:00", "true", "PASS",
     "-0.000001", "1" * 40, "mm", "inch", "\\metre", "1.0E+400"])


def _mutate_tree(seed: bytes, data) -> bytes:
    root = etree.fromstring(seed)
    for _ in range(data.draw(st.integers(1, 3))):
        elements = [e for e in root.iter() if isinstance(e.tag, str)]
        el = data.draw(st.sampled_from(elements))
        parent = el.getparent()
        op = data.draw(st.sampled_from(["delete", "duplicate", "text", "attr", "move", "clear"]))
        if op == "delete" and parent is not None:
            parent.remove(el)
        elif op == "duplicate" and parent is not None:
            parent.insert(parent.index(el) + 1, copy.deepcopy(el))
        elif op == "text":
            el.text = data.draw(_TEXT)
        elif op == "attr":
            name = data.draw(st.sampled_from(sorted(el.attrib) or ["id"]) | st.sampled_from(["id", "n", "linearUnit"]))
            el.set(name, data.draw(_TEXT))
        elif op == "move" and parent is not None:
            target = data.draw(st.sampled_from(elements))
            if el not in target.iterancestors() and target is not el:
                target.append(el)
        elif op == "clear":
            for child in list(el):
                el.remove(child)
    return etree.tostring(root)


def mutated(seeds: list[bytes]):
    """A strategy of documents broken in the ways real files break."""
    @st.composite
    def strategy(draw):
        seed = draw(st.sampled_from(seeds))
        kind = draw(st.sampled_from(["bytes", "truncate", "flip", "tree", "tree", "tree"]))
        if kind == "bytes":
            return draw(st.binary(max_size=2000))
        if kind == "truncate":
            return seed[:draw(st.integers(0, len(seed)))]
        if kind == "flip":
            out = bytearray(seed)
            for _ in range(draw(st.integers(1, 4))):
                out[draw(st.integers(0, len(out) - 1))] = draw(st.integers(0, 255))
            return bytes(out)
        return _mutate_tree(seed, _Draw(draw))
    return strategy()


class _Draw:
    def __init__(self, draw) -> None:
        self.draw = draw


def _small_document() -> bytes:
    rows = []
    for s in range(2):
        for k, (ch, nom, lo, hi, unit, kind) in enumerate([
                ("D1", 10.0, 9.9, 10.1, "mm", "diameter"), ("PROF", None, -0.1, 0.2, "mm", "profile"),
                ("ANG", 30.0, 29.5, 30.5, "degree", "angle"), ("L2", 5.0, None, 5.2, "µm", "length")]):
            rows.append(dict(enterprise="S", part_number="RING", serial=f"R{s}", characteristic=ch,
                             value=(nom or 0.0) + 0.01 * k, unit=unit, measured_at=T0 + dt.timedelta(minutes=s + k),
                             instrument="C-CMM" if k < 2 else None, nominal=nom, lower_limit=lo, upper_limit=hi,
                             kind=kind, attributes=json.dumps({"a": k}) if k == 1 else None, position=len(rows)))
    return qif.write(conform_input(pa.Table.from_pylist(rows)), statistics={"D1": {"Average": 10.0, "Cpk": 1.5}})


SEEDS = [_small_document(), (DATA / "QIF_Results_Sample.QIF").read_bytes()]


@pytest.mark.fuzz
@given(mutated(SEEDS), st.booleans(), st.booleans())
def test_fuzz_qif_reader_only_raises_format_error(data, validate, skip_bad):
    try:
        result = qif.read(data, "fuzz.qif", defaults={"enterprise": "E"}, validate=validate, skip_bad=skip_bad)
    except FormatError:
        return
    assert result.table.num_rows + len(result.skipped) + result.metadata["not_numeric"] >= 0


# -- round-trip properties of the writer -----------------------------------------------------------

_VALUES = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)
_NAMES = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")), min_size=1, max_size=10)


@st.composite
def tables(draw):
    n_chars = draw(st.integers(1, 4))
    chars = []
    for k in range(n_chars):
        unit = draw(st.sampled_from(["mm", "µm", "inch", "degree", "rad", "kg", "N", "degC", "s"]))
        nominal = draw(st.none() | _VALUES)
        lower = draw(st.none() | _VALUES)
        upper = draw(st.none() | _VALUES)
        kind = draw(st.sampled_from([None, "diameter", "length", "position", "profile", "flatness", "angle", "other"]))
        chars.append((f"C{k}", unit, nominal, lower, upper, kind, draw(st.none() | _NAMES)))
    rows = []
    for _s in range(draw(st.integers(1, 4))):
        serial = draw(st.none() | st.sampled_from(["A", "B", "C"]))
        for ch, unit, nominal, lower, upper, kind, name in chars:
            if draw(st.booleans()) and rows:
                continue
            when = T0 + dt.timedelta(microseconds=draw(st.integers(0, 10**12)))
            local = draw(st.booleans())
            rows.append(dict(
                enterprise=draw(st.sampled_from(["S", "X"])), part_number=draw(st.sampled_from(["P1", "P 2"])),
                serial=serial, characteristic=ch, value=draw(_VALUES), unit=unit,
                measured_at=None if local else when, local_time=when.replace(tzinfo=None) if local else None,
                zone=draw(st.none() | st.just("Asia/Shanghai")), stage=draw(st.none() | st.just("final")),
                operator=draw(st.none() | _NAMES), machine=draw(st.none() | _NAMES),
                instrument=draw(st.none() | st.sampled_from(["G1", "G 2"])), status=draw(st.none() | st.just("invalid")),
                nominal=nominal, lower_limit=lower, upper_limit=upper, kind=kind, characteristic_name=name,
                criticality=draw(st.none() | st.sampled_from(["critical", "major", "minor"])),
                attributes=draw(st.none() | st.dictionaries(st.sampled_from(["k", "K0006", "直径"]), _VALUES | _NAMES,
                                                           max_size=2).map(json.dumps)),
                position=len(rows)))
    return conform_input(pa.Table.from_pylist(rows))


def _rows(t: pa.Table) -> list[dict]:
    return sorted(t.drop(["position", "line"]).to_pylist(), key=lambda r: json.dumps(r, default=str, sort_keys=True))


@given(tables())
def test_write_then_read_gives_the_same_rows(t):
    data = qif.write(t)  # validates against the schema (an AssertionError would be a writer bug)
    assert _rows(qif.read(data, "p.qif").table) == _rows(t)
