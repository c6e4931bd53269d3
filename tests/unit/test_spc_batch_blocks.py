"""The batch form worked through in blocks: internal blocks of whole characteristics, streamed
blocks (batch_summary_blocks), the trailing-empty-characteristic case, and the start-up imports."""

import subprocess
import sys
import warnings

import numpy as np
import pytest

from jingce.errors import InvalidInputError
from jingce.kernels.capability import batch_capability
from jingce.kernels.spc import BatchSummary, batch_summary, batch_summary_blocks
from jingce.kernels.spc import batch as batch_mod

FIELDS = [f for f in BatchSummary.__slots__ if f not in ("settings", "rule_names")]


def assert_same(a, b, skip=()):
    assert a.rule_names == b.rule_names and a.settings == b.settings
    for f in FIELDS:
        if f in skip:
            continue
        x, y = np.asarray(getattr(a, f)), np.asarray(getattr(b, f))
        assert x.shape == y.shape, f
        assert np.array_equal(x, y, equal_nan=True), f  # bit for bit: same arithmetic, same order


def _table(seed, n_sub=5):
    rng = np.random.default_rng(seed)
    g = 40
    counts = rng.integers(0, 60, g)
    counts[::7] = counts[::7] // n_sub * n_sub  # some without a trailing incomplete subgroup
    counts[[4, 5, -1]] = 0  # empty characteristics, also at the end
    off = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
    nom = rng.uniform(10, 1000, g)
    nom[::9] = np.nan
    v = np.repeat(np.where(np.isnan(nom), 3.0, nom), counts) + rng.normal(0, 0.01, off[-1])
    v[off[10]:off[10] + 20] += 0.04  # a shift: rules and limits break
    v[off[12]:off[13]] = 7.0  # constant data: zero spread, no standardised points
    lsl = np.where(np.isnan(nom), 2.9, nom - 0.05)
    usl = np.where(np.isnan(nom), 3.1, nom + 0.05)
    usl[3] = np.nan
    return v, off, lsl, usl, nom


@pytest.mark.parametrize("n_sub", [1, 2, 5, 7])
@pytest.mark.parametrize("sigma_within", ["rbar", "sbar"])
def test_block_size_does_not_change_any_number(monkeypatch, n_sub, sigma_within):
    v, off, lsl, usl, nom = _table(n_sub, n_sub)
    kw = dict(subgroup_size=n_sub, lsl=lsl, usl=usl, nominal=nom, sigma_within=sigma_within)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        whole = batch_summary(v, off, **kw)
        for size in (1, 13, 200):
            monkeypatch.setattr(batch_mod, "_BLOCK_VALUES", size)
            assert_same(batch_summary(v, off, **kw), whole)
    assert whole.alarms.sum() > 0 and whole.n_values[4] == 0 and whole.last_alarm[4] == -1


