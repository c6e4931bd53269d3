"""The Spark engine: the same batch analyses as Spark jobs over the same Parquet lake.

Spark reads the lake files the registry's manifest lists (never a directory listing: unlisted
files are unfinished writes), applies the actor's tenancy filter and keeps valid values, then
shuffles them so that each partition holds whole enterprises (or whole characteristics) sorted by
(enterprise, characteristic, time)::

    lake.repartition(n, key).sortWithinPartitions(enterprise, characteristic, time, position)
        .mapInArrow(the functions of jingce.engine.grouped)

so every partition streams its sorted Arrow batches through the very same numpy kernels the local
engine calls (no per-characteristic UDF, no pandas). The out-of-tolerance impact scan, a join
and a grouping, is stated in Spark SQL.

PySpark is imported only when the engine starts a session: ``pip install 'jingce[spark]'``.
"""

from __future__ import annotations

import functools
import os
import re
import sys
import threading
import uuid
from collections.abc import Iterator

import pyarrow as pa

from jingce.engine.base import AnalysisParams, Engine, Progress, WrittenSummaries
from jingce.engine.grouped import (
    FILE_SCHEMA,
    IMPACT_SCHEMA,
    KINDS,
    SCHEMAS,
    SortedBlocks,
    analyse_block,
    analyse_stream,
    file_rows,
    split_by_enterprise,
    write_outputs,
)
from jingce.engine.packed import LAKE_COLUMNS, PACK_SCHEMA, pack_stream, unpack_stream
from jingce.errors import InvalidInputError, require_extra
from jingce.model.batch import LAKE_SCHEMA

ARROW_BATCH_ROWS = 1 << 17
"""Rows per Arrow batch between the JVM and the Python workers (Spark's default, 10,000, costs more
per value)."""

_SORTED_COLUMNS = ("enterprise_id", "product_id", "characteristic_id", "measured_at", "local_us", "value",
                   "nominal", "lower_limit", "upper_limit")


def spark_type(t: pa.DataType) -> str:
    """The Spark SQL type of an Arrow type (for the DDL schemas of ``mapInArrow``)."""
    if pa.types.is_int8(t):
        return "TINYINT"
    if pa.types.is_int16(t):
        return "SMALLINT"
    if pa.types.is_int32(t):
        return "INT"
    if pa.types.is_int64(t):
        return "BIGINT"
    if pa.types.is_float64(t):
        return "DOUBLE"
    if pa.types.is_boolean(t):
        return "BOOLEAN"
    if pa.types.is_string(t):
        return "STRING"
    if pa.types.is_binary(t) or pa.types.is_large_binary(t):
        return "BINARY"
    if pa.types.is_timestamp(t):
        return "TIMESTAMP"
    if pa.types.is_date32(t):
        return "DATE"
    if pa.types.is_list(t):
        return f"ARRAY<{spark_type(t.value_type)}>"
    raise InvalidInputError(f"no Spark type for {t}", field="type")


def spark_schema(schema: pa.Schema) -> str:
    return ", ".join(f"`{f.name}` {spark_type(f.type)}" for f in schema)


_MASTER = re.compile(r"spark|yarn|local\[(\d+|\*)(,\d+)?\]|(spark|k8s|mesos)://\S+")


def is_spark_url(spec: str) -> bool:
    """Whether an engine setting names a Spark master (``local[N]``, ``local[*]``,
    ``local[N,retries]``, ``spark://host:port``, ``yarn``, ``k8s://...``, or plain ``spark`` for
    ``local[*]``)."""
    return _MASTER.fullmatch(spec) is not None


# -- the functions the Python workers run ------------------------------------------------------


def _sorted_input(batches: Iterator, packed: bool) -> Iterator:
    return unpack_stream(batches) if packed else batches


def _map_rows(batches: Iterator, kind: str, params: AnalysisParams, block_rows: int,
              packed: bool = False) -> Iterator[pa.RecordBatch]:
    for out in analyse_stream(_sorted_input(batches, packed), params, (kind,), block_rows=block_rows):
        yield from out[kind].to_batches()


