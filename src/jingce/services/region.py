"""The region's batch analyses on any engine, and the region quality view read from summaries.

``analyse_region`` runs the batch analyses (quality summary per characteristic, subgroup and daily
summaries) on an engine and writes their results beside the lake, listed in the registry.
``region_view`` answers the region's dashboards from those summaries alone: for any period it
pools the daily sums (mean, spread, out-of-specification counts) and the subgroup ranges
(within-subgroup sigma) of each characteristic, so it stays a single-node read for years, and
Spark is needed only to reprocess history. ``impact_scan`` finds the values measured with
instruments later found out of tolerance, or used after their calibration expired.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from jingce.engine import AnalysisParams, Engine
from jingce.engine.grouped import TS, combine_moments
from jingce.errors import InvalidInputError
from jingce.kernels.capability.batch import batch_capability
from jingce.kernels.spc.constants import chart_constants
from jingce.services.impact import IMPACT_VIEW_COLUMNS, SUSPECT_RESULTS, impact_scan, impact_windows
from jingce.services.summary import CPK_CLASSES, EnterpriseRow
from jingce.store import Actor, Store
from jingce.store.summaries import AnalysisRun

# -- running the analyses ------------------------------------------------------------------------


def analyse_region(store: Store, actor: Actor, engine: Engine, *, params: AnalysisParams = AnalysisParams(),
                   enterprise_ids: list[int] | None = None,
                   progress: Callable[[int, int], None] | None = None) -> AnalysisRun:
    """Run the region's batch analyses on ``engine`` and write their results beside the lake.

    The run is recorded first (``running``); the engine writes the characteristic, subgroup and
    daily summaries of every enterprise the actor may analyse; then one registry transaction lists
    the files and retires those of earlier runs (the commit point). A failed run is marked
    ``failed`` and leaves the previous summaries in place.
    """
    engine.require("write_summaries")
    covered = list(store.lake_inputs(actor, enterprise_ids=enterprise_ids).enterprises)
    if enterprise_ids is not None:
        covered = sorted(set(covered) | {int(e) for e in enterprise_ids})
    run_id = store.start_analysis(actor, engine=getattr(engine, "master", engine.name), params=asdict(params),
                                  enterprise_ids=enterprise_ids)
    try:
        written = engine.write_summaries(store, actor, run_id, params=params, enterprise_ids=enterprise_ids,
                                         progress=progress)
    except BaseException as exc:
        store.fail_analysis(actor, run_id, f"{type(exc).__name__}: {exc}")
        raise
    return store.commit_analysis(actor, run_id, written.files, enterprise_ids=covered, n_values=written.n_values)


# -- the region view -----------------------------------------------------------------------------

VIEW_SCHEMA = pa.schema([
    pa.field("enterprise_id", pa.int32()), pa.field("product_id", pa.int32()),
    pa.field("characteristic_id", pa.int32()), pa.field("characteristic", pa.string()),
    pa.field("lower_limit", pa.float64()), pa.field("upper_limit", pa.float64()), pa.field("nominal", pa.float64()),
    pa.field("n_values", pa.int64()), pa.field("n_days", pa.int64()), pa.field("first_at", TS),
    pa.field("last_at", TS), pa.field("out_of_spec", pa.int64()), pa.field("mean", pa.float64()),
    pa.field("sigma_overall", pa.float64()), pa.field("n_subgroups", pa.int64()),
    pa.field("sigma_within", pa.float64()), pa.field("cp", pa.float64()), pa.field("cpk", pa.float64()),
    pa.field("pp", pa.float64()), pa.field("ppk", pa.float64()), pa.field("cpk_lo", pa.float64()),
    pa.field("cpk_hi", pa.float64()), pa.field("ppm_overall", pa.float64()), pa.field("alarms", pa.int64()),
])


@dataclass(frozen=True, slots=True)
class RegionView:
    """The region's quality over a period, from summaries: one row per characteristic
    (:data:`VIEW_SCHEMA`) and the roll-up per enterprise (grouped by industry chain)."""

    per_characteristic: pa.Table
    enterprises: tuple[EnterpriseRow, ...]
    start: dt.date | None
    end: dt.date | None

    def chains(self) -> dict[str, list[EnterpriseRow]]:
        out: dict[str, list[EnterpriseRow]] = {}
        for e in self.enterprises:
            out.setdefault(e.industry_chain or "-", []).append(e)
        return out

    def worst(self, n: int = 10) -> pa.Table:
        """The ``n`` characteristics with the lowest Cpk in the period."""
        t = self.per_characteristic
        cpk = t.column("cpk").to_numpy(zero_copy_only=False)
        order = np.argsort(np.where(np.isfinite(cpk), cpk, np.inf), kind="stable")[:n]
        return t.take(pa.array(order[np.isfinite(cpk[order])], pa.int64()))


def _int_key(col) -> np.ndarray:
    if pa.types.is_date32(col.type):
        col = pc.cast(col, pa.int32())
    elif pa.types.is_timestamp(col.type):
        col = pc.cast(col, pa.int64())
    return np.asarray(col.to_numpy(), dtype=np.int64)


def _np(table: pa.Table, name: str, dtype=None) -> np.ndarray:
    return np.asarray(table.column(name).to_numpy(zero_copy_only=False), dtype=dtype)


@dataclass(frozen=True, slots=True)
class _Groups:
    """The daily rows of each characteristic, found without sorting them: the rows come in *runs*
    (consecutive rows of one characteristic with strictly increasing days: a summary file holds an
    enterprise-year sorted by characteristic and day), each run is reduced in file order, and the
    few runs are then ordered by (enterprise, characteristic, first day) and grouped.

    ``order`` lists the runs in that order, ``off`` bounds each characteristic's runs in it;
    ``first_row`` and ``last_row`` are the row of its first and last day (ties: the earlier and the
    later row in file order, as a stable sort would place them)."""

    starts: np.ndarray  # first row of each run, in file order
    order: np.ndarray
    off: np.ndarray
    first_row: np.ndarray
    last_row: np.ndarray

    @classmethod
    def of(cls, daily: pa.Table) -> _Groups:
        ent, cid, day = (_int_key(daily.column(c)) for c in ("enterprise_id", "characteristic_id", "day"))
        brk = (np.diff(cid) != 0) | (np.diff(ent) != 0) | (np.diff(day) <= 0)
        starts = np.concatenate(([0], np.flatnonzero(brk) + 1)).astype(np.int64)
        ends = np.concatenate((starts[1:], [cid.size])) - 1
        run = np.arange(starts.size)
        r_ent, r_cid = ent[starts], cid[starts]
        order = np.lexsort((run, day[starts], r_cid, r_ent))
        key_ent, key_cid = r_ent[order], r_cid[order]
        new = np.concatenate(([True], (np.diff(key_cid) != 0) | (np.diff(key_ent) != 0)))
        off = np.concatenate((np.flatnonzero(new), [order.size])).astype(np.int64)
        by_last = np.lexsort((run, day[ends], r_cid, r_ent))  # same groups, ordered by last day
        return cls(starts, order, off, starts[order[off[:-1]]], ends[by_last[off[1:] - 1]])

    def sums(self, values: np.ndarray) -> np.ndarray:
        """Per characteristic, the sum of ``values`` (one per daily row)."""
        return np.add.reduceat(np.add.reduceat(values, self.starts)[self.order], self.off[:-1])

    def extreme(self, values: np.ndarray, ufunc) -> np.ndarray:
        return ufunc.reduceat(ufunc.reduceat(values, self.starts)[self.order], self.off[:-1])

    def moments(self, n: np.ndarray, ref: np.ndarray, mean_dev: np.ndarray, m2: np.ndarray):
        """Count, mean and M2 per characteristic: each run pooled, then the runs (Chan et al.)."""
        run_off = np.concatenate((self.starts, [n.size]))
        rn, rmean, rm2 = combine_moments(run_off, n, ref, mean_dev, m2)
        rn, rmean, rm2 = rn[self.order], rmean[self.order], rm2[self.order]
        rmean = np.where(rn > 0, rmean, 0.0)
        return combine_moments(self.off, rn, rmean, np.zeros(rn.size), rm2)


def _within(daily: pa.Table, g: _Groups, n: np.ndarray, constants: str = "exact", k: float = 3.0):
    """Sigma within per characteristic from the within-subgroup sums the daily rows carry: R-bar/d2
    over the complete subgroups that started in the period, or MR-bar/d2 over the moving ranges
    between the period's consecutive values (individuals), as the batch kernel computes it; with
    the subgroup count and degrees of freedom."""
    cross_n, cross_r = _np(daily, "cross_n", np.int64), _np(daily, "cross_range", float)
    # the first day's cross range joins a value from before the period: not counted
    cnt = g.sums(_np(daily, "sub_n", np.int64) + cross_n) - cross_n[g.first_row]
    tot = g.sums(_np(daily, "sub_range", float) + cross_r) - cross_r[g.first_row]
    size = _np(daily, "sub_size", np.int64)[g.last_row]
    d2 = np.ones(size.size)
    for s in np.unique(size):
        d2[size == s] = chart_constants(int(max(s, 2)), constants, k).d2
    with np.errstate(invalid="ignore", divide="ignore"):
        sw = np.where(cnt > 0, tot / np.where(cnt > 0, cnt, 1) / d2, np.nan)
    individuals = size == 1
    m_sub = np.where(individuals, n, cnt)
    df = np.where(individuals, cnt, cnt * (size - 1.0)).astype(float)
    return sw, m_sub, df


def _lookup(keys: np.ndarray, wanted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index in ``keys`` (distinct, any order) of each of ``wanted``, and whether it is there."""
    if keys.size == 0:
        return np.zeros(wanted.size, np.int64), np.zeros(wanted.size, bool)
    order = np.argsort(keys, kind="stable")
    pos = np.minimum(np.searchsorted(keys, wanted, sorter=order), keys.size - 1)
    idx = order[pos]
    return idx, keys[idx] == wanted


