"""The per-partition functions every engine runs: sorted lake rows in, summary rows out.

An engine delivers lake rows sorted by (enterprise, characteristic, time) in Arrow record batches
(DuckDB locally, ``mapInArrow`` on Spark). :class:`SortedBlocks` checks that order as the batches
stream in and cuts the stream into blocks of whole characteristics; :func:`analyse_block` runs the
numpy batch kernels on a block. Every output row depends on its own characteristic only, so the
rows do not depend on how the stream was cut: every engine gives the same numbers.

Statistics are computed on deviations from a reference (the characteristic's nominal, or its
first value where it has none) with two-pass sums (:func:`jingce.kernels._sums.grouped_mean_m2`),
so that daily and subgroup sums can be combined later without losing digits (Chan, Golub and
LeVeque 1983).

Input columns (:data:`INPUT_COLUMNS`): ``enterprise_id``, ``product_id``, ``characteristic_id``,
``measured_at`` (UTC), ``local_us`` (local wall-clock time as microseconds since 1970, giving the
plant's day), ``value``, ``nominal``, ``lower_limit``, ``upper_limit``. Rows with a non-finite
value are left out (the store's ingest never writes them, other writers might).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from jingce.engine.base import AnalysisParams, StreamOrderError
from jingce.kernels._sums import grouped_mean_m2
from jingce.kernels.spc import batch_summary

INPUT_COLUMNS = ("enterprise_id", "product_id", "characteristic_id", "measured_at", "local_us", "value", "nominal",
                 "lower_limit", "upper_limit")
SORT_KEYS = ("enterprise_id", "characteristic_id", "measured_at")
"""The order of the stream (ties in time broken by the position in the source, which is not needed here)."""

US_PER_DAY = 86_400_000_000
TS = pa.timestamp("us", tz="UTC")
_IDS = [pa.field("enterprise_id", pa.int32()), pa.field("product_id", pa.int32()),
        pa.field("characteristic_id", pa.int32())]

CHARACTERISTIC_SCHEMA = pa.schema(_IDS + [
    pa.field("lower_limit", pa.float64()), pa.field("upper_limit", pa.float64()), pa.field("nominal", pa.float64()),
    pa.field("out_of_spec", pa.int64()), pa.field("n_values", pa.int64()), pa.field("n_subgroups", pa.int64()),
    pa.field("mean", pa.float64()), pa.field("sigma_overall", pa.float64()), pa.field("sigma_within", pa.float64()),
    pa.field("center", pa.float64()), pa.field("lcl", pa.float64()), pa.field("ucl", pa.float64()),
    pa.field("beyond", pa.int64()), pa.field("alarms", pa.int64()), pa.field("last_alarm", pa.int64()),
    pa.field("last_alarm_at", TS), pa.field("first_at", TS), pa.field("last_at", TS),
    pa.field("cp", pa.float64()), pa.field("cpk", pa.float64()), pa.field("pp", pa.float64()),
    pa.field("ppk", pa.float64()), pa.field("cpm", pa.float64()), pa.field("cpk_lo", pa.float64()),
    pa.field("cpk_hi", pa.float64()), pa.field("ppk_lo", pa.float64()), pa.field("ppk_hi", pa.float64()),
    pa.field("ppm_within", pa.float64()), pa.field("ppm_overall", pa.float64()),
])
"""The region quality summary: one row per characteristic (fields as in
:class:`jingce.kernels.spc.BatchSummary`; ``out_of_spec`` counts values outside the
characteristic's latest limits; ``last_alarm_at`` is the time of the last value of the last
alarming point)."""

SUBGROUP_SCHEMA = pa.schema(_IDS + [
    pa.field("subgroup", pa.int64()), pa.field("size", pa.int32()), pa.field("n", pa.int32()),
    pa.field("first_at", TS), pa.field("last_at", TS),
    pa.field("ref", pa.float64()), pa.field("mean_dev", pa.float64()), pa.field("m2", pa.float64()),
    pa.field("range", pa.float64()),
])
"""One row per subgroup of ``subgroup_size`` consecutive values of a characteristic (the points of
its X-bar/R chart; the last subgroup may be incomplete: ``n`` < ``size``). ``mean = ref + mean_dev``;
``m2`` is the sum of squared deviations from the subgroup mean; ``range`` = max - min."""

DAILY_SCHEMA = pa.schema(_IDS + [
    pa.field("day", pa.date32()), pa.field("n", pa.int64()), pa.field("first_at", TS), pa.field("last_at", TS),
    pa.field("ref", pa.float64()), pa.field("mean_dev", pa.float64()), pa.field("m2", pa.float64()),
    pa.field("min", pa.float64()), pa.field("max", pa.float64()), pa.field("out_of_spec", pa.int64()),
    pa.field("nominal", pa.float64()), pa.field("lower_limit", pa.float64()), pa.field("upper_limit", pa.float64()),
    pa.field("sub_size", pa.int32()), pa.field("sub_n", pa.int64()), pa.field("sub_range", pa.float64()),
    pa.field("cross_n", pa.int64()), pa.field("cross_range", pa.float64()),
])
"""One row per characteristic and local day (the plant's calendar day). ``mean = ref +
mean_dev``; ``m2`` is the sum of squared deviations from the day's mean; days combine into any
period with :func:`combine_moments`. ``nominal`` and the limits are the characteristic's latest.

The within-subgroup spread rides along, so that a period's sigma within pools from daily rows
alone: with subgroups of ``sub_size`` > 1, ``sub_n`` complete subgroups started on the day (the
local day of their first value) and ``sub_range`` is the sum of their ranges; with individuals
(``sub_size`` 1), ``sub_n`` moving ranges joined two of the day's values and ``sub_range`` is
their sum, while ``cross_n``/``cross_range`` hold the moving range from the value before the day
to the day's first value (counted in a period only when that earlier day is in it too)."""

WINDOW_SCHEMA = pa.schema([
    pa.field("window", pa.int64()), pa.field("instrument_id", pa.int32()), pa.field("start", TS),
    pa.field("end", TS), pa.field("error", pa.float64()), pa.field("unit", pa.string()),
])
"""Time windows [start, end) in which an instrument's results are suspect, with the size of the
error found in ``unit`` (NaN if unknown). Values recorded in another unit are counted but not
assessed for risk."""

IMPACT_SCHEMA = pa.schema([
    pa.field("window", pa.int64()), pa.field("instrument_id", pa.int32()), *_IDS,
    pa.field("n_values", pa.int64()), pa.field("n_out_of_spec", pa.int64()), pa.field("n_at_risk", pa.int64()),
    pa.field("first_at", TS), pa.field("last_at", TS), pa.field("serials", pa.list_(pa.string())),
])
"""Per window and characteristic: the values measured in the window, those outside their limits,
those within ``error`` of a limit (whose conformity decision the error could have reversed), and
the distinct serials measured (sorted). Only finite values count."""

KINDS = ("characteristic", "subgroup", "daily")
SCHEMAS = {"characteristic": CHARACTERISTIC_SCHEMA, "subgroup": SUBGROUP_SCHEMA, "daily": DAILY_SCHEMA}


# -- the sorted stream -------------------------------------------------------------------------


def _keys(batch) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    e = np.asarray(batch.column("enterprise_id").to_numpy(), dtype=np.int64)
    c = np.asarray(batch.column("characteristic_id").to_numpy(), dtype=np.int64)
    t = np.asarray(pc.cast(batch.column("measured_at"), pa.int64()).to_numpy(), dtype=np.int64)
    return e, c, t


def check_sorted(batch, previous: tuple[int, int, int] | None = None) -> tuple[int, int, int] | None:
    """Raise :class:`StreamOrderError` unless ``batch`` is sorted by (enterprise, characteristic,
    time) and starts at or after ``previous`` (the last key of the batch before); return its last key."""
    if batch.num_rows == 0:
        return previous
    e, c, t = _keys(batch)
    if previous is not None:
        e = np.concatenate(([previous[0]], e))
        c = np.concatenate(([previous[1]], c))
        t = np.concatenate(([previous[2]], t))
    de, dc, dt = np.diff(e), np.diff(c), np.diff(t)
    bad = (de < 0) | ((de == 0) & ((dc < 0) | ((dc == 0) & (dt < 0))))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise StreamOrderError(
            f"rows must arrive sorted by (enterprise, characteristic, time); row {i + 1} "
            f"({e[i + 1]}, {c[i + 1]}, {t[i + 1]}) follows ({e[i]}, {c[i]}, {t[i]})", field="order")
    return int(e[-1]), int(c[-1]), int(t[-1])


class SortedBlocks:
    """Blocks of whole characteristics from a stream of record batches, checking the stream's order.

    Batches are gathered until they hold ``block_rows`` rows; the rows before the last
    characteristic seen are handed out, the last characteristic waits for the next batches (it may
    continue there). A characteristic is never split between blocks.
    """

    def __init__(self, batches: Iterable, *, block_rows: int = 1 << 20) -> None:
        self.batches = batches
        self.block_rows = block_rows
        self.rows = 0

    def __iter__(self) -> Iterator[pa.Table]:
        pending: list = []
        pending_rows = 0
        last = None
        for batch in self.batches:
            if batch.num_rows == 0:
                continue
            last = check_sorted(batch, last)
            self.rows += batch.num_rows
            pending.append(batch)
            pending_rows += batch.num_rows
            if pending_rows < self.block_rows:
                continue
            table = pa.Table.from_batches(pending)
            e, c, _ = _keys(table)
            other = np.flatnonzero((c != c[-1]) | (e != e[-1]))
            if other.size == 0:  # one characteristic so far: keep gathering
                continue
            cut = int(other[-1]) + 1
            yield table.slice(0, cut)
            rest = table.slice(cut)
            pending, pending_rows = rest.to_batches(), rest.num_rows
        if pending_rows:
            yield pa.Table.from_batches(pending)


# -- the analyses of one block -------------------------------------------------------------------


def _f64(col) -> np.ndarray:
    return np.asarray(col.to_numpy(zero_copy_only=False) if isinstance(col, pa.Array) else col.to_numpy(),
                      dtype=np.float64)


def _i64(col) -> np.ndarray:
    return np.asarray(pc.cast(col, pa.int64()).to_numpy(), dtype=np.int64)


@dataclass(frozen=True, slots=True)
class _Block:
    """A block's columns as numpy arrays, with per-characteristic offsets and reference values."""

    value: np.ndarray
    t_us: np.ndarray
    local_us: np.ndarray
    offsets: np.ndarray  # int64, g + 1
    enterprise: np.ndarray  # per characteristic
    product: np.ndarray
    characteristic: np.ndarray
    lsl: np.ndarray  # the characteristic's latest limits and nominal (its last row's)
    usl: np.ndarray
    nominal: np.ndarray
    ref: np.ndarray  # the nominal, or the first value where there is none

    @property
    def counts(self) -> np.ndarray:
        return np.diff(self.offsets)


def prepare(block: pa.Table) -> _Block:
    """Numpy view of a sorted block (rows with non-finite values left out)."""
    value = _f64(block.column("value"))
    finite = np.isfinite(value)
    if not finite.all():
        block = block.filter(pa.array(finite))
        value = value[finite]
    cid = np.asarray(block.column("characteristic_id").to_numpy(), dtype=np.int32)
    ent = np.asarray(block.column("enterprise_id").to_numpy(), dtype=np.int32)
    n = cid.size
    change = np.flatnonzero((cid[1:] != cid[:-1]) | (ent[1:] != ent[:-1])) + 1 if n else np.zeros(0, np.int64)
    starts = np.concatenate(([0], change)).astype(np.int64) if n else np.zeros(0, np.int64)
    offsets = np.concatenate((starts, [n])).astype(np.int64)
    last = offsets[1:] - 1
    nominal = _f64(block.column("nominal"))[last]
    first = value[starts] if n else np.zeros(0)
    return _Block(
        value=value,
        t_us=_i64(block.column("measured_at")),
        local_us=_i64(block.column("local_us")),
        offsets=offsets,
        enterprise=ent[starts],
        product=np.asarray(block.column("product_id").to_numpy(), dtype=np.int32)[starts],
        characteristic=cid[starts],
        lsl=_f64(block.column("lower_limit"))[last],
        usl=_f64(block.column("upper_limit"))[last],
        nominal=nominal,
        ref=np.where(np.isnan(nominal), first, nominal),
    )


def _ts(us: np.ndarray) -> pa.Array:
    return pa.array(us, pa.int64()).cast(TS)


def _ids(b: _Block, rows: np.ndarray | None = None) -> dict:
    if rows is None:
        return {"enterprise_id": b.enterprise, "product_id": b.product, "characteristic_id": b.characteristic}
    return {"enterprise_id": b.enterprise[rows], "product_id": b.product[rows], "characteristic_id": b.characteristic[rows]}


def characteristic_rows(b: _Block, params: AnalysisParams) -> pa.Table:
    """The quality summary of each characteristic of the block (:data:`CHARACTERISTIC_SCHEMA`)."""
    if b.value.size == 0:
        return CHARACTERISTIC_SCHEMA.empty_table()
    off = b.offsets
    res = batch_summary(b.value, off, subgroup_size=params.subgroup_size, lsl=b.lsl, usl=b.usl, nominal=b.nominal,
                        rules=params.rules, k=params.k, constants=params.constants, ci_level=params.ci_level)
    counts = b.counts
    with np.errstate(invalid="ignore"):
        outside = (b.value < np.repeat(b.lsl, counts)) | (b.value > np.repeat(b.usl, counts))
    out_of_spec = np.add.reduceat(outside.astype(np.int64), off[:-1])
    has = res.last_alarm_value >= 0
    last_alarm_at = pa.array(np.where(has, b.t_us[np.maximum(res.last_alarm_value, 0)], 0), pa.int64(),
                             mask=~has).cast(TS)
    cols = _ids(b) | {
        "lower_limit": b.lsl, "upper_limit": b.usl, "nominal": b.nominal, "out_of_spec": out_of_spec,
        "n_values": res.n_values, "n_subgroups": res.n_subgroups, "mean": res.mean,
        "sigma_overall": res.sigma_overall, "sigma_within": res.sigma_within, "center": res.center, "lcl": res.lcl,
        "ucl": res.ucl, "beyond": res.beyond, "alarms": res.alarms, "last_alarm": res.last_alarm,
        "last_alarm_at": last_alarm_at, "first_at": _ts(b.t_us[off[:-1]]), "last_at": _ts(b.t_us[off[1:] - 1]),
        "cp": res.cp, "cpk": res.cpk, "pp": res.pp, "ppk": res.ppk, "cpm": res.cpm, "cpk_lo": res.cpk_lo,
        "cpk_hi": res.cpk_hi, "ppk_lo": res.ppk_lo, "ppk_hi": res.ppk_hi, "ppm_within": res.ppm_within,
        "ppm_overall": res.ppm_overall,
    }
    return pa.table(cols).cast(CHARACTERISTIC_SCHEMA)


def subgroup_bounds(counts: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Subgroups of ``size`` consecutive values of each characteristic (the last may be short):
    their characteristic (index), their index within it, and their start offsets followed by the
    total count."""
    m_per = -(-counts // size)
    total = int(m_per.sum())
    char = np.repeat(np.arange(counts.size), m_per)
    j = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(m_per) - m_per, m_per)
    starts = np.repeat(np.concatenate(([0], np.cumsum(counts)[:-1])).astype(np.int64), m_per) + j * size
    return char, j, np.concatenate((starts, [int(counts.sum())])).astype(np.int64)


def subgroup_rows(b: _Block, params: AnalysisParams) -> pa.Table:
    """Subgroup summaries of each characteristic of the block (:data:`SUBGROUP_SCHEMA`)."""
    if b.value.size == 0:
        return SUBGROUP_SCHEMA.empty_table()
    counts = b.counts
    char, index, off = subgroup_bounds(counts, params.subgroup_size)
    dev = b.value - np.repeat(b.ref, counts)
    n, mean_dev, m2 = grouped_mean_m2(dev, off)
    starts = off[:-1]
    rng = np.maximum.reduceat(dev, starts) - np.minimum.reduceat(dev, starts)
    cols = _ids(b, char) | {
        "subgroup": index, "size": np.full(index.size, params.subgroup_size, np.int32), "n": n.astype(np.int32), "first_at": _ts(b.t_us[starts]), "last_at": _ts(b.t_us[off[1:] - 1]),
        "ref": b.ref[char], "mean_dev": mean_dev, "m2": m2, "range": rng,
    }
    return pa.table(cols).cast(SUBGROUP_SCHEMA)


def _within_sums(b: _Block, day: np.ndarray, size: int):
    """The within-subgroup ranges of each characteristic in stream (time) order, each with its
    characteristic, local day and whether it crosses from an earlier day (moving ranges only)."""
    counts = b.counts
    if size > 1:
        char, _, off = subgroup_bounds(counts, size)
        starts = off[:-1]
        complete = np.diff(off) == size
        dev = b.value - np.repeat(b.ref, counts)
        rng = np.maximum.reduceat(dev, starts) - np.minimum.reduceat(dev, starts)
        return char[complete], day[starts[complete]], rng[complete], np.zeros(int(complete.sum()), bool)
    char_of = np.repeat(np.arange(counts.size), counts)
    pair = char_of[1:] == char_of[:-1]
    mr = np.abs(np.diff(b.value))[pair]
    later = day[1:][pair]
    return char_of[1:][pair], later, mr, later != day[:-1][pair]


def daily_rows(b: _Block, params: AnalysisParams) -> pa.Table:
    """Daily summaries of each characteristic of the block (:data:`DAILY_SCHEMA`)."""
    if b.value.size == 0:
        return DAILY_SCHEMA.empty_table()
    counts = b.counts
    char_of = np.repeat(np.arange(counts.size), counts)
    day = np.floor_divide(b.local_us, US_PER_DAY)
    w_char, w_day, w_range, w_cross = _within_sums(b, day, params.subgroup_size)
    value, t_us = b.value, b.t_us
    same = char_of[1:] == char_of[:-1]
    if np.any(same & (np.diff(day) < 0)):  # local time ran backwards (a clock change near midnight)
        perm = np.lexsort((day, char_of))  # stable: time order kept within each day
        char_of, day, value, t_us = char_of[perm], day[perm], value[perm], t_us[perm]
        same = char_of[1:] == char_of[:-1]
    starts = np.concatenate(([0], np.flatnonzero(~same | (day[1:] != day[:-1])) + 1)).astype(np.int64)
    off = np.concatenate((starts, [value.size])).astype(np.int64)
    g = char_of[starts]
    dev = value - b.ref[char_of]
    n, mean_dev, m2 = grouped_mean_m2(dev, off)
    with np.errstate(invalid="ignore"):
        outside = (value < b.lsl[char_of]) | (value > b.usl[char_of])
    # each within-range to its (characteristic, day) row: rows are in (characteristic, day) order
    d0 = int(day.min())
    row_key = (g.astype(np.int64) << 32) | (day[starts] - d0)
    row = np.searchsorted(row_key, (w_char.astype(np.int64) << 32) | (w_day - d0))
    rows = starts.size

    def sums(mask):
        return (np.bincount(row[mask], minlength=rows).astype(np.int64),
                np.bincount(row[mask], weights=w_range[mask], minlength=rows))

    sub_n, sub_range = sums(~w_cross)
    cross_n, cross_range = sums(w_cross)
    cols = _ids(b, g) | {
        "day": pa.array(day[starts].astype(np.int32), pa.int32()).cast(pa.date32()), "n": n,
        "first_at": _ts(np.minimum.reduceat(t_us, starts)), "last_at": _ts(np.maximum.reduceat(t_us, starts)),
        "ref": b.ref[g], "mean_dev": mean_dev, "m2": m2,
        "min": np.minimum.reduceat(value, starts), "max": np.maximum.reduceat(value, starts),
        "out_of_spec": np.add.reduceat(outside.astype(np.int64), starts),
        "nominal": b.nominal[g], "lower_limit": b.lsl[g], "upper_limit": b.usl[g],
        "sub_size": np.full(rows, params.subgroup_size, np.int32), "sub_n": sub_n, "sub_range": sub_range,
        "cross_n": cross_n, "cross_range": cross_range,
    }
    return pa.table(cols).cast(DAILY_SCHEMA)


def analyse_block(block: pa.Table, params: AnalysisParams, kinds: tuple[str, ...] = KINDS) -> dict[str, pa.Table]:
    """The analyses ``kinds`` (of :data:`KINDS`) of one block of whole characteristics."""
    b = prepare(block)
    out = {}
    if "characteristic" in kinds:
        out["characteristic"] = characteristic_rows(b, params)
    if "subgroup" in kinds:
        out["subgroup"] = subgroup_rows(b, params)
    if "daily" in kinds:
        out["daily"] = daily_rows(b, params)
    return out


def analyse_stream(batches: Iterable, params: AnalysisParams, kinds: tuple[str, ...] = KINDS, *,
                   block_rows: int = 1 << 20) -> Iterator[dict[str, pa.Table]]:
    """:func:`analyse_block` over each block of a sorted stream of record batches."""
    for block in SortedBlocks(batches, block_rows=block_rows):
        yield analyse_block(block, params, kinds)


# -- combining summaries -------------------------------------------------------------------------


def combine_moments(offsets: np.ndarray, n: np.ndarray, ref: np.ndarray, mean_dev: np.ndarray, m2: np.ndarray):
    """Pool consecutive summary rows (groups given by ``offsets``) into count, mean and M2 (Chan,
    Golub and LeVeque 1983, the pairwise update written for many parts at once).

    Each part's mean is first moved to its group's last reference, ``d = (ref - R) + mean_dev``
    (exact when the references agree, as they do unless a nominal changed); then
    ``mean = R + sum(n d) / N`` and ``M2 = sum(m2) + sum(n (d - mean_d)^2)``, a second pass over
    the part means.

    Returns
    -------
    count, mean, m2 : ndarray
        Per group; ``mean`` NaN and ``m2`` 0 for empty groups.
    """
    offsets = np.asarray(offsets, dtype=np.int64)
    counts = np.diff(offsets)
    g = counts.size
    ne = counts > 0
    grp = np.repeat(np.arange(g), counts)
    big_r = np.where(ne, ref[np.maximum(offsets[1:] - 1, 0)] if ref.size else 0.0, 0.0)
    d = (ref - big_r[grp]) + mean_dev
    w = n.astype(np.float64)
    total = np.bincount(grp, weights=w, minlength=g)
    with np.errstate(invalid="ignore", divide="ignore"):
        md = np.bincount(grp, weights=w * d, minlength=g) / total
        resid = d - md[grp]
        m2_all = np.bincount(grp, weights=m2, minlength=g) + np.bincount(grp, weights=w * resid * resid, minlength=g)
    mean = np.where(total > 0, big_r + md, np.nan)
    return total.astype(np.int64), mean, np.where(total > 0, m2_all, 0.0)


# -- impact scan -------------------------------------------------------------------------------


def impact_rows(rows: pa.Table, windows: pa.Table) -> pa.Table:
    """Values of ``rows`` (lake rows with ``instrument_id``, ``measured_at``, ids, ``serial``,
    ``value``, ``unit`` and limits) inside the ``windows`` of their instrument, per window and
    characteristic (:data:`IMPACT_SCHEMA`). The local engine runs this; the Spark engine states
    the same in SQL."""
    if rows.num_rows and not pc.all(pc.is_finite(rows.column("value"))).as_py():
        rows = rows.filter(pc.is_finite(rows.column("value")))
    if rows.num_rows == 0 or windows.num_rows == 0:
        return IMPACT_SCHEMA.empty_table()
    inst = np.asarray(rows.column("instrument_id").fill_null(-1).to_numpy(), dtype=np.int64)
    t = _i64(rows.column("measured_at"))
    w_inst = np.asarray(windows.column("instrument_id").to_numpy(), dtype=np.int64)
    w_start, w_end = _i64(windows.column("start")), _i64(windows.column("end"))
    w_err = _f64(windows.column("error"))
    w_id = np.asarray(windows.column("window").to_numpy(), dtype=np.int64)
    idx = np.flatnonzero(np.isin(inst, w_inst))
    idx = idx[np.lexsort((t[idx], inst[idx]))]  # by instrument, then time: each window is one slice
    ki, kt = inst[idx], t[idx]
    lo_i, hi_i = np.searchsorted(ki, w_inst, "left"), np.searchsorted(ki, w_inst, "right")
    a = lo_i + np.array([np.searchsorted(kt[lo:hi], s, "left") for lo, hi, s in zip(lo_i, hi_i, w_start, strict=True)],
                        dtype=np.int64).reshape(-1)
    b = lo_i + np.array([np.searchsorted(kt[lo:hi], e, "left") for lo, hi, e in zip(lo_i, hi_i, w_end, strict=True)],
                        dtype=np.int64).reshape(-1)
    sizes = np.maximum(b - a, 0)
    k = np.repeat(np.arange(w_id.size), sizes)
    pos = np.repeat(a, sizes) + (np.arange(k.size) - np.repeat(np.cumsum(sizes) - sizes, sizes))
    r = idx[pos]
    if r.size == 0:
        return IMPACT_SCHEMA.empty_table()
    cid = np.asarray(rows.column("characteristic_id").to_numpy(), dtype=np.int64)[r]
    order = np.lexsort((t[r], cid, w_id[k]))
    r, k, cid = r[order], k[order], cid[order]
    starts = np.concatenate(([0], np.flatnonzero((np.diff(w_id[k]) != 0) | (np.diff(cid) != 0)) + 1))
    bounds = np.concatenate((starts, [r.size]))
    v = _f64(rows.column("value"))[r]
    lo, hi = _f64(rows.column("lower_limit"))[r], _f64(rows.column("upper_limit"))[r]
    same_unit = np.asarray(pc.equal(rows.column("unit").take(pa.array(r)),
                                    windows.column("unit").take(pa.array(k))).fill_null(False).to_numpy(
        zero_copy_only=False), dtype=bool)
    err = np.where(same_unit, np.abs(w_err[k]), np.nan)
    with np.errstate(invalid="ignore"):
        outside = (v < lo) | (v > hi)
        at_risk = np.isfinite(err) & ((np.abs(v - lo) <= err) | (np.abs(v - hi) <= err))
    tr = t[r]
    return pa.table({
        "window": w_id[k][starts], "instrument_id": w_inst[k][starts].astype(np.int32),
        "enterprise_id": np.asarray(rows.column("enterprise_id").to_numpy(), dtype=np.int32)[r][starts],
        "product_id": np.asarray(rows.column("product_id").to_numpy(), dtype=np.int32)[r][starts],
        "characteristic_id": cid[starts].astype(np.int32),
        "n_values": np.diff(bounds), "n_out_of_spec": np.add.reduceat(outside.astype(np.int64), starts),
        "n_at_risk": np.add.reduceat(at_risk.astype(np.int64), starts),
        "first_at": _ts(np.minimum.reduceat(tr, starts)), "last_at": _ts(np.maximum.reduceat(tr, starts)),
        "serials": _distinct_sorted(rows.column("serial").take(pa.array(r)), bounds),
    }).cast(IMPACT_SCHEMA)


def _distinct_sorted(strings, bounds: np.ndarray) -> pa.Array:
    """For each group ``bounds[i]:bounds[i + 1]`` of ``strings``, its distinct non-null values in
    byte order, as one list array (no loop per group)."""
    g = bounds.size - 1
    grp = np.repeat(np.arange(g), np.diff(bounds))
    t = pa.table({"g": grp, "s": strings}).filter(pc.is_valid(strings))
    t = t.sort_by([("g", "ascending"), ("s", "ascending")])
    gg = t.column("g").to_numpy()
    s = t.column("s").combine_chunks() if t.num_rows else pa.array([], pa.string())
    if t.num_rows > 1:
        same = (gg[1:] == gg[:-1]) & np.asarray(pc.equal(s.slice(1), s.slice(0, t.num_rows - 1)).to_numpy(
            zero_copy_only=False), dtype=bool)
        keep = np.concatenate(([True], ~same))
        s, gg = s.filter(pa.array(keep)), gg[keep]
    offsets = np.searchsorted(gg, np.arange(g + 1), "left").astype(np.int32)
    return pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), s)


# -- writing an enterprise's outputs -----------------------------------------------------------

FILE_SCHEMA = pa.schema([
    pa.field("path", pa.string()), pa.field("kind", pa.string()), pa.field("enterprise_id", pa.int32()),
    pa.field("year", pa.int32()), pa.field("rows", pa.int64()), pa.field("bytes", pa.int64()),
    pa.field("n_values", pa.int64()),
])
"""What a writer task reports per file (``n_values``: values summarised, on the characteristic file)."""


def _years(kind: str, table: pa.Table) -> np.ndarray:
    if kind == "daily":
        days = np.asarray(table.column("day").cast(pa.int32()).to_numpy(), dtype=np.int64)
        return days.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970
    us = _i64(table.column("first_at"))
    return us.astype("datetime64[us]").astype("datetime64[Y]").astype(np.int64) + 1970


def write_outputs(writer, enterprise_id: int, outputs: dict[str, pa.Table]) -> list:
    """Write one enterprise's outputs with ``writer`` (a :class:`jingce.store.summaries.SummaryWriter`):
    the characteristic summary as one file, subgroup and daily summaries one file per year (of the
    subgroup's first value, UTC; of the day). Returns the written files."""
    files = []
    for kind in KINDS:
        table = outputs.get(kind)
        if table is None or table.num_rows == 0:
            continue
        if kind == "characteristic":
            files.append(writer.write(kind, enterprise_id, None, table))
            continue
        years = _years(kind, table)
        order = np.argsort(years, kind="stable")
        if np.any(np.diff(order) != 1):
            table, years = table.take(pa.array(order)), years[order]
        cuts = np.concatenate(([0], np.flatnonzero(np.diff(years)) + 1, [years.size]))
        for a, b in zip(cuts[:-1], cuts[1:], strict=True):
            files.append(writer.write(kind, enterprise_id, int(years[a]), table.slice(int(a), int(b - a))))
    return files


def split_by_enterprise(table: pa.Table) -> Iterator[tuple[int, pa.Table]]:
    """Consecutive runs of one enterprise in a table ordered by enterprise."""
    if table.num_rows == 0:
        return
    e = np.asarray(table.column("enterprise_id").to_numpy(), dtype=np.int64)
    cuts = np.concatenate(([0], np.flatnonzero(np.diff(e)) + 1, [e.size]))
    for a, b in zip(cuts[:-1], cuts[1:], strict=True):
        yield int(e[a]), table.slice(int(a), int(b - a))


def file_rows(files: list, n_values: int = 0) -> pa.Table:
    """Files written, as rows of :data:`FILE_SCHEMA` (``n_values`` put on the characteristic file)."""
    return pa.table({
        "path": [f.path for f in files], "kind": [f.kind for f in files],
        "enterprise_id": [f.enterprise_id for f in files], "year": [f.year for f in files],
        "rows": [f.rows for f in files], "bytes": [f.bytes for f in files],
        "n_values": [n_values if f.kind == "characteristic" else 0 for f in files],
    }, schema=FILE_SCHEMA)
