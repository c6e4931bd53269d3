"""Summaries kept beside the raw values, and what the batch engines read from the store.

The batch analyses (:mod:`jingce.engine`) write per-characteristic results and subgroup and daily
summaries as Parquet files under the lake's ``summaries/`` folder::

    summaries/<kind>/enterprise=<id>/year=YYYY/run-<run>.parquet   (subgroup, daily)
    summaries/<kind>/enterprise=<id>/run-<run>.parquet             (characteristic)

A year of an enterprise's daily or subgroup summaries is one file (tens of thousands of rows for a
plant with a hundred characteristics): a region of 10,000 manufacturers keeps some 20,000
summary files a year, not hundreds of thousands of small monthly ones.

Like lake files, a summary file becomes visible only when the registry lists it: the run's
``summary_file`` rows are inserted, and the files of earlier runs for the same kind and
enterprises marked replaced, in one transaction (the commit point). Dashboards read only the
active files, so they never see a half-written run; replaced files stay on disk for readers
that listed them before, until :meth:`SummariesMixin.vacuum_summaries` removes them.

Summaries are aggregates, not raw values: besides the enterprises whose values an actor may
read, the regulator (who sees the region's registry) reads every enterprise's summaries.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import insert, select, update

from jingce.errors import InvalidInputError, NotFoundError
from jingce.model import Role
from jingce.model.batch import LAKE_SCHEMA
from jingce.store import audit
from jingce.store import tables as t
from jingce.store.core import ENTERPRISE_ROLES, StoreBase
from jingce.store.tenancy import Actor, Visibility

SUMMARY_KINDS = ("characteristic", "subgroup", "daily")
SUMMARY_FOLDER = "summaries"


@dataclass(frozen=True, slots=True)
class SummaryFile:
    """A written summary file (``path`` relative to the summaries folder)."""

    path: str
    kind: str
    enterprise_id: int
    year: int | None
    rows: int
    bytes: int


@dataclass(frozen=True, slots=True)
class AnalysisRun:
    id: int
    kind: str
    engine: str
    params: dict
    enterprise_ids: list[int] | None
    actor: str | None
    status: str
    started_at: dt.datetime
    finished_at: dt.datetime | None
    n_values: int | None
    message: str | None


@dataclass(frozen=True, slots=True)
class SummaryWriter:
    """Writes the files of one analysis run. Holds only a folder and a run id, so it pickles: Spark
    executors write with it straight into the (shared) summaries folder."""

    root: str
    run_id: int

    def relative(self, kind: str, enterprise_id: int, year: int | None) -> str:
        if kind not in SUMMARY_KINDS:
            raise InvalidInputError(f"must be one of {', '.join(SUMMARY_KINDS)}", field="kind")
        part = f"{kind}/enterprise={int(enterprise_id)}"
        if year is not None:
            part += f"/year={int(year):04d}"
        return f"{part}/run-{int(self.run_id)}.parquet"

    def write(self, kind: str, enterprise_id: int, year: int | None, table: pa.Table) -> SummaryFile:
        """Write ``table`` to a temporary name, flush it to disk and rename it into place (a file
        under its final name is always complete; a retried task overwrites its own file)."""
        rel = self.relative(kind, enterprise_id, year)
        final = Path(self.root) / rel
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = final.with_name(final.name + f".tmp-{os.getpid()}")
        pq.write_table(table, tmp, compression="zstd", compression_level=3, row_group_size=128 * 1024,
                       write_statistics=True)
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, final)
        return SummaryFile(rel, kind, int(enterprise_id), None if year is None else int(year), table.num_rows,
                           final.stat().st_size)


@dataclass(frozen=True, slots=True)
class LakeInputs:
    """The active lake files an actor's analysis reads, and the row filter that applies to them."""

    root: Path
    paths: tuple[str, ...]  # relative to the lake root, ordered by enterprise, month, path
    enterprises: tuple[int, ...]
    visibility: Visibility
    path_enterprise: tuple[int, ...] = ()  # the enterprise of each path
    path_rows: tuple[int, ...] = ()  # the rows of each path

    def require(self, paths: list[str]) -> None:
        """Refuse any path that is not one of these inputs' files (the actor may not read it)."""
        allowed = set(self.paths)
        if any(p not in allowed for p in paths):
            raise InvalidInputError("only files of the inputs may be read", field="paths")

    def enterprise_bins(self, rows: int) -> list[list[str]]:
        """The paths in bins of whole enterprises (an enterprise's files are never split), each
        closed once it holds ``rows`` rows or more: a few large reads instead of one per enterprise."""
        bins: list[list[str]] = []
        current: list[str] = []
        size, last = 0, None
        for path, ent, n in zip(self.paths, self.path_enterprise, self.path_rows, strict=True):
            if ent != last and size >= rows:
                bins.append(current)
                current, size = [], 0
            current.append(path)
            size, last = size + n, ent
        return bins + [current] if current else bins

    def absolute(self) -> list[str]:
        return [(self.root / p).as_posix() for p in self.paths]

    def uris(self) -> list[str]:
        """``file://`` URIs of the files (what Spark reads; Hadoop paths are not percent-encoded)."""
        root = self.root.resolve().as_posix()
        return [f"file://{root}/{p}" for p in self.paths]