DAILY_VIEW_COLUMNS = ["enterprise_id", "product_id", "characteristic_id", "day", "n", "ref", "mean_dev", "m2",
                      "sub_size", "sub_n", "sub_range", "cross_n", "cross_range", "lower_limit", "upper_limit",
                      "nominal", "first_at", "last_at", "out_of_spec"]
"""The columns of the daily summaries the region view reads."""


def region_view(store: Store, actor: Actor, *, start: dt.date | None = None, end: dt.date | None = None,
                ci_level: float = 0.95) -> RegionView:
    """The region's quality from the summaries of the latest analysis runs, for the local days
    ``start`` (inclusive) to ``end`` (exclusive), default all.

    Per characteristic: count, mean and overall sigma pooled from its daily summaries (Chan,
    Golub and LeVeque 1983), sigma within from the ranges of its complete subgroups that started
    in the period (ISO 7870-2:2013 R-bar/d2, or MR-bar/d2 for individuals), carried by the daily rows, capability (ISO 22514-4), values out of
    specification, and the alarms of the latest quality summary. Over the whole history the
    numbers equal the quality summary's (:meth:`jingce.engine.Engine.characteristic_summary`).
    """
    if start is not None and end is not None and end <= start:
        raise InvalidInputError("must be after start", field="end")
    years = {"start_year": start.year if start else None, "end_year": (end - dt.timedelta(days=1)).year if end else None}
    flt = None
    if start is not None:
        flt = pc.field("day") >= pa.scalar(start, pa.date32())
    if end is not None:
        e = pc.field("day") < pa.scalar(end, pa.date32())
        flt = e if flt is None else flt & e
    daily = store.read_summaries(actor, "daily", row_filter=flt, columns=DAILY_VIEW_COLUMNS, **years)
    if daily is None or daily.num_rows == 0:
        return _view(store, actor, VIEW_SCHEMA.empty_table(), start, end)
    if "sub_n" not in daily.column_names or daily.column("sub_n").null_count:
        raise InvalidInputError("the daily summaries were written by an older jingce; run `jingce analyse region` "
                                "again", field="summaries")
    g = _Groups.of(daily)
    n, mean, m2 = g.moments(_np(daily, "n"), _np(daily, "ref", float), _np(daily, "mean_dev", float),
                            _np(daily, "m2", float))
    with np.errstate(invalid="ignore", divide="ignore"):
        sigma_overall = np.sqrt(m2 / np.where(n > 1, n - 1, np.nan))
    sw, m_sub, df_w = _within(daily, g, n)
    lsl, usl, nominal = (_np(daily, c, float)[g.last_row] for c in ("lower_limit", "upper_limit", "nominal"))
    with np.errstate(invalid="ignore", divide="ignore"):
        cap = batch_capability(mean, sw, sigma_overall, n, df_w, lsl, usl, nominal, ci_level)
    first = pa.array(g.first_row)
    chars = _np(daily, "characteristic_id", np.int64)[g.first_row]

    def at(name: str, ufunc) -> pa.Array:
        us = np.asarray(pc.cast(daily.column(name), pa.int64()).to_numpy(), dtype=np.int64)
        return pa.array(g.extreme(us, ufunc), pa.int64()).cast(TS)

    per = pa.table({
        "enterprise_id": daily.column("enterprise_id").take(first),
        "product_id": daily.column("product_id").take(first),
        "characteristic_id": daily.column("characteristic_id").take(first),
        "characteristic": pa.nulls(chars.size, pa.string()),
        "lower_limit": lsl, "upper_limit": usl, "nominal": nominal, "n_values": n,
        "n_days": g.sums(np.ones(daily.num_rows, np.int64)), "first_at": at("first_at", np.minimum),
        "last_at": at("last_at", np.maximum), "out_of_spec": g.sums(_np(daily, "out_of_spec", np.int64)),
        "mean": mean, "sigma_overall": sigma_overall, "n_subgroups": m_sub, "sigma_within": sw,
        "cp": cap.cp, "cpk": cap.cpk, "pp": cap.pp, "ppk": cap.ppk, "cpk_lo": cap.cpk_lo, "cpk_hi": cap.cpk_hi,
        "ppm_overall": cap.ppm_overall, "alarms": _alarms(store, actor, chars),
    }, schema=VIEW_SCHEMA)
    return _view(store, actor, per, start, end)


