"""Fuzzing the DCC reader (only FormatError escapes, with or without the schema; ``make fuzz`` runs
it with 100,000 inputs), and round-trip properties of the DCC writer and the D-SI unit texts."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_qif_fuzz import mutated

from jingce.errors import FormatError
from jingce.formats import dcc
from jingce.model import Calibration, Instrument, Lab
from jingce.model.units import parse_unit

DATA = Path(__file__).parents[1] / "data" / "dcc"
T = dt.datetime(2026, 1, 10, tzinfo=dt.UTC)


def _certificate(**kw) -> dcc.DccCertificate:
    inst = Instrument(id=7, tenant_id=1, code="C-MIC-01", name="micrometer")
    lab = Lab(id=2, tenant_id=3, code="LAB05", name="Lab")
    stds = [Instrument(id=11, tenant_id=3, code="GB-SET-3", name="gauge blocks", kind="reference_standard")]
    cal = Calibration(**({"instrument_id": 7, "lab_id": 2, "certificate_no": "C-1", "calibrated_at": T,
                          "valid_until": T + dt.timedelta(days=365), "expanded_uncertainty": 0.0012,
                          "error_as_found": 0.003, "unit": "mm", "standard_ids": (11,)} | kw))
    return dcc.certificate_from_calibration(cal, inst, lab, stds, customer="C Ltd")


SEEDS = [dcc.write(_certificate()), (DATA / "gp_temperature_typical_v1.2.xml").read_bytes()]


@pytest.mark.fuzz
@given(mutated(SEEDS), st.booleans())
def test_fuzz_dcc_reader_only_raises_format_error(data, validate):
    try:
        cert = dcc.read(data, "fuzz.xml", validate=validate)
    except FormatError:
        return
    try:
        cert.summary()
    except FormatError:
        pass


# -- properties ---------------------------------------------------------------------------------

_POS = st.floats(min_value=1e-9, max_value=1e6, allow_nan=False, allow_infinity=False)
_UNITS = st.sampled_from(["mm", "µm", "nm", "m", "K", "°C", "N", "kN", "Pa", "MPa", "N·m", "kg", "g", "s", "ms",
                          "degree", "rad", "%", "1", "m/s", "V", "mV", "A", "ohm", "Hz", "L", "mL"])


@given(_POS, st.floats(min_value=1, max_value=10, allow_nan=False), st.none() | st.floats(min_value=0.5, max_value=1, exclude_max=True),
       st.none() | st.floats(-1, 1, allow_nan=False), st.none() | st.floats(-1, 1, allow_nan=False), _UNITS,
       st.sampled_from(["pass", "adjusted", "out_of_tolerance", "fail"]), st.integers(1, 3650))
def test_calibration_survives_the_certificate(u, k, p, found, left, unit, result, days):
    cert = _certificate(expanded_uncertainty=u, coverage_factor=k, coverage_probability=p, error_as_found=found,
                        error_as_left=left, unit=unit, result=result, valid_until=T + dt.timedelta(days=days))
    back = dcc.read(dcc.write(cert), "p.xml")
    assert back == cert
    s = back.summary()
    assert (s.expanded_uncertainty, s.coverage_factor, s.result) == (u, k, result)
    assert s.coverage_probability == (p if p is not None or (found is None and left is None) else 0.95)
    assert (s.error_as_found, s.error_as_left) == (found, left)
    assert parse_unit(s.unit) == parse_unit(unit)
    assert s.valid_until == T + dt.timedelta(days=days)


@given(_UNITS)
def test_dsi_units_round_trip(unit):
    text = dcc.unit_to_dsi(unit)
    assert parse_unit(dcc.unit_from_dsi(text)) == parse_unit(unit)
    assert dcc.unit_to_dsi(dcc.unit_from_dsi(text)) == text


@given(st.lists(st.floats(min_value=-1e300, max_value=1e300, allow_nan=False), min_size=1, max_size=6),
       st.data())
def test_quantity_lists_round_trip(values, data):
    n = len(values)
    u = data.draw(st.lists(_POS, min_size=n, max_size=n))
    cert = _certificate()
    q = dcc.DsiQuantity(values=tuple(values), unit="\\milli\\metre", ref_type="basic_measurementError",
                        expanded_uncertainty=tuple(u), coverage_factor=(2.0,) * n, coverage_probability=(0.95,) * n,
                        conformity=tuple(data.draw(st.lists(st.sampled_from(["pass", "fail"]), max_size=n))))
    mr = cert.measurement_results[0]
    cert = dataclasses.replace(cert, measurement_results=(dataclasses.replace(
        mr, results=(dataclasses.replace(mr.results[0], quantities=(q,)),)),))
    assert dcc.read(dcc.write(cert), "q.xml") == cert
