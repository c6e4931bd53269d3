"""Batch form: control limits, capability, run rules and last alarm for many characteristics at once.

The store and engine keep measurement values sorted by (characteristic, time); this module takes
those values with int64 offsets and returns one row per characteristic, with no Python loop per
characteristic (or per subgroup): every step is a numpy reduction over all characteristics.

The table is worked through in blocks of whole characteristics (about 2**18 values), so every
temporary is cache-sized and lives for one block; the run rules of a block are evaluated in one
fused pass over byte masks (:func:`jingce.kernels.spc.rules._last_flags`). The arithmetic is the
same, operation for operation, whatever the blocking, so the result does not depend on it (tested
bit for bit). :func:`batch_summary_blocks` takes a table streamed block by block (Parquet row
groups, a cursor) and never needs it whole.

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
from jingce.kernels.spc.rules import _last_flags, rule_set

__all__ = ["BatchSummary", "batch_summary", "batch_summary_blocks"]


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


# Values per block of whole characteristics. Every per-value and per-point temporary lives only for
# one block (a few MiB, cache-sized), so memory beyond the input stays small whatever the table size.
_BLOCK_VALUES = 1 << 18


class _Constants:
    """d2, d3, c4 indexed by subgroup size 0..25, filled for the sizes a call meets (size 1 uses
    the constants of 2, the moving range of two values)."""

    def __init__(self, kind: str, k: float):
        self.kind, self.k = kind, k
        self.d2, self.d3, self.c4 = (np.full(26, np.nan) for _ in range(3))
        self._have: set[int] = set()

    def need(self, sizes) -> _Constants:
        for nn in {int(x) for x in np.unique(sizes)} - self._have:
            cc = chart_constants(max(nn, 2), self.kind, self.k)
            self.d2[nn], self.d3[nn], self.c4[nn] = cc.d2, cc.d3, cc.c4
            self._have.add(nn)
        return self


def _grouped_mean_m2(x, off):
    """:func:`jingce.kernels._sums.grouped_mean_m2` on the non-empty groups only: there an empty
    group at the end would clip the reduceat index of the group before it and drop that group's
    last value."""
    counts = np.diff(off)
    ne = counts > 0
    if ne.all():
        return grouped_mean_m2(x, off)
    _, mean_ne, m2_ne = grouped_mean_m2(x, np.concatenate((off[:-1][ne], off[-1:])))
    mean, m2 = np.full(counts.size, np.nan), np.zeros(counts.size)
    mean[ne], m2[ne] = mean_ne, m2_ne
    return counts, mean, m2


def _per_char_mean(x, sub_char, g, m_per):
    """Mean per characteristic of the finite points (bincount: summed in point order)."""
    ok = np.isfinite(x)
    if ok.all():
        cnt = m_per
    else:
        x, sub_char = x[ok], sub_char[ok]
        cnt = np.bincount(sub_char, minlength=g)
    ssum = np.bincount(sub_char, weights=x, minlength=g)
    with np.errstate(invalid="ignore", divide="ignore"):
        return ssum / np.where(cnt > 0, cnt, np.nan), cnt


def _count_per(masks, heads, m_per):
    """Number of True per series in each row of ``masks`` (rows, n); series s owns the m_per[s]
    points from heads[s]. Returns shape (series, rows)."""
    out = np.zeros((m_per.size, masks.shape[0]), np.int64)
    ne = m_per > 0
    if masks.shape[1] and masks.shape[0]:
        out[ne] = np.add.reduceat(masks.view(np.uint8), heads[ne], axis=1, dtype=np.int32).T
    return out


def _summarise(v, off, nom, sub_off, n_sub, individuals, k, sigma_within, rs, cst):
    """Per-characteristic sums of one block of whole characteristics (``off`` and ``sub_off`` local
    to ``v``). Same arithmetic, operation for operation, as a whole-table pass: rows do not depend
    on the block they were computed in."""
    g = off.size - 1
    counts = np.diff(off)
    # deviations from the nominal (or the first value): keeps the digits of small spreads
    first = v[np.minimum(off[:-1], max(v.size - 1, 0))] if v.size else np.zeros(g)
    ref = np.where(np.isnan(nom), first, nom)
    ref = np.where(counts > 0, ref, 0.0)
    dev = v - np.repeat(ref, counts)
    cnt_all, mean_dev, m2 = _grouped_mean_m2(dev, off)
    with np.errstate(invalid="ignore", divide="ignore"):
        sigma_overall = np.sqrt(m2 / np.where(cnt_all > 1, cnt_all - 1, np.nan))

    # ---- plotted points: the statistic and dispersion of each subgroup
    fixed = sub_off is None
    if fixed:
        m_per = counts // n_sub
        sizes = n_sub
        if n_sub == 1:
            stat = dev
        else:
            tails = counts - m_per * n_sub
            if tails.any():  # drop each characteristic's trailing incomplete subgroup
                keep = np.ones(dev.size, bool)
                t_first = np.repeat(off[1:] - tails, tails)
                keep[t_first + np.arange(t_first.size) - np.repeat(np.cumsum(tails) - tails, tails)] = False
                block = dev[keep].reshape(-1, n_sub)
            else:
                block = dev.reshape(-1, n_sub)
            # column by column: the same sums, in the same order, as block.mean(axis=1)
            cols = [block[:, j] for j in range(n_sub)]
            tot = cols[0] + cols[1]
            hi_, lo_ = np.maximum(cols[0], cols[1]), np.minimum(cols[0], cols[1])
            for c in cols[2:]:
                tot += c
                np.maximum(hi_, c, out=hi_)
                np.minimum(lo_, c, out=lo_)
            stat = tot / n_sub
            if sigma_within == "rbar":
                disp = np.subtract(hi_, lo_, out=hi_)
            else:
                acc = None
                for c in cols:
                    d = c - stat
                    d *= d
                    acc = d if acc is None else np.add(acc, d, out=acc)
                disp = np.sqrt(acc / (n_sub - 1))
            del block, cols, tot, lo_
        n_s = int(m_per.sum())
        sub_char = np.repeat(np.arange(g), m_per)
    else:
        starts = sub_off[:-1]
        sizes = np.diff(sub_off)
        sub_char = np.searchsorted(off, starts, side="right") - 1
        m_per = np.bincount(sub_char, minlength=g).astype(np.int64)
        n_s = starts.size
        if individuals:
            stat = dev[starts]
        else:
            tot = np.add.reduceat(dev, starts) if v.size else np.zeros(0)
            stat = tot / sizes
            if sigma_within == "rbar":
                disp = np.maximum.reduceat(dev, starts) - np.minimum.reduceat(dev, starts)
            else:
                dd = dev - np.repeat(stat, sizes)
                with np.errstate(invalid="ignore", divide="ignore"):
                    disp = np.sqrt(np.add.reduceat(dd * dd, starts) / np.where(sizes > 1, sizes - 1, np.nan))
    sub_first = np.concatenate(([0], np.cumsum(m_per))).astype(np.int64)
    heads = sub_first[:-1]
    if individuals:
        # moving ranges inside each characteristic
        disp = np.full(n_s, np.nan)
        if n_s > 1:
            np.abs(np.diff(stat), out=disp[1:])
        disp[heads[m_per > 0]] = np.nan
    del dev

    # ---- sigma within and the units of the dispersion panel
    grand_dev, _ = _per_char_mean(stat, sub_char, g, m_per)
    if individuals:
        mr_bar, n_mr = _per_char_mean(disp, sub_char, g, m_per)
        sw = mr_bar / cst.d2[2]
        df_w = n_mr.astype(float)
        unit, disp_sd_unit, se_unit = cst.d2[2], cst.d3[2], 1.0
    else:
        if sigma_within == "rbar":
            sw, _ = _per_char_mean(disp / cst.d2[sizes], sub_char, g, m_per)
            unit, disp_sd_unit = cst.d2[sizes], cst.d3[sizes]
        else:
            sw, _ = _per_char_mean(disp / cst.c4[sizes], sub_char, g, m_per)
            unit, disp_sd_unit = cst.c4[sizes], np.sqrt(1 - cst.c4[sizes] ** 2)
        if fixed:
            df_w = m_per * (n_sub - 1.0)  # the exact integer a per-subgroup sum gives
            se_unit = 1 / np.sqrt(n_sub)
        else:
            df_w = np.bincount(sub_char, weights=sizes - 1.0, minlength=g)
            se_unit = 1 / np.sqrt(sizes)

    # ---- limits at every point. With one subgroup size per characteristic (always, unless
    # explicit variable subgroups) they are per-characteristic numbers, spread over the points.
    per_point = not np.isscalar(se_unit)
    sw_p = sw[sub_char] if per_point else sw
    half = k * sw_p * se_unit
    d_c = unit * sw_p
    d_k = k * disp_sd_unit * sw_p
    d_lcl = np.maximum(d_c - d_k, 0.0)
    d_ucl = d_c + d_k
    centre = grand_dev[sub_char] if per_point else grand_dev
    c_hi, c_lo = centre + half, centre - half
    scale = sw_p * se_unit
    with np.errstate(invalid="ignore"):
        scale = np.where(sw_p > 0, scale, np.nan)  # zero or undefined spread: no standardised points
    if not per_point:
        c_hi, c_lo, d_lcl, d_ucl, scale, centre = (
            np.repeat(a, m_per) for a in (c_hi, c_lo, d_lcl, d_ucl, scale, centre))
    beyond_pt = (stat > c_hi) | (stat < c_lo)
    with np.errstate(invalid="ignore"):
        beyond_d = np.isfinite(disp) & ((disp > d_ucl) | (disp < d_lcl))
    with np.errstate(invalid="ignore", divide="ignore"):
        z = (stat - centre) / scale
    del c_hi, c_lo, d_lcl, d_ucl, scale, centre

    flags = _last_flags(z, rs, heads)
    alarm_pt = flags.any(axis=0) | beyond_d if rs else beyond_pt | beyond_d
    counts_pt = _count_per(np.vstack((flags, beyond_pt, beyond_d, alarm_pt)), heads, m_per)
    rule_counts = counts_pt[:, :len(rs)]
    beyond, beyond_disp, alarms = counts_pt[:, len(rs)], counts_pt[:, len(rs) + 1], counts_pt[:, len(rs) + 2]
    idx = np.flatnonzero(alarm_pt)
    # last alarm per characteristic: the largest alarming point index below the next one's start
    hi_i = np.searchsorted(idx, sub_first[1:])
    has = alarms > 0
    last_pos = np.where(has, idx[np.maximum(hi_i - 1, 0)] if idx.size else 0, -1)
    last_alarm = np.where(has, last_pos - heads, -1)
    if fixed:  # value index of the last value of that point
        last_val = np.where(has, off[:-1] + last_alarm * n_sub + (n_sub - 1), -1)
    else:
        last_val = np.where(has, (sub_off[1:] - 1)[np.maximum(last_pos, 0)] if n_s else -1, -1)
    return {
        "counts": counts.astype(np.int64), "cnt_all": cnt_all, "ref": ref, "mean": mean_dev + ref,
        "sigma_overall": sigma_overall, "sw": sw, "df_w": df_w, "grand_dev": grand_dev, "m_per": m_per,
        "size_sum": (m_per * float(n_sub) if fixed else np.bincount(sub_char, weights=sizes.astype(float),
                                                                     minlength=g)),
        "beyond": beyond, "beyond_disp": beyond_disp,
        "rule_counts": rule_counts, "alarms": alarms, "last_alarm": last_alarm, "last_alarm_value": last_val,
    }


def _blocks(off, size):
    """Runs of whole characteristics holding about ``size`` values (at least one characteristic)."""
    g = off.size - 1
    c0 = 0
    while c0 < g:
        c1 = int(np.searchsorted(off, off[c0] + size, side="right")) - 1
        c1 = min(max(c1, c0 + 1), g)
        yield c0, c1
        c0 = c1


def _summarise_table(v, off, nom, sub_off, n_sub, individuals, k, sigma_within, rs, cst, base=0):
    """Block by block over a validated table; ``base`` is added to value positions."""
    parts = []
    for c0, c1 in _blocks(off, _BLOCK_VALUES):
        a, b = off[c0], off[c1]
        sub = None
        if sub_off is not None:
            i0, i1 = np.searchsorted(sub_off, [a, b])
            sub = sub_off[i0:i1 + 1] - a
        p = _summarise(v[a:b], off[c0:c1 + 1] - a, nom[c0:c1], sub, n_sub, individuals, k, sigma_within, rs, cst)
        p["last_alarm_value"] = np.where(p["last_alarm_value"] >= 0, p["last_alarm_value"] + (base + a), -1)
        parts.append(p)
    return parts


def _finish(parts, g, lo, hi, nom, individuals, k, constants, sigma_within, lvl, rs, cst, n_rules):
    if parts:
        c = {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}
    else:  # no characteristics
        c = {key: np.zeros(0) for key in ("counts", "cnt_all", "ref", "mean", "sigma_overall", "sw", "df_w",
                                           "grand_dev", "m_per", "size_sum", "beyond", "beyond_disp", "alarms",
                                           "last_alarm", "last_alarm_value")}
        c["rule_counts"] = np.zeros((0, n_rules), np.int64)
    m_per, sw, mean = c["m_per"].astype(np.int64), c["sw"], c["mean"]
    with np.errstate(invalid="ignore", divide="ignore"):
        nbar = c["size_sum"] / np.where(m_per > 0, m_per, np.nan)
    nb_int = np.clip(np.rint(np.nan_to_num(nbar, nan=1)).astype(int), 1, 25)
    cst.need(nb_int)
    d2, d3, c4 = cst.d2, cst.d3, cst.c4
    se_c = 1 / np.sqrt(nb_int) if not individuals else np.ones(g)
    if individuals:
        u_c, sd_c = np.full(g, d2[2]), np.full(g, d3[2])
    elif sigma_within == "rbar":
        u_c, sd_c = d2[nb_int], d3[nb_int]
    else:
        u_c, sd_c = c4[nb_int], np.sqrt(1 - c4[nb_int] ** 2)
    center = c["grand_dev"] + c["ref"]
    cap = batch_capability(mean, sw, c["sigma_overall"], c["cnt_all"], c["df_w"], lo, hi,
                           np.where(np.isnan(nom), np.nan, nom), lvl)
    i64 = np.int64
    return BatchSummary(
        n_values=c["counts"].astype(i64), n_subgroups=m_per, subgroup_size=nbar,
        mean=mean, sigma_overall=c["sigma_overall"], sigma_within=sw,
        center=center, lcl=center - k * sw * se_c, ucl=center + k * sw * se_c,
        disp_center=u_c * sw, disp_lcl=np.maximum((u_c - k * sd_c) * sw, 0.0), disp_ucl=(u_c + k * sd_c) * sw,
        beyond=c["beyond"].astype(i64), beyond_disp=c["beyond_disp"].astype(i64),
        rule_names=tuple(r.name for r in rs), rule_counts=c["rule_counts"].astype(i64), alarms=c["alarms"].astype(i64),
        last_alarm=c["last_alarm"].astype(i64), last_alarm_value=c["last_alarm_value"].astype(i64),
        cp=cap.cp, cpk=cap.cpk, cpl=cap.cpl, cpu=cap.cpu, pp=cap.pp, ppk=cap.ppk, ppl=cap.ppl, ppu=cap.ppu,
        cpm=cap.cpm, cp_lo=cap.cp_lo, cp_hi=cap.cp_hi, cpk_lo=cap.cpk_lo, cpk_hi=cap.cpk_hi,
        pp_lo=cap.pp_lo, pp_hi=cap.pp_hi, ppk_lo=cap.ppk_lo, ppk_hi=cap.ppk_hi,
        ppm_within=cap.ppm_within, ppm_overall=cap.ppm_overall,
        settings={"k": k, "constants": constants, "sigma_within": "mr" if individuals else sigma_within,
                  "ci_level": lvl, "rules": [r.name for r in rs]},
    )


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

    The table is worked through in blocks of whole characteristics (about 2**18 values each), so
    the memory needed beyond the input is a few MiB plus the result rows. Tables that do not fit
    in memory at once can be streamed with :func:`batch_summary_blocks`.

    References
    ----------
    ISO 7870-2:2013 Table 3; ISO 22514-4:2016; Montgomery (2009) sections 6.2-6.4, 8.3; Nelson (1984).
    """
    v, off, n_sub, sub_off, lo, hi, nom, k, lvl = _batch_iv(
        values, offsets, subgroup_size, subgroup_offsets, lsl, usl, nominal, k, constants, sigma_within, ci_level)
    rs = tuple(r for r in rule_set(rules, params=rule_params) if r.enabled)
    if sub_off is not None:
        sizes = np.diff(sub_off)
        individuals = bool(np.all(sizes == 1))
    else:
        sizes = np.array([n_sub])
        individuals = n_sub == 1
    cst = _Constants(constants, k).need([2] if individuals else sizes)  # individuals: moving ranges of 2
    parts = _summarise_table(v, off, nom, sub_off, n_sub, individuals, k, sigma_within, rs, cst)
    return _finish(parts, off.size - 1, lo, hi, nom, individuals, k, constants, sigma_within, lvl, rs, cst, len(rs))


