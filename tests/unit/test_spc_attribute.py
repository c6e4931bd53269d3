"""p, np, c and u charts against NIST and Montgomery examples (tests/data/spc/attribute_examples.json)."""

import json
from pathlib import Path

import numpy as np
import pytest

from jingce.errors import InvalidInputError, JingceWarning
from jingce.kernels.spc import c_chart, np_chart, p_chart, u_chart

EX = json.loads((Path(__file__).parents[1] / "data" / "spc" / "attribute_examples.json").read_text())


def test_nist_wafer_c_chart():
    e = EX["nist_wafer_c"]
    r = c_chart(e["counts"])
    pub = e["published"]
    assert r.center == pytest.approx(pub["center"], abs=1e-12)
    assert r.chart.ucl[0] == pytest.approx(pub["ucl"], abs=1e-12)
    assert r.chart.lcl[0] == pytest.approx(pub["lcl"], abs=1e-12)
    assert list(r.chart.beyond) == [23]  # 31 defects on wafer 24 is beyond 28; 28 on wafer 3 is on it


def test_nist_wafer_p_chart():
    e = EX["nist_wafer_p"]
    r = p_chart(e["counts"], e["sample_size"])
    pub = e["published"]
    assert r.center == pytest.approx(pub["center"], abs=5e-5)
    assert r.chart.ucl[0] == pytest.approx(pub["ucl"], abs=5e-5)
    assert r.chart.lcl[0] == pytest.approx(pub["lcl"], abs=5e-5)
    # the same data as an np chart: limits scale by n
    q = np_chart(e["counts"], e["sample_size"])
    assert q.chart.ucl[0] == pytest.approx(50 * r.chart.ucl[0], rel=1e-12)
    assert q.center == pytest.approx(50 * r.center, rel=1e-12)


def test_montgomery_p_chart_variable_sample_size():
    e = EX["montgomery_p_variable_n"]
    r = p_chart(e["counts"], e["sample_sizes"])
    pub = e["published"]
    assert r.center == pytest.approx(pub["center"], abs=5e-4)
    assert r.center == pytest.approx(pub["total_nonconforming"] / pub["total_inspected"], rel=1e-14)
    n = np.asarray(e["sample_sizes"], float)
    pb = pub["center"]
    half = 3 * np.sqrt(pb * (1 - pb) / n)
    assert r.chart.ucl == pytest.approx(pb + half, abs=1e-3)
    assert r.chart.lcl == pytest.approx(np.maximum(pb - half, 0), abs=1e-3)
    assert r.chart.lcl[n == 80] == pytest.approx(0.0)  # negative lower limits are set to zero
    assert list(r.chart.beyond) == [10]  # sample 11: 20/110 = 0.182 above its limit 0.180


def test_montgomery_u_chart_cloth():
    e = EX["montgomery_u_cloth"]
    r = u_chart(e["counts"], e["units"])
    pub = e["published"]
    assert r.center == pytest.approx(pub["center"], abs=5e-3)
    assert r.center == pytest.approx(pub["total_nonconformities"] / pub["total_units"], rel=1e-14)
    n = np.asarray(e["units"])
    assert r.chart.ucl == pytest.approx(1.42 + 3 * np.sqrt(1.42 / n), abs=1e-2)
    assert r.chart.lcl == pytest.approx(1.42 - 3 * np.sqrt(1.42 / n), abs=1e-2)
    assert r.chart.beyond.size == 0  # "no lack of statistical control"


def test_phase2_and_drop():
    r = p_chart([1, 2, 30, 1], 100, p=0.02)
    assert r.phase == "II" and list(r.chart.beyond) == [2]
    d = c_chart([5, 6, 4, 30, 5, 6, 5], drop_out_of_control=True)
    assert list(d.excluded) == [3] and d.center == pytest.approx(31 / 6)


def test_no_defects_warns():
    with pytest.warns(JingceWarning):
        r = c_chart([0, 0, 0])
    assert r.chart.ucl[0] == 0.0


@pytest.mark.parametrize(
    ("call", "argument"),
    [
        (lambda: p_chart([1, -1], [10, 10]), "counts"),
        (lambda: p_chart([11, 1], [10, 10]), "counts"),
        (lambda: p_chart([1.5, 1], [10, 10]), "counts"),
        (lambda: p_chart([1, 1], [10, 0]), "sample_sizes"),
        (lambda: p_chart([1, 1], [10, 10, 10]), "sample_sizes"),
        (lambda: p_chart([1], [10]), "counts"),
        (lambda: p_chart([1, 2], 10, p=1.5), "p"),
        (lambda: np_chart([1, 2], [10, 10]), "sample_size"),
        (lambda: c_chart([1, np.nan]), "counts"),
        (lambda: u_chart([1, 2], [1, -2]), "sample_sizes"),
    ],
)
def test_bad_input(call, argument):
    with pytest.raises(InvalidInputError) as exc:
        call()
    assert exc.value.details["argument"] == argument
