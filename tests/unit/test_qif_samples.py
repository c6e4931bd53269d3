"""The published QIF 3.0 results samples (tests/data/qif3, DMSC qif-community, Boost licence) read into
the measurement table; expected values are read off the documents by hand (see the README there)."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.compute as pc
import pytest

from jingce import formats
from jingce.formats import qif

DATA = Path(__file__).parents[1] / "data" / "qif3"
SAMPLES = {
    "QIF_Results_Sample.QIF": (13, 11, {"QM_X_123456"}, {None}),
    "SheetMetal_QIF_Results_6_samples_w_UUIDs.QIF": (228, 21, {"Wing mirror reinforcement"},
                                                      {f"SN580280{i}" for i in range(1, 7)}),
    "WIDGET_QIF_RESULTS_W_QPIDS.QIF": (42, 26, {"rev 1"}, {None}),
}


def _read(name: str, **options):
    return qif.read((DATA / name).read_bytes(), name, defaults={"enterprise": "E1"}, **options)


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_published_sample_reads(name):
    rows, chars, part_numbers, serials = SAMPLES[name]
    r = _read(name)
    t = r.table
    assert t.num_rows == rows
    assert len(set(t.column("characteristic").to_pylist())) == chars
    assert set(t.column("part_number").to_pylist()) == part_numbers
    assert set(t.column("serial").to_pylist()) == serials
    assert set(t.column("unit").to_pylist()) == {"mm"}
    assert set(t.column("enterprise").to_pylist()) == {"E1"}
    assert r.skipped == ()
    assert r.metadata["not_numeric"] == 0
    # no TimeStamp in the samples: the report preparation date, wall-clock time without offset
    assert t.column("measured_at").null_count == rows
    assert t.column("local_time").null_count == 0
    assert t.column("line").null_count == 0
    assert t.column("position").to_pylist() == list(range(rows))


def test_results_sample_characteristics_as_published():
    t = _read("QIF_Results_Sample.QIF").table.to_pylist()
    by_key = {}
    for row in t:
        by_key.setdefault(row["characteristic"], row)
    # characteristic 2: target 774.26989746093795, tolerance -0.2/+0.2 around it (DefinedAsLimit false)
    two = by_key["2"]
    assert two["nominal"] == 774.26989746093795
    assert two["lower_limit"] == float("774.06989746093795")
    assert two["upper_limit"] == float("774.46989746093795")
    assert two["kind"] == "distance" and two["criticality"] == "minor" and two["value"] == 774.30999999999995
    # characteristic 3: absolute limits (DefinedAsLimit true), no target
    three = by_key["3"]
    assert (three["nominal"], three["lower_limit"], three["upper_limit"]) == \
        (None, 944.80274658203098, 945.20274658203107)
    # characteristic 4: point profile zone 1.5 with OuterDisposition 1 -> -0.5 .. +1.0
    four = by_key["4"]
    assert (four["lower_limit"], four["upper_limit"], four["kind"], four["criticality"]) == (-0.5, 1.0, "profile",
                                                                                              "critical")
    # characteristic 5: uniform profile zone 4 -> -2 .. +2
    assert (by_key["5"]["lower_limit"], by_key["5"]["upper_limit"]) == (-2.0, 2.0)
    # characteristic 6: diameter 10 -0.4/+0.4; 7: position zone 1 (upper limit only)
    assert (by_key["6"]["nominal"], by_key["6"]["lower_limit"], by_key["6"]["upper_limit"]) == (10.0, 9.6, 10.4)
    assert (by_key["7"]["nominal"], by_key["7"]["lower_limit"], by_key["7"]["upper_limit"]) == (None, None, 1.0)
    # devices: the measuring device of each characteristic item is the instrument
    assert by_key["7"]["instrument"] == "GAGE PINS" and by_key["8"]["instrument"] == "CALIPERS"
    assert by_key["1"]["instrument"] == "CMM"
    assert by_key["11"]["characteristic_name"] == "Distance-between characteristic"
    assert json.loads(by_key["6"]["attributes"]) == {"qif_status": "FAIL", "qif_nonconformance": "1234"}


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_derived_limits_agree_with_published_status(name):
    """The limits jingce derives give each characteristic the PASS/FAIL status its document gives it.

    Profile characteristics are reported as two measurements of the item, the deviation and a
    companion value 0 that carries the characteristic's status; only the first of each item in a
    results block is checked. Values are compared at 0.001 mm, the resolution the samples' software
    evaluates at: SheetMetal SN5802803 W1RISMRA13V is -0.500113560341811 against a -0.5 limit and
    published as PASS (it is -0.500 at that resolution).
    """
    checked, seen = 0, set()
    for row in _read(name).table.to_pylist():
        status = json.loads(row["attributes"])["qif_status"]
        lo, hi, v = row["lower_limit"], row["upper_limit"], round(row["value"], 3)
        first = (row["serial"], row["characteristic"]) not in seen
        seen.add((row["serial"], row["characteristic"]))
        if not first or status not in ("PASS", "FAIL") or (lo is None and hi is None):
            continue
        inside = (lo is None or v >= lo) and (hi is None or v <= hi)
        assert inside == (status == "PASS"), row
        checked += 1
    assert checked >= 8  # 8, 88 and 41 characteristics in the three samples


def test_devices_and_characteristics_metadata():
    r = _read("QIF_Results_Sample.QIF")
    assert set(r.metadata["devices"].values()) == {"CMM", "GAGE PINS", "CALIPERS"}
    chars = r.metadata["characteristics"]
    assert chars["6"]["type"] == "Diameter" and chars["6"]["definition_id"] == "48"
    assert chars["6"]["nominal_id"] == "49" and chars["6"]["item_id"] == "50"


def test_instrument_mapping_and_dropping():
    r = _read("QIF_Results_Sample.QIF", instruments={"CMM": "C-CMM", "GAGE PINS": None})
    inst = set(r.table.column("instrument").to_pylist())
    assert inst == {"C-CMM", None, "CALIPERS"}


def test_registry_detects_and_reads_qif():
    data = (DATA / "QIF_Results_Sample.QIF").read_bytes()
    assert formats.detect(data, "x.QIF").name == "qif"
    assert formats.detect(data, "no-extension").name == "qif"
    assert formats.get("qif").read(data, "x.QIF", defaults={"enterprise": "E1"}).table.num_rows == 13


def test_sheet_metal_serials_are_per_results_block():
    t = _read("SheetMetal_QIF_Results_6_samples_w_UUIDs.QIF").table
    counts = pc.value_counts(t.column("serial")).to_pylist()
    assert {c["values"]: c["counts"] for c in counts} == {f"SN580280{i}": 38 for i in range(1, 7)}