def _map_write(batches: Iterator, writer, params: AnalysisParams, block_rows: int,
               packed: bool = False) -> Iterator[pa.RecordBatch]:
    """Analyse a partition of whole enterprises and write each enterprise's files as soon as the
    stream has moved past it; report the files written (:data:`FILE_SCHEMA`)."""
    batches = _sorted_input(batches, packed)
    pending: dict[int, dict[str, list[pa.Table]]] = {}

    def flush(before: int | None):
        for ent in sorted(e for e in pending if before is None or e < before):
            parts = pending.pop(ent)
            out = {k: pa.concat_tables(v) for k, v in parts.items() if v}
            files = write_outputs(writer, ent, out)
            n = out["characteristic"].column("n_values").to_numpy().sum() if "characteristic" in out else 0
            yield from file_rows(files, int(n)).to_batches()

    for block in SortedBlocks(batches, block_rows=block_rows):
        out = analyse_block(block, params, KINDS)
        for kind, table in out.items():
            for ent, part in split_by_enterprise(table):
                pending.setdefault(ent, {k: [] for k in KINDS})[kind].append(part)
        last = int(block.column("enterprise_id")[-1].as_py())
        yield from flush(last)
    yield from flush(None)


def _files_task(bins: Iterator, root: str, row_filter, kinds: tuple[str, ...], params: AnalysisParams,
                writer=None) -> Iterator:
    """A task of the ``files`` plan: for each enterprise of its bins, read the enterprise's lake
    files (each sorted by characteristic and time) straight from the shared lake, put them in
    (characteristic, time) order and run the kernels, exactly as the local engine does; yield the
    result tables, or, with ``writer``, write them and yield the files written."""
    from jingce.engine.local import SCAN_COLUMNS, analyse_table, in_order
    from jingce.store.lake import Lake

    lake = Lake(root)
    for tasks in bins:
        for ent, paths in tasks:
            out = analyse_table(in_order(lake.scan(list(paths), SCAN_COLUMNS, row_filter, valid_only=True)),
                                params, kinds)
            if writer is None:
                yield out
            else:
                n = int(out["characteristic"].column("n_values").to_numpy().sum())
                yield file_rows(write_outputs(writer, ent, out), n)


class _Watch:
    """Reports the progress of the jobs of one job group (completed / all tasks) from a thread."""

    def __init__(self, sc, group: str, progress: Progress | None, every: float = 0.5) -> None:
        self.sc, self.group, self.progress, self.every = sc, group, progress, every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True) if progress else None

    def __enter__(self):
        self.sc.setJobGroup(self.group, "jingce", interruptOnCancel=True)
        if self._thread:
            self._thread.start()
        return self

    def _poll(self) -> None:
        st = self.sc.statusTracker()
        done = total = 0
        for job in st.getJobIdsForGroup(self.group):
            info = st.getJobInfo(job)
            for stage in info.stageIds if info else ():
                s = st.getStageInfo(stage)
                if s:
                    total += s.numTasks
                    done += s.numCompletedTasks
        if total:
            self.progress(done, total)

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            try:
                self._poll()
            except Exception:  # noqa: BLE001 - progress is best effort; the job itself reports errors
                return

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join()
            if exc[0] is None:
                try:
                    self._poll()
                except Exception:  # noqa: BLE001
                    pass
        self.sc.clearJobGroup() if hasattr(self.sc, "clearJobGroup") else None


