"""Engine conformance: every batch analysis gives the same results on every engine.

Each engine runs each operation on a small demo region and on an edge-case region (one value, no
specification, zero spread, invalid-only and non-finite values, empty Spark partitions, a
product shared alone) and must match the local engine, the reference: floating point to 1e-9
relative, counts, ids, times and sets exactly. Operations an engine declares in ``UNSUPPORTED``
must refuse with :class:`UnsupportedOperationError` instead.

Spark runs in local mode (``local[2]``) in this process: ONE session for the whole test session,
started by the ``spark`` fixture; all tests here run in one xdist group so that they share it.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from jingce.engine import OPERATIONS, AnalysisParams, UnsupportedOperationError
from jingce.engine.grouped import (
    CHARACTERISTIC_SCHEMA,
    DAILY_SCHEMA,
    IMPACT_SCHEMA,
    SUBGROUP_SCHEMA,
    WINDOW_SCHEMA,
)
from jingce.engine.local import LocalEngine
from jingce.services.demo.build import build_demo
from jingce.services.region import analyse_region, impact_windows, region_view
from jingce.settings import Settings
from jingce.store import Store
from tests.integration.test_engine_regions import assert_same, build_edge

pytestmark = pytest.mark.xdist_group("engine")

SPARK_TEST_CONF = {
    "spark.ui.enabled": "false",
    # a short-lived JVM: the C1 compiler only starts Spark in about half the time
    "spark.driver.extraJavaOptions": "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC",
    "spark.sql.sources.parallelPartitionDiscovery.threshold": "100000",
    "spark.driver.memory": "1g",
}
PARTITIONS = 8  # more partitions than the edge region has characteristics: some stay empty


@pytest.fixture(scope="session")
def spark():
    pytest.importorskip("pyspark", reason="pyspark is not installed (pip install 'jingce[spark]')")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        pytest.skip("Spark needs Java 17")
    from jingce.engine.spark import SparkEngine

    engine = SparkEngine("local[2]", conf=SPARK_TEST_CONF, partitions=PARTITIONS, plan="packed")
    engine.session  # noqa: B018 - start it once, here
    yield engine
    engine.close()


@pytest.fixture(params=["local", pytest.param("spark", marks=pytest.mark.spark)])
def engine(request):
    if request.param == "local":
        return LocalEngine()
    return request.getfixturevalue("spark")


@pytest.fixture(scope="session")
def demo(tmp_path_factory):
    store = Store(Settings(data_dir=tmp_path_factory.mktemp("engine-demo")))
    build_demo(store, seed=11, scale=0.02)
    yield store
    store.close()


@pytest.fixture(scope="session")
def edge(tmp_path_factory):
    store = Store(Settings(data_dir=tmp_path_factory.mktemp("engine-edge")))
    region = build_edge(store)
    yield region
    store.close()


_reference: dict = {}


def reference(store: Store, op: str, actor=None, **kw) -> pa.Table:
    """The local engine's result (computed once per store, operation and actor)."""
    actor = actor or store.bootstrap()
    key = (id(store), op, actor.username, tuple(sorted(kw.items())))
    if key not in _reference:
        _reference[key] = getattr(LocalEngine(), op)(store, actor, **kw)
    return _reference[key]


def _run(engine, op, *args, **kw):
    if op in engine.UNSUPPORTED:
        with pytest.raises(UnsupportedOperationError):
            engine.require(op)
        pytest.skip(f"{engine.name} declares {op} unsupported")
    return getattr(engine, op)(*args, **kw)


# -- the demo region -----------------------------------------------------------------------------


def test_characteristic_summary(engine, demo):
    admin = demo.bootstrap()
    got = _run(engine, "characteristic_summary", demo, admin)
    ref = reference(demo, "characteristic_summary")
    assert got.schema == CHARACTERISTIC_SCHEMA
    assert ref.num_rows == len(demo.list_characteristics(admin)) - _without_values(demo)
    assert_same(ref, got, what="characteristic_summary")
    assert int(np.sum(got.column("alarms").to_numpy())) > 0  # the demo has out-of-control episodes


def _without_values(store) -> int:
    admin = store.bootstrap()
    have = set(store.scan(admin, columns=("characteristic_id",), valid_only=True).column("characteristic_id")
               .unique().to_pylist())
    return sum(1 for c in store.list_characteristics(admin) if c.id not in have)


