"""EWMA and CUSUM against published examples (tests/data/spc/ewma_cusum_examples.json)."""

import json
from pathlib import Path

import numpy as np
import pytest

from jingce.errors import InvalidInputError
from jingce.kernels.spc import chart_constants, cusum, ewma
from jingce.kernels.spc.ewma import ewma_factor

EX = json.loads((Path(__file__).parents[1] / "data" / "spc" / "ewma_cusum_examples.json").read_text())


def test_nist_ewma():
    e = EX["nist_ewma"]
    r = ewma(e["data"], lam=e["lam"], L=e["L"], mu=e["mu"], sigma=e["sigma"], limits="asymptotic")
    pub = e["published"]
    assert r.chart.statistic == pytest.approx(pub["ewma"], abs=0.005 + 1e-9)
    assert r.ucl_asymptotic == pytest.approx(pub["ucl"], abs=5e-5)
    assert r.lcl_asymptotic == pytest.approx(pub["lcl"], abs=1e-4)  # printed truncated: 47.41157
    assert list(r.chart.beyond) == pub["beyond"]


def test_ross_ewma_of_means():
    e = EX["ross_ewma"]
    r = ewma(e["data"], lam=e["lam"], L=e["L"], mu=e["mu"], sigma=e["sigma"], n=e["n"], limits="asymptotic")
    pub = e["published"]
    assert r.chart.statistic == pytest.approx(pub["ewma"], rel=6e-7)
    assert r.ucl_asymptotic == pytest.approx(pub["ucl"], abs=5e-6)
    assert r.lcl_asymptotic == pytest.approx(pub["lcl"], abs=2e-6)  # printed as 20 - 10.948682
    assert list(r.chart.beyond + 1) == pub["beyond_1based"]


def test_exact_limits_grow_to_asymptotic():
    x = np.zeros(200)
    r = ewma(x, lam=0.1, mu=0.0, sigma=1.0)
    w = r.chart.ucl
    assert w[0] == pytest.approx(3 * 0.1)  # first point: L sigma lam
    assert np.all(np.diff(w[:50]) > 0) and np.all(np.diff(w) >= 0)
    assert w[-1] == pytest.approx(r.ucl_asymptotic, rel=1e-9)
    # direct formula
    i = np.arange(1, 201)
    assert w == pytest.approx(3 * np.sqrt(0.1 / 1.9 * (1 - 0.9 ** (2 * i))), rel=1e-12)
    assert ewma_factor(1.0) == pytest.approx(1.0)


def test_ewma_phase1_and_recursion():
    rng = np.random.default_rng(3)
    x = 1000.0 + rng.normal(0, 1e-4, 50)
    r = ewma(x, lam=0.25)
    z, prev = [], x.mean()
    for v in x:
        prev = 0.25 * v + 0.75 * prev
        z.append(prev)
    assert r.chart.statistic == pytest.approx(z, abs=1e-12)
    assert r.sigma == pytest.approx(np.mean(np.abs(np.diff(x))) / chart_constants(2).d2, rel=1e-9)


def test_montgomery_runger_tabular_cusum():
    e = EX["montgomery_runger_cusum"]
    r = cusum(e["data"], mu=e["mu"], sigma=1.0, K=e["K"], H=e["H"])
    pub = e["published"]
    assert r.upper.statistic == pytest.approx(pub["upper"], abs=0.05)
    assert r.lower.statistic == pytest.approx(pub["lower"], abs=0.05)
    assert list(r.n_upper[:19]) == pub["n_upper"][:19]
    assert list(r.n_lower) == pub["n_lower"]
    assert list(r.signals) == pub["signals"]


def test_cusum_against_loop_and_fir():
    rng = np.random.default_rng(7)
    x = np.concatenate([rng.normal(10, 1, 20), rng.normal(12, 1, 15)])
    r = cusum(x, mu=10.0, sigma=1.0, k=0.5, h=4.0, headstart=0.5)
    cp, cm, up, lo = 2.0, 2.0, [], []
    for v in x:
        cp = max(0.0, v - 10.5 + cp)
        cm = max(0.0, 9.5 - v + cm)
        up.append(cp)
        lo.append(cm)
    assert r.upper.statistic == pytest.approx(up, abs=1e-12)
    assert r.lower.statistic == pytest.approx(lo, abs=1e-12)
    first = int(np.argmax(np.array(up) > 4.0))
    assert r.signals[0] == first
    assert r.shift_estimate[0] == pytest.approx(10.5 + up[first] / r.n_upper[first])


@pytest.mark.parametrize(
    ("call", "argument"),
    [
        (lambda: ewma([1.0, 2.0], lam=0.0), "lam"),
        (lambda: ewma([1.0, 2.0], lam=1.5), "lam"),
        (lambda: ewma([1.0]), "data"),
        (lambda: ewma([1.0, 2.0], limits="steady"), "limits"),
        (lambda: cusum([1.0, 2.0], h=0), "h"),
        (lambda: cusum([1.0, 2.0], headstart=2.0), "headstart"),
        (lambda: cusum([1.0, np.nan]), "data"),
        (lambda: cusum([1.0, 2.0], mu=1.0), "mu/sigma"),
    ],
)
def test_bad_input(call, argument):
    with pytest.raises(InvalidInputError) as exc:
        call()
    assert exc.value.details["argument"] == argument
