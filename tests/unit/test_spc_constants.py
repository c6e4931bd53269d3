"""Control chart constants from their integrals against the published table (tests/data/spc)."""

from pathlib import Path

import numpy as np
import pytest

from jingce.errors import InvalidInputError
from jingce.kernels.spc import c4, chart_constants, d2, d3

DATA = Path(__file__).parents[1] / "data" / "spc"
_LINES = [ln for ln in (DATA / "control_chart_constants.csv").read_text().splitlines() if not ln.startswith("#")]
TABLE = np.genfromtxt(_LINES, delimiter=",", names=True)
# Columns the table prints as the rounded exact value (half a unit of the last digit), and columns
# the table derives from d2, d3 already rounded to 3 decimals (one unit of the last digit); see README.
EXACT_ROUNDED = ["A", "A2", "A3", "c4", "B3", "B4", "B5", "B6", "d2"]


@pytest.mark.parametrize("row", TABLE, ids=lambda r: f"n={int(r['n'])}")
def test_constants_match_published_table(row):
    c = chart_constants(int(row["n"]))
    for name in EXACT_ROUNDED:
        unit = 1e-4 if name == "c4" else 1e-3
        assert abs(getattr(c, name) - row[name]) <= 0.5 * unit + 1e-12, name
    # d3 printed in the table comes from older, less accurate integrations (Harter 1960): one unit
    assert abs(c.d3 - row["d3"]) <= 1.0e-3 + 1e-12
    # D1..D4 amplify that by 3 (D1, D2) or 3/d2 (D3, D4), plus their own rounding
    for name, tol in (("D1", 2.5e-3), ("D2", 2.5e-3), ("D3", 1.5e-3), ("D4", 1.5e-3)):
        assert abs(getattr(c, name) - row[name]) <= tol, name


def test_tabled_constants_reproduce_the_printed_digits():
    mismatches = []
    for row in TABLE:
        c = chart_constants(int(row["n"]), "tabled")
        for name in EXACT_ROUNDED:
            if getattr(c, name) != pytest.approx(row[name], abs=1e-9):
                mismatches.append((int(row["n"]), name))
    assert mismatches == []


def test_closed_forms_for_n2():
    # W = |X1 - X2| with X1 - X2 ~ N(0, 2): E W = 2/sqrt(pi), E W^2 = 2
    assert d2(2) == pytest.approx(2 / np.sqrt(np.pi), rel=1e-10)
    assert d3(2) == pytest.approx(np.sqrt(2 - 4 / np.pi), rel=1e-9)
    assert c4(2) == pytest.approx(np.sqrt(2 / np.pi), rel=1e-12)


def test_against_monte_carlo():
    # independent computation: simulate ranges and standard deviations of normal samples
    rng = np.random.default_rng(20240601)
    for n in (3, 7, 15, 25):
        z = rng.standard_normal((200_000, n))
        w = np.ptp(z, axis=1)
        s = z.std(axis=1, ddof=1)
        se = w.std() / np.sqrt(w.size)
        assert abs(d2(n) - w.mean()) < 5 * se
        assert abs(d3(n) - w.std()) < 0.01
        assert abs(c4(n) - s.mean()) < 5 * s.std() / np.sqrt(s.size)


def test_large_n_published_values():
    # Harter (1960) range moments, as reprinted in ASTM E2587 for n = 50 and 100
    assert d2(50) == pytest.approx(4.498, abs=5e-4)
    assert d2(100) == pytest.approx(5.015, abs=5e-4)


@pytest.mark.parametrize("bad", [1, 0, 101, 2.5, "x"])
def test_bad_n(bad):
    with pytest.raises(InvalidInputError, match="n"):
        chart_constants(bad)


def test_bad_kind_and_k():
    with pytest.raises(InvalidInputError, match="constants"):
        chart_constants(5, "rounded")
    with pytest.raises(InvalidInputError, match="k"):
        chart_constants(5, k=0)


def test_gauss_legendre_rule_behind_the_range_integrals():
    from jingce.kernels.spc.constants import _gauss_legendre

    x, w = _gauss_legendre(400)
    ref_x, ref_w = np.polynomial.legendre.leggauss(400)  # independent: eigenvalues of the companion matrix
    assert np.all(np.diff(x) > 0) and np.abs(x - ref_x).max() < 1e-15
    assert np.allclose(w, ref_w, rtol=1e-9, atol=0)  # numpy's end weights are good to ~6e-10 only
    assert w.sum() == pytest.approx(2.0, rel=1e-14)
    for k in (2, 10, 100, 400, 798):  # exact for polynomials of degree <= 2n - 1
        assert np.dot(w, x**k) == pytest.approx(2.0 / (k + 1), rel=1e-12)
    x7, w7 = _gauss_legendre.__wrapped__(7)  # odd n: the middle node is 0
    assert x7[3] == 0.0 and np.allclose(x7, np.polynomial.legendre.leggauss(7)[0], atol=1e-15, rtol=0)
    # with this rule the n = 2 closed forms hold to near machine precision
    assert d2(2) == pytest.approx(2 / np.sqrt(np.pi), rel=1e-14)
    assert d3(2) == pytest.approx(np.sqrt(2 - 4 / np.pi), rel=1e-12)