def _summary_filter(vis: Visibility):
    """Row filter over summary files: as for raw values; the regulator reads every enterprise."""
    if vis.registry_everything:
        return None
    return vis.arrow_filter()


class SummariesMixin(StoreBase):
    """Inputs of the batch engines, analysis runs and the summary files they write."""

    @property
    def summary_root(self) -> Path:
        return self.lake.root / SUMMARY_FOLDER

    # -- what the engines read ------------------------------------------------------------------

    def lake_inputs(self, actor: Actor, *, enterprise_ids: list[int] | None = None) -> LakeInputs:
        """The active lake files with values ``actor`` may read (of ``enterprise_ids``, or all),
        and the visibility whose :meth:`~Visibility.lake_filter` / :meth:`~Visibility.arrow_filter`
        must still be applied to their rows (shares of single products)."""
        with self._read() as conn:
            vis = self.visibility(actor, conn)
            q = select(t.lake_file.c.enterprise_id, t.lake_file.c.path, t.lake_file.c.rows).where(
                t.lake_file.c.active.is_(True))
            allowed = vis.data_enterprises()
            if allowed is not None:
                q = q.where(t.lake_file.c.enterprise_id.in_(sorted(allowed)))
            if enterprise_ids is not None:
                q = q.where(t.lake_file.c.enterprise_id.in_(sorted(enterprise_ids)))
            rows = conn.execute(q.order_by(t.lake_file.c.enterprise_id, t.lake_file.c.month, t.lake_file.c.path)).all()
        return LakeInputs(self.lake.root, tuple(r.path for r in rows), tuple(sorted({r.enterprise_id for r in rows})),
                          vis, tuple(r.enterprise_id for r in rows), tuple(r.rows for r in rows))

    def scan_inputs(self, inputs: LakeInputs, paths: list[str], columns: tuple[str, ...], *,
                    valid_only: bool = True, row_filter=None) -> pa.Table:
        """Rows of some of ``inputs``' files (stored columns) in storage order, with the inputs'
        tenancy filter applied (and ``row_filter``, a pyarrow expression, when given)."""
        inputs.require(paths)
        vis_filter = inputs.visibility.arrow_filter()
        if vis_filter is not None:
            row_filter = vis_filter if row_filter is None else vis_filter & row_filter
        return self.lake.scan(list(paths), columns, row_filter, valid_only=valid_only)

    def scan_windows(self, inputs: LakeInputs, paths: list[str], columns: tuple[str, ...], windows: pa.Table,
                     *, valid_only: bool = True) -> pa.Table:
        """Rows of some of ``inputs``' files measured with an instrument inside one of its time
        windows, with the index of that window as column ``window``. ``windows`` has columns
        ``instrument_id``, ``start`` and ``end`` (epoch microseconds, end excluded) and, per
        instrument, windows that do not overlap (so a row falls in one at most). One DuckDB join
        (a hash join on the instrument, then the time range), with the inputs' tenancy filter."""
        inputs.require(paths)
        out_cols = [*columns, "window"]
        if not paths or windows.num_rows == 0:
            empty = {c: pa.array([], LAKE_SCHEMA.field(c).type) for c in columns}
            return pa.table(empty | {"window": pa.array([], pa.int64())}).select(out_cols)
        w = pa.table({"instrument_id": windows.column("instrument_id").cast(pa.int32()),
                      "ws": windows.column("start").cast(pa.int64()), "we": windows.column("end").cast(pa.int64()),
                      "window": pa.array(np.arange(windows.num_rows), pa.int64())})
        where = [inputs.visibility.lake_filter("m.")] + (["m.status = 'valid'"] if valid_only else [])
        sql = (f"SELECT {self.lake.select_sql(columns, 'm.')}, w.window FROM {self.lake.relation_sql(paths)} m "
               "JOIN w ON m.instrument_id = w.instrument_id AND epoch_us(m.measured_at) >= w.ws "
               f"AND epoch_us(m.measured_at) < w.we WHERE {' AND '.join(where)}")
        con = self.lake.connect()
        try:
            con.register("w", w)
            return self.lake.fetch(con.sql(sql)).select(out_cols)
        finally:
            con.close()

    def scan_rows(self, actor: Actor, columns: tuple[str, ...], *, row_filter=None,
                  enterprise_ids: list[int] | None = None, valid_only: bool = True) -> pa.Table:
        """Visible lake rows (stored columns only) matching the pyarrow expression ``row_filter``,
        in storage order; row-group statistics prune what the filter excludes."""
        inputs = self.lake_inputs(actor, enterprise_ids=enterprise_ids)
        vis_filter = inputs.visibility.arrow_filter()
        if vis_filter is not None:
            row_filter = vis_filter if row_filter is None else vis_filter & row_filter
        return self.lake.scan(list(inputs.paths), columns, row_filter, valid_only=valid_only)

    # -- analysis runs ------------------------------------------------------------------------

    def _require_analysis(self, actor: Actor, conn, enterprise_ids: list[int] | None) -> None:
        """Writing summaries replaces an enterprise's files: the platform admin, or the owning
        enterprise's users for their own enterprises."""
        if actor.is_admin:
            return
        if actor.role not in ENTERPRISE_ROLES:
            self._require_role(actor, Role.ADMIN, *ENTERPRISE_ROLES)
        if enterprise_ids is None:
            raise InvalidInputError("name the enterprises to analyse (only the platform admin analyses the region)",
                                    field="enterprise_ids")
        for e in enterprise_ids:
            self._require_enterprise_write(actor, conn, e)

    def start_analysis(self, actor: Actor, *, engine: str, params: dict,
                       enterprise_ids: list[int] | None = None, kind: str = "region") -> int:
        """Record a running analysis; return its id (the run id of the files it writes)."""
        with self._write() as conn:
            self._require_analysis(actor, conn, enterprise_ids)
            return int(conn.execute(insert(t.analysis_run).values(
                kind=kind, engine=engine, params=params, enterprise_ids=None if enterprise_ids is None else
                sorted(int(e) for e in enterprise_ids), actor=actor.username, status="running",
                started_at=dt.datetime.now(dt.UTC))).inserted_primary_key[0])

    def summary_writer(self, run_id: int) -> SummaryWriter:
        return SummaryWriter(self.summary_root.as_posix(), int(run_id))

    def commit_analysis(self, actor: Actor, run_id: int, files: list[SummaryFile], *,
                        enterprise_ids: list[int], n_values: int) -> AnalysisRun:
        """List the run's files and mark those of earlier runs (same kind, same enterprises)
        replaced, in one transaction: the commit point of the run. ``enterprise_ids`` are the
        enterprises the run covered (an enterprise without values loses its old summaries)."""
        now = dt.datetime.now(dt.UTC)
        with self._write() as conn:
            run = self._run_row(conn, run_id)
            if run.status != "running":
                raise InvalidInputError(f"analysis run {run_id} is {run.status}", field="run_id")
            self._require_analysis(actor, conn, None if actor.is_admin else enterprise_ids)
            covered = sorted({int(e) for e in enterprise_ids} | {f.enterprise_id for f in files})
            if covered:
                for chunk in range(0, len(covered), 500):
                    conn.execute(update(t.summary_file).where(
                        t.summary_file.c.active.is_(True),
                        t.summary_file.c.enterprise_id.in_(covered[chunk:chunk + 500]),
                    ).values(active=False, replaced_at=now))
            if files:
                conn.execute(insert(t.summary_file), [
                    {"run_id": run_id, "kind": f.kind, "enterprise_id": f.enterprise_id, "year": f.year,
                     "path": f.path, "rows": f.rows, "bytes": f.bytes, "active": True} for f in files])
            conn.execute(update(t.analysis_run).where(t.analysis_run.c.id == run_id).values(
                status="done", finished_at=now, n_values=int(n_values)))
            seq, head = audit.append(conn, "analysis_run", f"run-{run_id}", {
                "engine": run.engine, "params": run.params, "enterprises": len(covered), "files": len(files),
                "rows": {k: sum(f.rows for f in files if f.kind == k) for k in SUMMARY_KINDS},
                "values": int(n_values)}, actor.username)
            row = self._run_row(conn, run_id)
        audit.write_anchor(self.anchor_path, seq, head)
        return self._run(row)

    def fail_analysis(self, actor: Actor, run_id: int, message: str) -> None:
        """Mark a run failed (its files, if any were written, stay unlisted and invisible)."""
        with self._write() as conn:
            self._run_row(conn, run_id)
            conn.execute(update(t.analysis_run).where(t.analysis_run.c.id == run_id).values(
                status="failed", finished_at=dt.datetime.now(dt.UTC), message=message[:4000]))

    @staticmethod
    def _run_row(conn, run_id: int):
        row = conn.execute(select(t.analysis_run).where(t.analysis_run.c.id == run_id)).first()
        if row is None:
            raise NotFoundError(f"analysis run {run_id} not found", field="run_id")
        return row

    @staticmethod
    def _run(row) -> AnalysisRun:
        return AnalysisRun(row.id, row.kind, row.engine, row.params, row.enterprise_ids, row.actor, row.status,
                           row.started_at, row.finished_at, row.n_values, row.message)

    def analysis_runs(self, actor: Actor, *, limit: int = 20) -> list[AnalysisRun]:
        """The latest analysis runs (the admin and the regulator see all; others their own)."""
        with self._read() as conn:
            q = select(t.analysis_run).order_by(t.analysis_run.c.id.desc()).limit(limit)
            if not (actor.is_admin or actor.is_regulator):
                q = q.where(t.analysis_run.c.actor == actor.username)
            return [self._run(r) for r in conn.execute(q)]

    # -- reading summaries ----------------------------------------------------------------------

    def summary_files(self, actor: Actor, kind: str, *, enterprise_ids: list[int] | None = None,
                      start_year: int | None = None, end_year: int | None = None) -> list[str]:
        """Active summary files of ``kind`` the actor may read (of the years ``start_year`` to
        ``end_year`` inclusive), relative to the summaries folder."""
        if kind not in SUMMARY_KINDS:
            raise InvalidInputError(f"must be one of {', '.join(SUMMARY_KINDS)}", field="kind")
        with self._read() as conn:
            vis = self.visibility(actor, conn)
            q = select(t.summary_file.c.path).where(t.summary_file.c.active.is_(True), t.summary_file.c.kind == kind)
            if not vis.registry_everything:
                allowed = vis.data_enterprises()
                if allowed is not None:
                    q = q.where(t.summary_file.c.enterprise_id.in_(sorted(allowed)))
            if enterprise_ids is not None:
                q = q.where(t.summary_file.c.enterprise_id.in_(sorted(enterprise_ids)))
            if start_year is not None:
                q = q.where(t.summary_file.c.year >= int(start_year))
            if end_year is not None:
                q = q.where(t.summary_file.c.year <= int(end_year))
            return list(conn.execute(q.order_by(t.summary_file.c.enterprise_id, t.summary_file.c.year,
                                                t.summary_file.c.path)).scalars())

    def read_summaries(self, actor: Actor, kind: str, *, enterprise_ids: list[int] | None = None,
                       start_year: int | None = None, end_year: int | None = None,
                       columns: list[str] | None = None, row_filter=None) -> pa.Table | None:
        """The active summaries of ``kind`` the actor may read, filtered by the pyarrow expression
        ``row_filter``; None when no analysis has written any yet. Of ``columns``, those the
        files do not have are left out."""
        files = self.summary_files(actor, kind, enterprise_ids=enterprise_ids, start_year=start_year,
                                   end_year=end_year)
        if not files:
            return None
        import pyarrow.dataset as ds

        missing = [f for f in files if not (self.summary_root / f).exists()]
        if missing:
            raise NotFoundError(f"summary file {missing[0]} is listed but missing; run `jingce analyse region` again",
                                field="path")
        with self._read() as conn:
            vis = self.visibility(actor, conn)
        flt = _summary_filter(vis)
        if row_filter is not None:
            flt = row_filter if flt is None else flt & row_filter
        dataset = ds.dataset([(self.summary_root / f).as_posix() for f in files], format="parquet")
        if columns is not None:  # files of an older jingce may lack some: the caller sees which
            columns = [c for c in columns if c in dataset.schema.names]
        return dataset.to_table(columns=columns, filter=flt)

    def vacuum_summaries(self, actor: Actor, *, older_than: dt.timedelta = dt.timedelta(hours=1)) -> int:
        """Delete summary files replaced more than ``older_than`` ago, and files of failed runs;
        return how many were removed."""
        self._require_role(actor, Role.ADMIN)
        cutoff = dt.datetime.now(dt.UTC) - older_than
        with self._read() as conn:
            paths = list(conn.execute(select(t.summary_file.c.path).where(
                t.summary_file.c.active.is_(False), t.summary_file.c.replaced_at <= cutoff)).scalars())
            listed = set(conn.execute(select(t.summary_file.c.path)).scalars())
        removed = 0
        for p in paths:
            f = self.summary_root / p
            if f.exists():
                f.unlink()
                removed += 1
        if self.summary_root.exists():  # leftovers of failed or interrupted runs
            for f in self.summary_root.rglob("*.parquet*"):
                rel = f.relative_to(self.summary_root).as_posix()
                if rel not in listed and f.stat().st_mtime <= cutoff.timestamp():
                    f.unlink()
                    removed += 1
        return removed


__all__ = ["SUMMARY_KINDS", "AnalysisRun", "LakeInputs", "SummariesMixin", "SummaryFile", "SummaryWriter"]
