"""The local engine (the reference): each enterprise's sorted values from the Parquet lake through
the numpy batch kernels, in this process.

A characteristic belongs to one enterprise, so the region is worked through enterprise by
enterprise: the enterprise's lake files are read in storage order (each sorted by characteristic
and time, one per month once compacted) and put in (characteristic, time) order by a stable sort
on the characteristic alone; :mod:`jingce.engine.grouped` checks the order and runs the kernels.
Enterprises are worked on in threads, one per core; memory is bounded by a few of the largest
enterprises.
"""

from __future__ import annotations

import functools
import itertools
import os
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from jingce.engine.base import AnalysisParams, Engine, WrittenSummaries
from jingce.engine.grouped import (
    CHARACTERISTIC_SCHEMA,
    DAILY_SCHEMA,
    IMPACT_SCHEMA,
    KINDS,
    SCHEMAS,
    SUBGROUP_SCHEMA,
    SortedBlocks,
    analyse_block,
    impact_rows,
    write_outputs,
)
from jingce.store import Actor, Store

SUMMARY_FIELDS = ("n_values", "n_subgroups", "mean", "sigma_overall", "sigma_within", "center", "lcl", "ucl",
                  "alarms", "last_alarm", "cp", "cpk", "pp", "ppk", "cpk_lo", "cpk_hi", "ppm_overall")
"""Batch-summary fields of every characteristic-summary row (more are in :data:`CHARACTERISTIC_SCHEMA`)."""

SCAN_COLUMNS = ("enterprise_id", "product_id", "characteristic_id", "measured_at", "position", "utc_offset_min", "value",
         "nominal", "lower_limit", "upper_limit")
_BLOCK_ROWS = 1 << 21


def by_enterprise(paths) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    for p in paths:
        out.setdefault(int(p.split("/", 1)[0].removeprefix("enterprise=")), []).append(p)
    return out


def in_order(table: pa.Table) -> pa.Table:
    """An enterprise's rows, read file by file in month order, sorted by (characteristic, time,
    position). Each file is sorted so and months do not overlap, so a stable sort by
    characteristic is enough (a radix sort, linear); a partition of several uncompacted files
    overlaps in time and gets the full sort."""
    cid = np.asarray(table.column("characteristic_id").to_numpy(), dtype=np.int32)
    t = np.asarray(pc.cast(table.column("measured_at"), pa.int64()).to_numpy(), dtype=np.int64)
    pos = np.asarray(table.column("position").to_numpy(), dtype=np.int64)
    perm = np.argsort(cid, kind="stable")
    c, tt, pp = cid[perm], t[perm], pos[perm]
    same = c[1:] == c[:-1]
    dt = np.diff(tt)
    if np.any(same & ((dt < 0) | ((dt == 0) & (np.diff(pp) < 0)))):
        perm = np.lexsort((pos, t, cid))
        tt = t[perm]
    off = np.asarray(table.column("utc_offset_min").to_numpy(), dtype=np.int64)[perm]
    table = table.take(pa.array(perm)).drop_columns(["position", "utc_offset_min"])
    return table.append_column("local_us", pa.array(tt + off * 60_000_000, pa.int64()))


def _enterprise_results(store: Store, inputs, work: Callable[[pa.Table], object],
                        workers: int) -> Iterator[tuple[int, object]]:
    """``(enterprise, work(table))`` for each enterprise of the lake ``inputs``, in enterprise
    order, where ``table`` holds the enterprise's valid values sorted by (characteristic, time,
    position), with ``local_us`` (microseconds of the plant's wall clock). ``workers`` enterprises
    are read and worked on at once in threads (the Parquet reader and the numpy kernels release the
    GIL); at most ``workers + 1`` are in memory."""
    groups = iter(by_enterprise(inputs.paths).items())

    def job(item):
        ent, paths = item
        return ent, work(in_order(store.scan_inputs(inputs, paths, SCAN_COLUMNS)))

    with ThreadPoolExecutor(workers) as pool:
        pending = deque(pool.submit(job, g) for g in itertools.islice(groups, workers + 1))
        while pending:
            result = pending.popleft().result()
            nxt = next(groups, None)
            if nxt is not None:
                pending.append(pool.submit(job, nxt))
            yield result