class SparkEngine(Engine):
    """PySpark over the lake.

    Parameters
    ----------
    master : str
        Spark master URL: ``local[2]`` (two threads in this machine, for tests), ``spark://host:7077``
        (a standalone cluster), ``yarn``, ``k8s://...``; ``spark`` means ``local[*]``.
    conf : mapping, optional
        Extra Spark settings for the session this engine starts.
    partitions : int, optional
        Shuffle partitions (default: 2 per core Spark reports, ``spark.default.parallelism``).
    session : SparkSession, optional
        Use this session instead of starting one (it is then not stopped by :meth:`close`). A
        session already active in this process is used likewise (Spark runs one per process).
    block_rows : int
        Rows gathered per block before the kernels run (whole characteristics; memory per task).
    plan : {"files", "packed", "rows"}
        ``files`` (default): no shuffle at all; Spark only schedules. Each task reads whole
        enterprises' lake files (sorted by characteristic and time, one per month once compacted)
        from the shared lake with pyarrow and runs the local engine's code on them; needs the lake
        at the same path on every executor (docs/deploy.md). The shuffle plans read the lake
        through Spark: ``packed``, each input task packs the runs of one characteristic that the
        sorted files hold into one row (:mod:`jingce.engine.packed`), so the shuffle moves and
        sorts runs; ``rows``, the shuffle moves and sorts every value. Results are the same.
    """

    name = "spark"
    UNSUPPORTED: frozenset[str] = frozenset({"enterprise_progress"})
    """Progress is reported per task (a partition holds many enterprises), not per enterprise."""

    def __init__(self, master: str = "local[2]", *, conf: dict | None = None, partitions: int | None = None,
                 session=None, block_rows: int = 1 << 20, app_name: str = "jingce", plan: str = "files") -> None:
        if plan not in ("packed", "rows", "files"):
            raise InvalidInputError("must be packed, rows or files", field="plan")
        self.plan = plan
        self.master = "local[*]" if master == "spark" else master
        self.conf = dict(conf or {})
        self.partitions = partitions
        self.block_rows = block_rows
        self.app_name = app_name
        self._session = session
        self._owns = session is None
        self.start_seconds: float | None = None

    def __repr__(self) -> str:
        return f"SparkEngine({self.master!r})" if self.plan == "packed" else f"SparkEngine({self.master!r}, plan='rows')"

    # -- session --------------------------------------------------------------------------------

    @property
    def session(self):
        """The SparkSession (started on first use; its start-up time is kept in ``start_seconds``)."""
        if self._session is None:
            import time

            require_extra("pyspark", "spark")
            from pyspark.sql import SparkSession

            t0 = time.perf_counter()
            # PySpark starts its Python workers with the driver's $PYSPARK_PYTHON (default
            # ``python3``): locally, this interpreter, which has jingce and its dependencies; on a
            # cluster, the interpreter named by spark.pyspark.python (an environment shipped with
            # spark.archives, or one installed on every worker: docs/deploy.md)
            if "spark.pyspark.python" in self.conf:
                os.environ["PYSPARK_PYTHON"] = str(self.conf["spark.pyspark.python"])
            elif self.master.startswith("local"):
                os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
            active = SparkSession.getActiveSession()
            if active is not None:  # one session per process: use the one already running
                self._session, self._owns = active, False
                self.start_seconds = 0.0
                return active
            builder = SparkSession.builder.master(self.master).appName(self.app_name)
            for k, v in self.default_conf().items():
                builder = builder.config(k, v)
            self._session = builder.getOrCreate()
            self._session.sparkContext.setLogLevel(self.conf.get("jingce.logLevel", "WARN"))
            self.start_seconds = time.perf_counter() - t0
        return self._session

    def default_conf(self) -> dict[str, str]:
        conf = {
            "spark.sql.session.timeZone": "UTC",
            "spark.sql.execution.arrow.maxRecordsPerBatch": str(ARROW_BATCH_ROWS),
            "spark.ui.showConsoleProgress": "false",
            "spark.sql.adaptive.coalescePartitions.enabled": "false",  # keep the partitions asked for
        }
        if self.master.startswith("local"):
            # stay on the loopback interface (no host name lookups)
            conf["spark.driver.host"] = "127.0.0.1"
            conf["spark.driver.bindAddress"] = "127.0.0.1"
        conf.update({k: str(v) for k, v in self.conf.items() if not k.startswith("jingce.")})
        return conf

    def close(self) -> None:
        if self._session is not None and self._owns:
            self._session.stop()
        self._session = None

    def _partitions(self) -> int:
        if self.partitions:
            return int(self.partitions)
        return 2 * int(self.session.sparkContext.defaultParallelism)

    # -- reading the lake -----------------------------------------------------------------------

    def lake_frame(self, store, actor, enterprise_ids=None):
        """The actor's valid lake rows as a DataFrame (None when there are no files)."""
        inputs = store.lake_inputs(actor, enterprise_ids=enterprise_ids)
        if not inputs.paths:
            return None
        df = self.session.read.schema(spark_schema(LAKE_SCHEMA)).parquet(*inputs.uris())
        return df.where(inputs.visibility.lake_filter()).where("status = 'valid'")

    def sorted_frame(self, store, actor, enterprise_ids=None, *, by: str = "characteristic",
                     partitions: int | None = None):
        """Valid rows shuffled to ``partitions`` partitions of whole characteristics (``by=
        "characteristic"``) or whole enterprises (``by="enterprise"``), sorted within each by
        (enterprise, characteristic, time, position); with ``plan="packed"`` rows are runs of
        :data:`jingce.engine.packed.PACK_SCHEMA` (sorted by first time and position). None when
        there are no files."""
        df = self.lake_frame(store, actor, enterprise_ids)
        if df is None:
            return None
        key = {"characteristic": "characteristic_id", "enterprise": "enterprise_id"}[by]
        n = partitions or self._partitions()
        if self.plan == "packed":
            runs = df.select(*LAKE_COLUMNS).mapInArrow(pack_stream, spark_schema(PACK_SCHEMA))
            return (runs.repartition(n, key)
                    .sortWithinPartitions("enterprise_id", "characteristic_id", "first_at", "first_position"))
        df = df.selectExpr("enterprise_id", "product_id", "characteristic_id", "measured_at", "position",
                           "unix_micros(measured_at) + CAST(utc_offset_min AS BIGINT) * 60000000 AS local_us",
                           "value", "nominal", "lower_limit", "upper_limit")
        return (df.repartition(n, key)
                .sortWithinPartitions("enterprise_id", "characteristic_id", "measured_at", "position")
                .select(*_SORTED_COLUMNS))

    # -- the analyses -----------------------------------------------------------------------------

    def file_bins(self, store, actor, enterprise_ids=None, partitions: int | None = None):
        """The ``files`` plan's work: each visible enterprise with its lake files, dealt into
        ``partitions`` bins of about equal bytes (largest enterprise first); with the lake root
        and the tenancy filter the tasks apply."""
        from jingce.engine.local import by_enterprise

        inputs = store.lake_inputs(actor, enterprise_ids=enterprise_ids)
        groups = by_enterprise(inputs.paths)
        root = inputs.root.resolve()
        size = {e: sum((root / p).stat().st_size for p in ps) for e, ps in groups.items()}
        n = max(1, min(partitions or self._partitions(), len(groups)))
        bins: list[list] = [[] for _ in range(n)]
        load = [0] * n
        for e in sorted(groups, key=lambda e: (-size[e], e)):
            i = load.index(min(load))
            bins[i].append((e, tuple(groups[e])))
            load[i] += size[e]
        return [b for b in bins if b], root.as_posix(), inputs.visibility.arrow_filter()

    def _run_files(self, store, actor, enterprise_ids, partitions, group: str, progress, **kw) -> list:
        bins, root, flt = self.file_bins(store, actor, enterprise_ids, partitions)
        if not bins:
            return []
        fn = functools.partial(_files_task, root=root, row_filter=flt, **kw)
        with _Watch(self.session.sparkContext, group, progress):
            return self.session.sparkContext.parallelize(bins, len(bins)).mapPartitions(fn).collect()

    def _rows(self, kind, store, actor, params, enterprise_ids, progress, partitions=None) -> pa.Table:
        schema = SCHEMAS[kind]
        group = f"jingce-{kind}-{uuid.uuid4().hex[:8]}"
        if self.plan == "files":
            outs = self._run_files(store, actor, enterprise_ids, partitions, group, progress, kinds=(kind,),
                                   params=params)
            table = pa.concat_tables([o[kind] for o in outs]) if outs else schema.empty_table()
        else:
            df = self.sorted_frame(store, actor, enterprise_ids, partitions=partitions)
            if df is None:
                return schema.empty_table()
            fn = functools.partial(_map_rows, kind=kind, params=params, block_rows=self.block_rows,
                                   packed=self.plan == "packed")
            with _Watch(self.session.sparkContext, group, progress):
                table = df.mapInArrow(fn, spark_schema(schema)).toArrow()
        keys = [("enterprise_id", "ascending"), ("characteristic_id", "ascending")]
        keys += {"subgroup": [("subgroup", "ascending")], "daily": [("day", "ascending")]}.get(kind, [])
        return table.cast(schema).sort_by(keys)

    def characteristic_summary(self, store, actor, *, params=AnalysisParams(), enterprise_ids=None, progress=None,
                               partitions: int | None = None):
        return self._rows("characteristic", store, actor, params, enterprise_ids, progress, partitions)

    def subgroup_summaries(self, store, actor, *, params=AnalysisParams(), enterprise_ids=None, progress=None):
        return self._rows("subgroup", store, actor, params, enterprise_ids, progress)

    def daily_summaries(self, store, actor, *, params=AnalysisParams(), enterprise_ids=None, progress=None):
        return self._rows("daily", store, actor, params, enterprise_ids, progress)

    def write_summaries(self, store, actor, run_id, *, params=AnalysisParams(), enterprise_ids=None, progress=None):
        from jingce.store.summaries import SummaryFile

        group = f"jingce-write-{run_id}-{uuid.uuid4().hex[:8]}"
        if self.plan == "files":
            outs = self._run_files(store, actor, enterprise_ids, None, group, progress, kinds=KINDS, params=params,
                                   writer=store.summary_writer(run_id))
            rows = pa.concat_tables(outs).to_pylist() if outs else []
        else:
            df = self.sorted_frame(store, actor, enterprise_ids, by="enterprise")
            if df is None:
                return WrittenSummaries([], 0)
            fn = functools.partial(_map_write, writer=store.summary_writer(run_id), params=params,
                                   block_rows=self.block_rows, packed=self.plan == "packed")
            with _Watch(self.session.sparkContext, group, progress):
                rows = df.mapInArrow(fn, spark_schema(FILE_SCHEMA)).toArrow().to_pylist()
        files = [SummaryFile(r["path"], r["kind"], r["enterprise_id"], r["year"], r["rows"], r["bytes"])
                 for r in sorted(rows, key=lambda r: r["path"])]
        return WrittenSummaries(files, sum(r["n_values"] for r in rows))

    def impact_scan(self, store, actor, windows):
        if windows.num_rows == 0:
            return IMPACT_SCHEMA.empty_table()
        df = self.lake_frame(store, actor)
        if df is None:
            return IMPACT_SCHEMA.empty_table()
        from pyspark.sql import functions as F  # noqa: N812

        w = self.session.createDataFrame(windows.select(["window", "instrument_id", "start", "end", "error", "unit"]))
        m = df.where("value BETWEEN -1.7976931348623157E308 AND 1.7976931348623157E308")  # finite values
        j = m.join(F.broadcast(w), (m["instrument_id"] == w["instrument_id"]) & (m["measured_at"] >= w["start"])
                   & (m["measured_at"] < w["end"]))
        v, lo, hi, err = m["value"], m["lower_limit"], m["upper_limit"], F.abs(w["error"])
        known = w["error"].isNotNull() & ~F.isnan(w["error"]) & (m["unit"] == w["unit"])
        out = (j.groupBy(w["window"], w["instrument_id"], m["enterprise_id"], m["product_id"], m["characteristic_id"])
               .agg(F.count(F.lit(1)).alias("n_values"),
                    F.sum(F.when((v < lo) | (v > hi), 1).otherwise(0)).alias("n_out_of_spec"),
                    F.sum(F.when(known & ((F.abs(v - lo) <= err) | (F.abs(v - hi) <= err)), 1).otherwise(0))
                    .alias("n_at_risk"),
                    F.min(m["measured_at"]).alias("first_at"), F.max(m["measured_at"]).alias("last_at"),
                    F.array_sort(F.collect_set(m["serial"])).alias("serials")))
        table = out.toArrow().cast(IMPACT_SCHEMA)
        return table.sort_by([("window", "ascending"), ("characteristic_id", "ascending")])


__all__ = ["SparkEngine", "is_spark_url", "spark_schema"]