def _alarms(store: Store, actor: Actor, chars: np.ndarray) -> pa.Array:
    """Alarms of the latest quality summary of each characteristic (null where there is none)."""
    t = store.read_summaries(actor, "characteristic", columns=["characteristic_id", "alarms"])
    if t is None or t.num_rows == 0:
        return pa.nulls(chars.size, pa.int64())
    idx, found = _lookup(np.asarray(t.column("characteristic_id").to_numpy(), dtype=np.int64), chars)
    vals = np.asarray(t.column("alarms").to_numpy(), dtype=np.int64)[idx]
    return pa.array(np.where(found, vals, 0), pa.int64(), mask=~found)


def _view(store: Store, actor: Actor, per: pa.Table, start, end) -> RegionView:
    labels = store.characteristic_labels(actor)
    names = [labels.get(cid) for cid in per.column("characteristic_id").to_pylist()]
    per = per.set_column(per.column_names.index("characteristic"), "characteristic", pa.array(names, pa.string()))
    ents = {e.id: e for e in store.list_enterprises(actor)}
    ent_col = np.asarray(per.column("enterprise_id").to_numpy(), dtype=np.int64)
    cpk = per.column("cpk").to_numpy(zero_copy_only=False)
    n_values = np.asarray(per.column("n_values").to_numpy())
    oos = np.asarray(per.column("out_of_spec").to_numpy())
    alarms = np.asarray(per.column("alarms").fill_null(0).to_numpy())
    rows = []
    for eid in np.unique(ent_col):
        m = ent_col == eid
        e = ents.get(int(eid))
        total = int(n_values[m].sum())
        rows.append(EnterpriseRow(
            code=e.code if e else str(eid), name=e.name if e else "", industry_chain=e.industry_chain if e else "",
            characteristics=int(m.sum()), values=total,
            out_of_spec_ppm=float(oos[m].sum() / total * 1e6) if total else float("nan"),
            cpk_classes=tuple(int(np.sum(m & (cpk >= lo) & (cpk < hi))) for _, lo, hi in CPK_CLASSES),
            with_alarms=int(np.sum(m & (alarms > 0)))))
    return RegionView(per, tuple(rows), start, end)


# -- out-of-tolerance impact (in services.impact; kept importable from here) ----------------------

__all__ = ["IMPACT_VIEW_COLUMNS", "SUSPECT_RESULTS", "RegionView", "analyse_region", "impact_scan", "impact_windows",
           "region_view"]
