"""Batch form: control limits, capability, run rules and last alarm for many characteristics at once.

The store and engine keep measurement values sorted by (characteristic, time); this module takes
those values with int64 offsets and returns one row per characteristic, with no Python loop per
characteristic (or per subgroup): every step is a numpy reduction over all characteristics.

References
----------
.. [1] ISO 7870-2:2013 (limits), ISO 22514-4:2016 (indices), Nelson (1984) (run rules).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from jingce.kernels._sums import grouped_mean_m2
from jingce.kernels._validation import as_float, as_int, fail, group_offsets, one_of
from jingce.kernels.capability.batch import batch_capability
from jingce.kernels.spc.constants import chart_constants
from jingce.kernels.spc.rules import evaluate, rule_set

__all__ = ["BatchSummary", "batch_summary"]


@dataclass(frozen=True, slots=True)
class BatchSummary:
    """One row per characteristic (every array has shape (g,) unless stated).

    Attributes
    ----------
    n_values, n_subgroups : ndarray of int64
        Values of the characteristic and complete subgroups used for the chart (with a fixed
        ``subgroup_size`` a trailing incomplete subgroup is not charted; ``n_values`` counts all).
    subgroup_size : ndarray of float
        Subgroup size (mean size with variable subgroups; 1 for individuals).
    mean, sigma_overall : ndarray
        Mean and sample standard deviation of all values.
    sigma_within : ndarray
        R-bar/d2 (``sigma_within="rbar"``), s-bar/c4 (``"sbar"``), or MR-bar/d2 for individuals.
    center, lcl, ucl : ndarray
        Centre line and limits of the X-bar (or individuals) panel, for the characteristic's
        (mean) subgroup size.
    disp_center, disp_lcl, disp_ucl : ndarray
        The same for the dispersion panel (R, s or moving range).
    beyond, beyond_disp : ndarray of int64
        Points strictly beyond the limits on each panel.
    rule_names : tuple of str
    rule_counts : ndarray of int64, shape (g, len(rule_names))
        Points of the location panel breaking each rule.
    alarms : ndarray of int64
        Points breaking any rule or beyond a dispersion limit.
    last_alarm : ndarray of int64
        Index (0-based, among the characteristic's plotted points) of the last alarm, -1 if none.
    last_alarm_value : ndarray of int64
        Position in ``values`` of the last value of that point (-1 if none), to look up its time.
    cp, cpk, cpl, cpu, pp, ppk, ppl, ppu, cpm : ndarray
    cp_lo, cp_hi, cpk_lo, cpk_hi, pp_lo, pp_hi, ppk_lo, ppk_hi : ndarray
    ppm_within, ppm_overall : ndarray
    settings : dict
        The conventions used (k, constants, sigma_within, ci_level, rules).
    """

    n_values: np.ndarray
    n_subgroups: np.ndarray
    subgroup_size: np.ndarray
    mean: np.ndarray
    sigma_overall: np.ndarray
    sigma_within: np.ndarray
    center: np.ndarray
    lcl: np.ndarray
    ucl: np.ndarray
    disp_center: np.ndarray
    disp_lcl: np.ndarray
    disp_ucl: np.ndarray
    beyond: np.ndarray
    beyond_disp: np.ndarray
    rule_names: tuple
    rule_counts: np.ndarray
    alarms: np.ndarray
    last_alarm: np.ndarray
    last_alarm_value: np.ndarray
    cp: np.ndarray
    cpk: np.ndarray
    cpl: np.ndarray
    cpu: np.ndarray
    pp: np.ndarray
    ppk: np.ndarray
    ppl: np.ndarray
    ppu: np.ndarray
    cpm: np.ndarray
    cp_lo: np.ndarray
    cp_hi: np.ndarray
    cpk_lo: np.ndarray
    cpk_hi: np.ndarray
    pp_lo: np.ndarray
    pp_hi: np.ndarray
    ppk_lo: np.ndarray
    ppk_hi: np.ndarray
    ppm_within: np.ndarray
    ppm_overall: np.ndarray
    settings: dict


def _per_char(arr, g):
    a = np.asarray(arr, dtype=float) if arr is not None else np.full(g, np.nan)
    return a


def _batch_iv(values, offsets, subgroup_size, subgroup_offsets, lsl, usl, nominal, k, constants, sigma_within,
              ci_level):
    v = np.asarray(values)
    if v.ndim != 1 or not np.issubdtype(v.dtype, np.number):
        raise fail("values", "must be a 1-D numeric array")
    v = v.astype(np.float64, copy=False)
    if not np.isfinite(v).all():
        raise fail("values", f"must be finite; first bad value at index {int(np.flatnonzero(~np.isfinite(v))[0])}")
    off = group_offsets(offsets, v.size, "offsets")
    g = off.size - 1
    if (subgroup_size is None) == (subgroup_offsets is None):
        raise fail("subgroup_size", "give exactly one of subgroup_size and subgroup_offsets")
    sub_off = None
    if subgroup_offsets is not None:
        sub_off = group_offsets(subgroup_offsets, v.size, "subgroup_offsets")
        if np.any(np.diff(sub_off) == 0):
            raise fail("subgroup_offsets", "must not contain empty subgroups")
        if not np.isin(off, sub_off).all():
            raise fail("subgroup_offsets", "must contain every characteristic boundary of offsets")
        sizes = np.diff(sub_off)
        if sizes.max() > 25:
            raise fail("subgroup_offsets", f"subgroup sizes must be in 1..25, got {int(sizes.max())}")
        n_sub = None
    else:
        n_sub = as_int(subgroup_size, "subgroup_size", lo=1, hi=25)
    limits = []
    for name, arr in (("lsl", lsl), ("usl", usl), ("nominal", nominal)):
        a = np.full(g, np.nan) if arr is None else np.asarray(arr, dtype=np.float64)
        if a.shape != (g,):
            raise fail(name, f"must hold one value per characteristic ({g}), NaN where absent; got shape {a.shape}")
        if np.isinf(a).any():
            raise fail(name, "must be finite or NaN")
        limits.append(a)
    lo, hi, nom = limits
    with np.errstate(invalid="ignore"):
        bad = lo >= hi
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise fail("lsl", f"must be < usl; characteristic {i} has lsl={lo[i]} >= usl={hi[i]}")
    one_of(constants, "constants", ("exact", "tabled"))
    one_of(sigma_within, "sigma_within", ("rbar", "sbar"))
    k = as_float(k, "k", positive=True)
    lvl = as_float(ci_level, "ci_level")
    if not 0 < lvl < 1:
        raise fail("ci_level", f"must be strictly between 0 and 1, got {lvl}")
    return v, off, n_sub, sub_off, lo, hi, nom, k, lvl


def batch_summary(values, offsets, *, subgroup_size=None, subgroup_offsets=None, lsl=None, usl=None, nominal=None,
                  k=3.0, constants="exact", sigma_within="rbar", rules="nelson", rule_params=None, ci_level=0.95):
    """Control chart limits, capability with intervals, run-rule counts and last alarm for every
    characteristic of a sorted table.

    Parameters
    ----------
    values : ndarray of float64, shape (N,)
        All measured values, sorted by (characteristic, time). Finite.
    offsets : ndarray of int64, shape (g + 1,)
        Characteristic c owns ``values[offsets[c]:offsets[c + 1]]``; ``offsets[0] == 0``,
        ``offsets[-1] == N``, non-decreasing (an empty characteristic gives a row of NaN).
    subgroup_size : int, optional
        Subgroups of this many consecutive values (1..25) within each characteristic; 1 means
        individuals (I-MR chart). A trailing incomplete subgroup is not charted (but enters the
        overall statistics and Pp/Ppk).
    subgroup_offsets : ndarray of int64, shape (S + 1,), optional
        Instead of ``subgroup_size``: explicit subgroup boundaries over ``values`` (sizes 1..25),
        containing every boundary in ``offsets``. Variable sizes give per-point limits
        x-double-bar -+ k sigma / sqrt(n_j); the reported limits use the mean size.
    lsl, usl, nominal : ndarray of float64, shape (g,), optional
        Specification limits and nominal per characteristic, NaN where absent. Statistics are
        computed on deviations from ``nominal`` (from the first value where NaN).
    k : float
        Control limit width (3).
    constants : {"exact", "tabled"}
    sigma_within : {"rbar", "sbar"}
        Within-subgroup sigma of subgrouped characteristics (individuals always use MR-bar/d2).
    rules : str or sequence
        Run-rule set applied to the location panel (``"nelson"``, ``"western_electric"``, ``"none"``
        or custom rules, see :func:`jingce.kernels.spc.rule_set`).
    rule_params : mapping, optional
        Overrides of rule parameters.
    ci_level : float

    Returns
    -------
    BatchSummary

    Notes
    -----
    Limits are phase I (estimated from all of each characteristic's subgroups). Capability uses
    the normal model; the non-normal methods of ISO 22514-2 need a fit per characteristic and are
    available one characteristic at a time in :func:`jingce.kernels.capability.capability`.

    References
    ----------
    ISO 7870-2:2013 Table 3; ISO 22514-4:2016; Montgomery (2009) sections 6.2-6.4, 8.3; Nelson (1984).
    """
    v, off, n_sub, sub_off, lo, hi, nom, k, lvl = _batch_iv(
        values, offsets, subgroup_size, subgroup_offsets, lsl, usl, nominal, k, constants, sigma_within, ci_level)
    g = off.size - 1
    counts = np.diff(off)
    rs = tuple(r for r in rule_set(rules, params=rule_params) if r.enabled)
    # deviations from the nominal (or the first value): keeps the digits of small spreads
    first = v[np.minimum(off[:-1], max(v.size - 1, 0))] if v.size else np.zeros(g)
    ref = np.where(np.isnan(nom), first, nom)
    ref = np.where(counts > 0, ref, 0.0)
    dev = v - np.repeat(ref, counts)

    cnt_all, mean_dev, m2 = grouped_mean_m2(dev, off)
    with np.errstate(invalid="ignore", divide="ignore"):
        sigma_overall = np.sqrt(m2 / np.where(cnt_all > 1, cnt_all - 1, np.nan))
    mean = mean_dev + ref

    # ---- subgroups: start offsets, owning characteristic, sizes
    if sub_off is not None:
        starts = sub_off[:-1]
        sizes = np.diff(sub_off)
        sub_char = np.searchsorted(off, starts, side="right") - 1
    else:
        m_per = counts // n_sub
        sub_char = np.repeat(np.arange(g), m_per)
        first_sub = np.concatenate(([0], np.cumsum(m_per)))
        local = np.arange(sub_char.size) - first_sub[:-1][sub_char]
        starts = off[:-1][sub_char] + local * n_sub
        sizes = np.full(starts.size, n_sub, dtype=np.int64)
    n_s = starts.size
    m_per = np.bincount(sub_char, minlength=g).astype(np.int64)
    sub_first = np.concatenate(([0], np.cumsum(m_per))).astype(np.int64)
    individuals = (sub_off is None and n_sub == 1) or (sub_off is not None and bool(np.all(sizes == 1)))

    if individuals:
        stat = dev[starts] if sub_off is not None else dev[starts]
        last_val = starts
        # moving ranges inside each characteristic
        mr = np.full(n_s, np.nan)
        if n_s > 1:
            mr[1:] = np.abs(np.diff(stat))
        mr[sub_first[:-1][m_per > 0]] = np.nan
        disp = mr
    else:
        if sub_off is None and n_sub > 1:
            if counts.sum() == n_s * n_sub and np.all(counts % n_sub == 0):
                block = dev.reshape(-1, n_sub)
            else:
                block = dev[starts[:, None] + np.arange(n_sub)]
            sub_mean = block.mean(axis=1)
            r = block.max(axis=1) - block.min(axis=1)
            s = np.sqrt(((block - sub_mean[:, None]) ** 2).sum(axis=1) / (n_sub - 1))
            del block
        else:
            idx = starts
            tot = np.add.reduceat(dev, idx) if v.size else np.zeros(0)
            sub_mean = tot / sizes
            r = np.maximum.reduceat(dev, idx) - np.minimum.reduceat(dev, idx)
            dd = dev - np.repeat(sub_mean, sizes)
            with np.errstate(invalid="ignore", divide="ignore"):
                s = np.sqrt(np.add.reduceat(dd * dd, idx) / np.where(sizes > 1, sizes - 1, np.nan))
        stat = sub_mean
        last_val = starts + sizes - 1
        disp = r if sigma_within == "rbar" else s

    # ---- constants per subgroup size (sizes 1..25; size 1 uses the moving range of 2)
    tab = {nn: chart_constants(max(nn, 2), constants, k) for nn in range(1, 26)}
    d2 = np.array([np.nan] + [tab[i].d2 for i in range(1, 26)])
    c4 = np.array([np.nan] + [tab[i].c4 for i in range(1, 26)])
    d3 = np.array([np.nan] + [tab[i].d3 for i in range(1, 26)])

    def per_char_mean(x):
        ok = np.isfinite(x)
        ssum = np.bincount(sub_char[ok], weights=x[ok], minlength=g)
        cnt = np.bincount(sub_char[ok], minlength=g)
        with np.errstate(invalid="ignore", divide="ignore"):
            return ssum / np.where(cnt > 0, cnt, np.nan), cnt

    grand_dev, _ = per_char_mean(stat)
    if individuals:
        mr_bar, n_mr = per_char_mean(disp)
        sw = mr_bar / d2[2]
        df_w = n_mr.astype(float)
        unit = d2[2] * np.ones(n_s)  # disp expected value per sigma
        disp_sd_unit = d3[2] * np.ones(n_s)
        se_unit = np.ones(n_s)
    else:
        if sigma_within == "rbar":
            ratio, _ = per_char_mean(disp / d2[sizes])
            unit, disp_sd_unit = d2[sizes], d3[sizes]
        else:
            ratio, _ = per_char_mean(disp / c4[sizes])
            unit, disp_sd_unit = c4[sizes], np.sqrt(1 - c4[sizes] ** 2)
        sw = ratio
        df_w = np.bincount(sub_char, weights=sizes - 1.0, minlength=g)
        se_unit = 1 / np.sqrt(sizes)

    # per-point limits
    sw_pt = sw[sub_char]
    centre_pt = grand_dev[sub_char]
    half = k * sw_pt * se_unit
    beyond_pt = (stat > centre_pt + half) | (stat < centre_pt - half)
    d_c = unit * sw_pt
    d_lcl = np.maximum(d_c - k * disp_sd_unit * sw_pt, 0.0)
    d_ucl = d_c + k * disp_sd_unit * sw_pt
    with np.errstate(invalid="ignore"):
        beyond_d = np.isfinite(disp) & ((disp > d_ucl) | (disp < d_lcl))

    seg_start = sub_first[:-1][sub_char]
    with np.errstate(invalid="ignore", divide="ignore"):
        z = (stat - centre_pt) / (sw_pt * se_unit)
    z = np.where(sw_pt > 0, z, np.nan)
    flags = evaluate(z, rs, seg_start, "last") if rs else np.zeros((0, n_s), bool)
    rule_counts = np.stack([np.bincount(sub_char, weights=f, minlength=g) for f in flags], axis=1).astype(np.int64) \
        if rs else np.zeros((g, 0), np.int64)
    alarm_pt = flags.any(axis=0) | beyond_d if rs else beyond_pt | beyond_d
    alarms = np.bincount(sub_char, weights=alarm_pt, minlength=g).astype(np.int64)
    # last alarm per characteristic: the largest alarming point index of each group
    pos = np.where(alarm_pt, np.arange(n_s), -1)
    last_pos = np.full(g, -1, dtype=np.int64)
    np.maximum.at(last_pos, sub_char, pos) if n_s else None
    last_alarm = np.where(last_pos >= 0, last_pos - sub_first[:-1], -1)
    last_alarm_value = np.where(last_pos >= 0, last_val[np.maximum(last_pos, 0)] if n_s else -1, -1)

    nbar = np.bincount(sub_char, weights=sizes.astype(float), minlength=g) / np.where(m_per > 0, m_per, np.nan)
    nb_int = np.clip(np.rint(np.nan_to_num(nbar, nan=1)).astype(int), 1, 25)
    se_c = 1 / np.sqrt(nb_int) if not individuals else np.ones(g)
    if individuals:
        u_c, sd_c = np.full(g, d2[2]), np.full(g, d3[2])
    elif sigma_within == "rbar":
        u_c, sd_c = d2[nb_int], d3[nb_int]
    else:
        u_c, sd_c = c4[nb_int], np.sqrt(1 - c4[nb_int] ** 2)
    center = grand_dev + ref
    cap = batch_capability(mean, sw, sigma_overall, cnt_all, df_w, lo, hi, np.where(np.isnan(nom), np.nan, nom), lvl)
    return BatchSummary(
        n_values=counts.astype(np.int64), n_subgroups=m_per, subgroup_size=nbar,
        mean=mean, sigma_overall=sigma_overall, sigma_within=sw,
        center=center, lcl=center - k * sw * se_c, ucl=center + k * sw * se_c,
        disp_center=u_c * sw, disp_lcl=np.maximum((u_c - k * sd_c) * sw, 0.0), disp_ucl=(u_c + k * sd_c) * sw,
        beyond=np.bincount(sub_char, weights=beyond_pt, minlength=g).astype(np.int64),
        beyond_disp=np.bincount(sub_char, weights=beyond_d, minlength=g).astype(np.int64),
        rule_names=tuple(r.name for r in rs), rule_counts=rule_counts, alarms=alarms,
        last_alarm=last_alarm.astype(np.int64), last_alarm_value=np.asarray(last_alarm_value, np.int64),
        cp=cap.cp, cpk=cap.cpk, cpl=cap.cpl, cpu=cap.cpu, pp=cap.pp, ppk=cap.ppk, ppl=cap.ppl, ppu=cap.ppu,
        cpm=cap.cpm, cp_lo=cap.cp_lo, cp_hi=cap.cp_hi, cpk_lo=cap.cpk_lo, cpk_hi=cap.cpk_hi,
        pp_lo=cap.pp_lo, pp_hi=cap.pp_hi, ppk_lo=cap.ppk_lo, ppk_hi=cap.ppk_hi,
        ppm_within=cap.ppm_within, ppm_overall=cap.ppm_overall,
        settings={"k": k, "constants": constants, "sigma_within": "mr" if individuals else sigma_within,
                  "ci_level": lvl, "rules": [r.name for r in rs]},
    )