def batch_summary_blocks(blocks, *, subgroup_size, k=3.0, constants="exact", sigma_within="rbar", rules="nelson",
                         rule_params=None, ci_level=0.95):
    """:func:`batch_summary` over a table streamed in blocks of whole characteristics.

    For tables read piece by piece (Parquet row groups, a database cursor): only one block needs
    to be in memory at a time. The result is the one :func:`batch_summary` gives on the
    concatenated table, since every row depends on its own characteristic only.

    Parameters
    ----------
    blocks : iterable of (values, offsets, lsl, usl, nominal)
        Each block as the arguments of :func:`batch_summary`: values sorted by (characteristic,
        time), int64 offsets local to the block (starting at 0), and per-characteristic ``lsl``,
        ``usl``, ``nominal`` (arrays, or None for all NaN). A characteristic must lie wholly in one
        block; the rows come out in block order.
    subgroup_size : int
        Fixed subgroup size (1..25) as in :func:`batch_summary` (explicit subgroup offsets are not
        streamed).
    k, constants, sigma_within, rules, rule_params, ci_level
        As in :func:`batch_summary`.

    Returns
    -------
    BatchSummary
        ``last_alarm_value`` counts positions in the concatenation of all blocks' values.

    References
    ----------
    ISO 7870-2:2013 Table 3; ISO 22514-4:2016; Nelson (1984).
    """
    rs = tuple(r for r in rule_set(rules, params=rule_params) if r.enabled)
    n_sub = as_int(subgroup_size, "subgroup_size", lo=1, hi=25)
    k_ = as_float(k, "k", positive=True)
    cst = _Constants(constants, k_).need([max(n_sub, 2)]) if constants in ("exact", "tabled") else None
    parts, los, his, noms = [], [], [], []
    base = 0
    lvl = ci_level
    for i, blk in enumerate(blocks):
        try:
            values, offsets, lsl, usl, nominal = blk
        except (TypeError, ValueError):
            raise fail("blocks", f"block {i} must be a tuple (values, offsets, lsl, usl, nominal)") from None
        v, off, _, _, lo, hi, nom, k_, lvl = _batch_iv(
            values, offsets, n_sub, None, lsl, usl, nominal, k, constants, sigma_within, ci_level)
        parts += _summarise_table(v, off, nom, None, n_sub, n_sub == 1, k_, sigma_within, rs, cst, base)
        los.append(lo)
        his.append(hi)
        noms.append(nom)
        base += v.size
    if not los:  # validate the settings even for an empty stream
        _, _, _, _, _, _, _, k_, lvl = _batch_iv(np.zeros(0), np.zeros(1, np.int64), n_sub, None, None, None, None,
                                                k, constants, sigma_within, ci_level)
    cat = (lambda xs: np.concatenate(xs)) if los else (lambda xs: np.zeros(0))
    return _finish(parts, sum(p["counts"].size for p in parts), cat(los), cat(his), cat(noms), n_sub == 1, k_,
                   constants, sigma_within, lvl, rs, cst, len(rs))