def test_written_summaries_and_region_view(engine, demo):
    """One run per engine writes all three analyses; the files equal the reference tables, and
    the region view pooled from them equals the quality summary."""
    admin = demo.bootstrap()
    if "write_summaries" in engine.UNSUPPORTED:
        _run(engine, "write_summaries", demo, admin, 0)
    run = analyse_region(demo, admin, engine)
    assert run.status == "done" and run.n_values == demo.lake_stats()["rows"] - _invalid(demo)
    for kind, op, keys in (("characteristic", "characteristic_summary", ()), ("subgroup", "subgroup_summaries",
                                                                              ("subgroup",)),
                           ("daily", "daily_summaries", ("day",))):
        files = demo.summary_files(admin, kind)
        assert files and all(f"run-{run.id}." in f for f in files)
        got = pa.concat_tables([pq.read_table(demo.summary_root / f) for f in files])
        got = got.sort_by([("enterprise_id", "ascending"), ("characteristic_id", "ascending")]
                          + [(k, "ascending") for k in keys])
        assert_same(reference(demo, op), got, what=kind)
    view = region_view(demo, admin).per_characteristic
    summary = reference(demo, "characteristic_summary")
    for name in ("n_values", "n_subgroups", "mean", "sigma_overall", "sigma_within", "cp", "cpk", "pp", "ppk",
                 "cpk_lo", "cpk_hi", "ppm_overall", "out_of_spec", "alarms", "first_at", "last_at"):
        assert_same(summary.select([name]), view.select([name]), what=f"region view {name}")


def _invalid(store) -> int:
    admin = store.bootstrap()
    t = store.scan(admin, columns=("status",))
    return int(np.sum(np.asarray(t.column("status").to_pylist()) != "valid"))


@pytest.mark.parametrize("where", ["demo", "edge"])
def test_impact_scan(engine, where, request):
    store = request.getfixturevalue(where)
    store = getattr(store, "store", store)
    admin = store.bootstrap()
    at = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    all_windows = impact_windows(store, admin, at=at)
    assert {"out_of_tolerance", "expired"} <= set(all_windows.column("reason").to_pylist())
    windows = all_windows.select(WINDOW_SCHEMA.names)
    got = _run(engine, "impact_scan", store, admin, windows)
    key = (id(store), "impact")
    if key not in _reference:
        _reference[key] = LocalEngine().impact_scan(store, admin, windows)
    assert got.schema == IMPACT_SCHEMA and got.num_rows > 0
    assert int(np.sum(got.column("n_at_risk").to_numpy())) > 0
    assert_same(_reference[key], got, what="impact_scan")


# -- the edge-case region ------------------------------------------------------------------------


@pytest.mark.parametrize("op", ["characteristic_summary", "subgroup_summaries", "daily_summaries"])
def test_edge_cases(engine, edge, op):
    st = edge.store
    got = _run(engine, op, st, edge.admin)
    ref = reference(st, op)
    assert_same(ref, got, what=op)
    if op == "characteristic_summary":
        by_key = {r["characteristic_id"]: r for r in got.to_pylist()}
        chars = {c.key: c.id for c in st.list_characteristics(edge.admin)}
        assert chars["GONE"] not in by_key  # invalid values only: no row
        single = by_key[chars["SINGLE"]]
        assert single["n_values"] == 1 and single["mean"] == 1.02 and np.isnan(single["sigma_overall"])
        assert np.isnan(by_key[chars["NOSPEC"]]["cpk"]) and np.isnan(by_key[chars["NOSPEC"]]["nominal"])
        assert by_key[chars["NOSPEC"]]["mean"] == pytest.approx(1000.0, abs=1e-3)
        assert by_key[chars["FLAT"]]["sigma_overall"] == 0.0
        assert by_key[chars["L"]]["n_values"] == 28  # 10 invalid and 3 non-finite values left out
        assert by_key[chars["OD"]]["alarms"] > 0
        assert by_key[chars["RUNOUT"]]["cp"] != by_key[chars["RUNOUT"]]["cp"]  # one-sided: no Cp
    if op == "daily_summaries":
        assert got.schema == DAILY_SCHEMA
        od = st.find_characteristic(edge.admin, "S", "RING", "OD").id
        days = got.filter(pc.equal(got.column("characteristic_id"), od))
        assert days.num_rows == 40 and int(np.sum(days.column("n").to_numpy())) == 40
    if op == "subgroup_summaries":
        assert got.schema == SUBGROUP_SCHEMA
        n = got.column("n").to_numpy()
        assert n.max() == 5 and n.min() >= 1


def test_tenancy_shared_product_only(engine, edge):
    """C sees its own values and, of supplier S, only the shared product RING (not HUB)."""
    st = edge.store
    got = _run(engine, "characteristic_summary", st, edge.c)
    assert_same(reference(st, "characteristic_summary", actor=edge.c), got, what="tenancy")
    keys = {c.id: c.key for c in st.list_characteristics(edge.admin)}
    assert sorted(keys[i] for i in got.column("characteristic_id").to_pylist()) == sorted(
        ["RUNOUT", "SINGLE", "FLAT", "NOSPEC", "OD", "ID"])
    assert set(got.column("enterprise_id").to_pylist()) == {edge.ent["C"].id, edge.ent["S"].id}
    nothing = _run(engine, "daily_summaries", st, edge.x, enterprise_ids=[edge.ent["C"].id])
    assert nothing.num_rows == 0 and nothing.schema == DAILY_SCHEMA