def test_block_size_variable_subgroups(monkeypatch):
    v, off, lsl, usl, nom = _table(3)
    rng = np.random.default_rng(3)
    cuts = [off]
    for a, b in zip(off[:-1], off[1:], strict=True):
        cuts.append(np.cumsum(rng.integers(1, 7, b - a + 1)) + a)
    sub = np.unique(np.concatenate(cuts))
    sub = sub[sub <= off[-1]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        whole = batch_summary(v, off, subgroup_offsets=sub, lsl=lsl, usl=usl, nominal=nom)
        monkeypatch.setattr(batch_mod, "_BLOCK_VALUES", 9)
        assert_same(batch_summary(v, off, subgroup_offsets=sub, lsl=lsl, usl=usl, nominal=nom), whole)
        # all subgroups of one value: individuals, decided for the whole table, not per block
        ind = batch_summary(v, off, subgroup_offsets=np.arange(off[-1] + 1), rules="western_electric")
        monkeypatch.setattr(batch_mod, "_BLOCK_VALUES", 1 << 18)
        assert_same(ind, batch_summary(v, off, subgroup_size=1, rules="western_electric"))
    assert ind.settings["sigma_within"] == "mr"


def _cut(v, off, lsl, usl, nom, bounds):
    for c0, c1 in zip(bounds[:-1], bounds[1:], strict=True):
        a, b = off[c0], off[c1]
        yield v[a:b], off[c0:c1 + 1] - a, lsl[c0:c1], usl[c0:c1], nom[c0:c1]


@pytest.mark.parametrize("bounds", [[0, 40], [0, 1, 5, 6, 20, 39, 40], list(range(41))])
def test_streamed_blocks_equal_the_whole_table(bounds):
    v, off, lsl, usl, nom = _table(11)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        whole = batch_summary(v, off, subgroup_size=5, lsl=lsl, usl=usl, nominal=nom, rules="nelson")
        streamed = batch_summary_blocks(_cut(v, off, lsl, usl, nom, bounds), subgroup_size=5, rules="nelson")
    # last_alarm_value counts positions in the concatenated stream, i.e. in v
    assert_same(streamed, whole)
    hit = whole.last_alarm_value >= 0
    assert hit.any() and np.all(whole.last_alarm_value[hit] < off[1:][hit])


def test_streamed_blocks_bad_input_and_empty_stream():
    v, off, lsl, usl, nom = _table(2)
    with pytest.raises(InvalidInputError) as exc:
        batch_summary_blocks([(v, off)], subgroup_size=5)
    assert exc.value.details["argument"] == "blocks"
    with pytest.raises(InvalidInputError) as exc:
        batch_summary_blocks([(v, off + 1, None, None, None)], subgroup_size=5)
    assert exc.value.details["argument"] == "offsets"
    with pytest.raises(InvalidInputError) as exc:
        batch_summary_blocks([], subgroup_size=26)
    assert exc.value.details["argument"] == "subgroup_size"
    with pytest.raises(InvalidInputError) as exc:
        batch_summary_blocks([], subgroup_size=5, ci_level=1.5)
    assert exc.value.details["argument"] == "ci_level"
    empty = batch_summary_blocks(iter([]), subgroup_size=5)
    assert empty.n_values.size == 0 and empty.rule_counts.shape == (0, 8)


def test_characteristic_before_trailing_empty_ones_keeps_its_last_value():
    # reduceat indices clipped at the end once dropped the last value of the last non-empty group
    v = np.array([1.0, 2.0, 4.0, 3.0, 7.0, 5.0])
    b = batch_summary(v, np.array([0, 3, 6, 6, 6]), subgroup_size=1)
    assert b.mean[1] == pytest.approx(5.0, rel=1e-15)
    assert b.sigma_overall[1] == pytest.approx(2.0, rel=1e-15)
    assert np.isnan(b.mean[2:]).all() and b.n_values.tolist() == [3, 3, 0, 0]


def test_batch_capability_intervals_equal_scipy_stats():
    # the chi-square and normal quantiles come from scipy.special; check them against scipy.stats
    from scipy import stats

    mean, sw, so = np.array([0.1, 0.0]), np.array([1.0, 2.0]), np.array([1.1, 2.5])
    n, dfw = np.array([125, 30]), np.array([100.0, 29.0])
    lsl, usl = np.array([-4.0, -9.0]), np.array([4.0, 9.0])
    c = batch_capability(mean, sw, so, n, dfw, lsl, usl, ci_level=0.9)
    assert np.allclose(c.cp_lo, c.cp * np.sqrt(stats.chi2.ppf(0.05, dfw) / dfw), rtol=1e-14, atol=0)
    assert np.allclose(c.pp_hi, c.pp * np.sqrt(stats.chi2.ppf(0.95, n - 1) / (n - 1)), rtol=1e-14, atol=0)
    hk = stats.norm.ppf(0.95) * np.sqrt(1 / (9 * n) + c.cpk**2 / (2 * (n - 1)))
    assert np.allclose(c.cpk_lo, c.cpk - hk, rtol=1e-14, atol=0)


def test_importing_the_batch_form_does_not_load_scipy_stats():
    code = ("import sys; from jingce.kernels.spc import batch_summary, xbar_r, run_rules; "
            "assert 'scipy.stats' not in sys.modules, 'scipy.stats loaded'; "
            "from jingce.kernels.spc import hotelling_t2; from jingce.kernels.capability import capability, strategy; "
            "assert callable(strategy) and callable(capability) and 'scipy.stats' in sys.modules")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