def analyse_table(table: pa.Table, params: AnalysisParams, kinds: tuple[str, ...]) -> dict[str, pa.Table]:
    parts: dict[str, list[pa.Table]] = {k: [] for k in kinds}
    for block in SortedBlocks(table.to_batches(), block_rows=_BLOCK_ROWS):
        for k, t in analyse_block(block, params, kinds).items():
            parts[k].append(t)
    return {k: pa.concat_tables(v) if v else SCHEMAS[k].empty_table() for k, v in parts.items()}


class LocalEngine(Engine):
    """pyarrow and numpy in this process; the reference every other engine is checked against.
    ``workers`` enterprises are analysed at once (default: one per core)."""

    name = "local"
    UNSUPPORTED: frozenset[str] = frozenset()

    def __init__(self, workers: int | None = None) -> None:
        self.workers = max(1, workers or os.cpu_count() or 1)

    def __repr__(self) -> str:
        return "LocalEngine()"

    def _run(self, store, actor, kinds, params, enterprise_ids, progress) -> Iterator[tuple[int, dict]]:
        inputs = store.lake_inputs(actor, enterprise_ids=enterprise_ids)
        work = functools.partial(analyse_table, params=params, kinds=kinds)
        for done, (ent, out) in enumerate(_enterprise_results(store, inputs, work, self.workers), 1):
            yield ent, out
            if progress:
                progress(done, len(inputs.enterprises))

    def _collect(self, kind, store, actor, params, enterprise_ids, progress) -> pa.Table:
        parts = [out[kind] for _, out in self._run(store, actor, (kind,), params, enterprise_ids, progress)]
        return pa.concat_tables(parts) if parts else SCHEMAS[kind].empty_table()

    def characteristic_summary(self, store, actor, *, params=AnalysisParams(), enterprise_ids=None, progress=None):
        return self._collect("characteristic", store, actor, params, enterprise_ids, progress)

    def subgroup_summaries(self, store, actor, *, params=AnalysisParams(), enterprise_ids=None, progress=None):
        return self._collect("subgroup", store, actor, params, enterprise_ids, progress)

    def daily_summaries(self, store, actor, *, params=AnalysisParams(), enterprise_ids=None, progress=None):
        return self._collect("daily", store, actor, params, enterprise_ids, progress)

    def write_summaries(self, store, actor, run_id, *, params=AnalysisParams(), enterprise_ids=None, progress=None):
        writer = store.summary_writer(run_id)
        files, n_values = [], 0
        for ent, out in self._run(store, actor, KINDS, params, enterprise_ids, progress):
            files += write_outputs(writer, ent, out)
            n_values += int(pc.sum(out["characteristic"].column("n_values")).as_py() or 0)
        return WrittenSummaries(files, n_values)

    def impact_scan(self, store, actor, windows):
        if windows.num_rows == 0:
            return IMPACT_SCHEMA.empty_table()
        instruments = sorted(set(windows.column("instrument_id").to_pylist()))
        rows = store.scan_rows(actor, ("instrument_id", "measured_at", "enterprise_id", "product_id",
                                       "characteristic_id", "serial", "value", "unit", "lower_limit", "upper_limit"),
                               row_filter=pc.field("instrument_id").isin(instruments), valid_only=True)
        return impact_rows(rows, windows)


def characteristic_summary(store: Store, actor: Actor, *, subgroup_size: int = 5, rules: str = "nelson",
                           enterprise_ids: list[int] | None = None,
                           progress: Callable[[int], None] | None = None) -> pa.Table:
    """One row per characteristic the actor may see (:data:`CHARACTERISTIC_SCHEMA`): control limits
    (phase I, X-bar/R with subgroups of ``subgroup_size`` consecutive values), capability with
    confidence intervals, run-rule alarms (``rules``), values out of specification, and the
    specification itself. ``progress(enterprise_id)`` is called as each enterprise finishes.

    Values marked invalid are left out. Limits and indices are those of
    :func:`jingce.kernels.spc.batch_summary`.
    """
    engine = LocalEngine()
    parts = []
    for ent, out in engine._run(store, actor, ("characteristic",), AnalysisParams(subgroup_size=subgroup_size,
                                rules=rules), enterprise_ids, None):
        parts.append(out["characteristic"])
        if progress:
            progress(ent)
    return pa.concat_tables(parts) if parts else CHARACTERISTIC_SCHEMA.empty_table()


__all__ = ["DAILY_SCHEMA", "SUBGROUP_SCHEMA", "LocalEngine", "characteristic_summary"]