def test_parameters_reach_the_kernels(engine, edge):
    st = edge.store
    params = AnalysisParams(subgroup_size=1, rules="western_electric", constants="tabled")
    got = _run(engine, "characteristic_summary", st, edge.admin, params=params)
    ref = LocalEngine().characteristic_summary(st, edge.admin, params=params)
    assert_same(ref, got, what="individuals")
    assert np.array_equal(got.column("n_subgroups").to_numpy(), got.column("n_values").to_numpy())


def test_unsupported_operations_are_declared(engine):
    assert engine.UNSUPPORTED <= set(OPERATIONS)
    for op in OPERATIONS:
        if op in engine.UNSUPPORTED:
            assert not engine.supports(op)
            with pytest.raises(UnsupportedOperationError):
                engine.require(op)
        else:
            assert engine.supports(op)
            engine.require(op)
    with pytest.raises(UnsupportedOperationError):
        engine.supports("no_such_operation")


@pytest.mark.spark
def test_analyse_region_command_on_spark(spark, edge):
    """``jingce analyse region --engine local[2]`` uses the running session and writes the run."""
    from typer.testing import CliRunner

    from jingce.cli.analyse_cmd import analyse_app

    st = edge.store
    before = len(st.analysis_runs(edge.admin))
    r = CliRunner().invoke(analyse_app, ["region", "--data", str(st.settings.data_dir), "--engine", "local[2]",
                                         "--plan", "files", "--no-show"], env={"COLUMNS": "160"})
    assert r.exit_code == 0, r.output + repr(r.exception)
    runs = st.analysis_runs(edge.admin)
    assert len(runs) == before + 1 and runs[0].status == "done" and runs[0].engine == "local[2]"
    assert "analysis run" in r.output or "分析批次" in r.output
    assert spark.session.sparkContext._jsc is not None  # the shared session is still running


@pytest.mark.spark
def test_spark_partitions_include_empty_ones(spark, edge):
    """The edge region's characteristics do not fill the 8 partitions: empty partitions stream
    nothing and yield nothing (the results above already include them)."""
    df = spark.sorted_frame(edge.store, edge.admin)
    sizes = df.rdd.mapPartitions(lambda runs: [sum(r["n"] for r in runs)]).collect()  # packed runs
    assert len(sizes) == PARTITIONS and 0 in sizes
    assert sum(sizes) == 141 + 3  # valid values; the kernels drop the 3 non-finite ones


@pytest.mark.spark
def test_spark_plan_of_rows(spark, edge):
    """The plain plan (every value shuffled and sorted) gives the same results as the packed one."""
    from jingce.engine.spark import SparkEngine

    rows = SparkEngine("local[2]", session=spark.session, partitions=3, plan="rows")
    for op in ("characteristic_summary", "daily_summaries"):
        assert_same(reference(edge.store, op), getattr(rows, op)(edge.store, edge.admin), what=op)


@pytest.mark.spark
def test_spark_plan_of_files(spark, demo, edge, tmp_path):
    """The files plan (no shuffle: each task reads whole enterprises' files) gives the same results,
    respects tenancy, and writes the same summaries."""
    from jingce.engine.spark import SparkEngine

    files = SparkEngine("local[2]", session=spark.session, partitions=3, plan="files")
    for st in (edge.store, demo):
        for op in ("characteristic_summary", "daily_summaries", "subgroup_summaries"):
            assert_same(reference(st, op), getattr(files, op)(st, st.bootstrap()), what=op)
    assert_same(reference(edge.store, "characteristic_summary", actor=edge.c),
                files.characteristic_summary(edge.store, edge.c), what="tenancy")
    bins, _, _ = files.file_bins(demo, demo.bootstrap(), partitions=3)
    assert len(bins) == 3 and sorted(e for b in bins for e, _ in b) == list(
        demo.lake_inputs(demo.bootstrap()).enterprises)
    run = analyse_region(demo, demo.bootstrap(), files)
    assert run.status == "done"
    view = region_view(demo, demo.bootstrap()).per_characteristic
    assert_same(reference(demo, "characteristic_summary").select(["sigma_within", "cpk"]),
                view.select(["sigma_within", "cpk"]), what="region view from files-plan summaries")


@pytest.mark.spark
def test_spark_refuses_an_unsorted_stream(spark, edge):
    """Without the sort, the streaming check in the Python workers stops the job."""
    import functools

    from jingce.engine.grouped import CHARACTERISTIC_SCHEMA as SCHEMA
    from jingce.engine.spark import _map_rows, spark_schema

    df = spark.lake_frame(edge.store, edge.admin).selectExpr(
        "enterprise_id", "product_id", "characteristic_id", "measured_at", "0 AS local_us", "value", "nominal",
        "lower_limit", "upper_limit").orderBy("measured_at").coalesce(1)
    fn = functools.partial(_map_rows, kind="characteristic", params=AnalysisParams(), block_rows=1 << 20)
    with pytest.raises(Exception, match="StreamOrderError|sorted by"):
        df.mapInArrow(fn, spark_schema(SCHEMA)).toArrow()
