"""Choosing an engine, the lazy PySpark import, declared unsupported operations, and the sorted-
stream check of the per-partition functions (no Spark session needed here)."""

from __future__ import annotations

import builtins
import sys

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from jingce.engine import (
    OPERATIONS,
    AnalysisParams,
    StreamOrderError,
    UnsupportedOperationError,
    engine_kind,
    open_engine,
)
from jingce.engine import local as local_engine
from jingce.engine.grouped import SortedBlocks, analyse_block, combine_moments, subgroup_bounds
from jingce.engine.local import LocalEngine
from jingce.errors import DependencyMissingError, InvalidInputError
from jingce.settings import Settings
from tests.integration.test_engine_regions import assert_same

TS = pa.timestamp("us", tz="UTC")


@pytest.mark.parametrize("spec, kind", [("local", "local"), ("local[2]", "spark"), ("local[*]", "spark"),
                                        ("spark", "spark"), ("spark://head:7077", "spark"), ("yarn", "spark"),
                                        ("k8s://https://api:6443", "spark")])
def test_engine_kinds(spec, kind):
    assert engine_kind(spec) == kind


def test_open_engine_from_settings():
    assert isinstance(open_engine(Settings.from_env({}).engine), LocalEngine)
    spark = open_engine(Settings.from_env({"JINGCE_ENGINE": "spark://head:7077"}).engine, partitions=16)
    assert spark.name == "spark" and spark.master == "spark://head:7077" and spark.partitions == 16
    assert spark._session is None  # nothing started until the engine is used
    assert open_engine("spark").master == "local[*]"
    for bad in ("duckdb", "local[", "", "mysql://x"):
        if bad == "":
            assert engine_kind(bad) == "local"  # empty setting: the default
            continue
        with pytest.raises(InvalidInputError, match="JINGCE_ENGINE"):
            open_engine(bad)
    with pytest.raises(InvalidInputError):
        open_engine("local", partitions=4)


def test_spark_engine_without_pyspark_names_the_extra(monkeypatch):
    real_import = builtins.__import__

    def no_pyspark(name, *args, **kw):
        if name == "pyspark" or name.startswith("pyspark."):
            raise ImportError("No module named 'pyspark'")
        return real_import(name, *args, **kw)

    monkeypatch.setattr(builtins, "__import__", no_pyspark)
    for mod in [m for m in sys.modules if m == "pyspark" or m.startswith("pyspark.")]:
        monkeypatch.delitem(sys.modules, mod)
    engine = open_engine("local[2]")
    with pytest.raises(DependencyMissingError, match=r"jingce\[spark\]"):
        engine.session  # noqa: B018


def test_importing_the_engines_needs_no_pyspark():
    import subprocess

    code = ("import sys; import jingce.engine, jingce.engine.spark, jingce.engine.local; "
            "assert 'pyspark' not in sys.modules, 'pyspark imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_unsupported_is_data():
    from jingce.engine.spark import SparkEngine

    for cls in (LocalEngine, SparkEngine):
        assert isinstance(cls.UNSUPPORTED, frozenset) and cls.UNSUPPORTED <= set(OPERATIONS)
    e = SparkEngine("local[2]")
    with pytest.raises(UnsupportedOperationError) as info:
        e.require("enterprise_progress")
    assert info.value.code == "unsupported_operation" and "spark" in str(info.value)


# -- the sorted stream -----------------------------------------------------------------------


def _batch(ent, char, t_us, values=None):
    n = len(char)
    values = np.linspace(1.0, 2.0, n) if values is None else values
    return pa.record_batch({
        "enterprise_id": pa.array(ent, pa.int32()), "product_id": pa.array(np.ones(n), pa.int32()),
        "characteristic_id": pa.array(char, pa.int32()), "measured_at": pa.array(t_us, pa.int64()).cast(TS),
        "local_us": pa.array(t_us, pa.int64()), "value": pa.array(values, pa.float64()),
        "nominal": pa.array(np.full(n, 1.5)), "lower_limit": pa.array(np.full(n, 0.0)),
        "upper_limit": pa.array(np.full(n, 3.0)),
    })


def test_sorted_blocks_keep_characteristics_whole():
    rng = np.random.default_rng(3)
    sizes = rng.integers(1, 40, 30)
    char = np.repeat(np.arange(30), sizes)
    ent = char // 10
    t = np.concatenate([np.sort(rng.integers(0, 10**12, s)) for s in sizes])
    whole = pa.Table.from_batches([_batch(ent, char, t)])
    cuts = np.sort(rng.choice(np.arange(1, char.size), 12, replace=False))
    batches = [whole.slice(a, b - a).to_batches()[0] for a, b in zip(np.r_[0, cuts], np.r_[cuts, char.size], strict=True)]
    blocks = list(SortedBlocks(batches, block_rows=50))
    assert len(blocks) > 3
    seen = []
    for b in blocks:
        c = b.column("characteristic_id").to_pylist()
        seen.append(set(c))
    for i, a in enumerate(seen):
        for b in seen[i + 1:]:
            assert not a & b  # no characteristic split between blocks
    params = AnalysisParams()
    one = analyse_block(whole, params)
    parts = [analyse_block(b, params) for b in blocks]
    for kind in one:
        assert_same(one[kind], pa.concat_tables([p[kind] for p in parts]), rtol=0.0, what=kind)  # cut-independent


@pytest.mark.parametrize("case", ["time", "characteristic", "enterprise", "across batches"])
def test_unsorted_stream_is_refused(case):
    t = np.arange(10) * 1000
    char = np.repeat([1, 2], 5)
    ent = np.zeros(10, int)
    if case == "time":
        t[3], t[4] = t[4], t[3]
        batches = [_batch(ent, char, t)]
    elif case == "characteristic":
        char = np.array([1, 1, 2, 2, 1, 1, 3, 3, 3, 3])
        batches = [_batch(ent, char, t)]
    elif case == "enterprise":
        ent = np.array([0, 0, 0, 0, 0, 1, 1, 1, 0, 0])
        char = np.arange(10)
        batches = [_batch(ent, char, t)]
    else:  # each batch sorted, the second starts before the first ended
        whole = pa.Table.from_batches([_batch(ent, char, t)])
        batches = [whole.slice(5).to_batches()[0], whole.slice(0, 5).to_batches()[0]]
    with pytest.raises(StreamOrderError, match="sorted by"):
        list(SortedBlocks(batches, block_rows=4))


def test_local_engine_refuses_unsorted_input(monkeypatch, tmp_path):
    """If rows ever reached the kernels out of order (a reader handing back batches out of order,
    as DuckDB may unless insertion order is preserved), the engine stops instead of computing
    charts of scrambled values."""
    from jingce.store import Store
    from tests.integration.conftest import Region

    store = Store(Settings(data_dir=tmp_path / "d"))
    region = Region(store)
    region.ingest_basics()
    ordered = local_engine.in_order
    monkeypatch.setattr(local_engine, "in_order", lambda table: ordered(table)[::-1])
    with pytest.raises(StreamOrderError):
        LocalEngine(workers=2).characteristic_summary(store, region.admin)
    store.close()


def test_subgroup_bounds():
    char, index, off = subgroup_bounds(np.array([7, 0, 5, 1]), 5)
    assert char.tolist() == [0, 0, 2, 3] and index.tolist() == [0, 1, 0, 0]
    assert off.tolist() == [0, 5, 7, 12, 13]


@pytest.mark.parametrize("seed", range(5))
def test_pooled_parts_equal_the_two_pass_whole(seed):
    """Chan-Golub-LeVeque pooling of two-pass part sums equals the two-pass sums of the whole,
    even at a large offset (a 1000 mm nominal, 0.1 um spread)."""
    from jingce.kernels._sums import grouped_mean_m2

    rng = np.random.default_rng(seed)
    x = 1000.0 + rng.normal(0.012, 1e-4, 400)
    ref = 1000.0
    cuts = np.sort(rng.choice(np.arange(1, 400), rng.integers(1, 30), replace=False))
    off = np.concatenate(([0], cuts, [400])).astype(np.int64)
    n, md, m2 = grouped_mean_m2(x - ref, off)
    refs = np.full(n.size, ref)
    refs[::3] = 999.9  # parts on another reference (a changed nominal) pool too
    md = md + (ref - refs)
    cnt, mean, m2_all = combine_moments(np.array([0, n.size]), n, refs, md, m2)
    n0, md0, m20 = grouped_mean_m2(x - ref, np.array([0, 400]))
    assert cnt[0] == 400
    assert mean[0] == pytest.approx(ref + md0[0], rel=1e-15)
    assert m2_all[0] == pytest.approx(m20[0], rel=1e-9)
    assert np.sqrt(m2_all[0] / 399) == pytest.approx(np.std(x, ddof=1), rel=1e-6)


# -- packed runs ---------------------------------------------------------------------------------


def _lake_batch(rng, ent, char, t, pos):
    n = len(char)
    return pa.record_batch({
        "enterprise_id": pa.array(ent, pa.int32()), "product_id": pa.array(np.asarray(ent) + 100, pa.int32()),
        "characteristic_id": pa.array(char, pa.int32()), "measured_at": pa.array(t, pa.int64()).cast(TS),
        "position": pa.array(pos, pa.int64()), "utc_offset_min": pa.array(rng.choice([0, 60, 480], n), pa.int16()),
        "value": pa.array(rng.normal(0, 1, n)), "nominal": pa.array(rng.normal(0, 1, n)),
        "lower_limit": pa.array(np.full(n, -3.0)), "upper_limit": pa.array(np.where(rng.random(n) < 0.5, 3.0, np.nan)),
    })


def test_packed_runs_restore_sorted_values(monkeypatch):
    """Runs packed per input split, shuffled and sorted like Spark sorts them, come back in
    (enterprise, characteristic, time, position) order with each characteristic's last limits,
    also when two files of a partition interleave in time (runs merged) and runs are cut."""
    from jingce.engine import packed

    monkeypatch.setattr(packed, "MAX_RUN", 7)
    rng = np.random.default_rng(5)
    files = []
    for f in range(4):  # two partitions x two files each; each file sorted by (characteristic, time)
        ent = f // 2
        char = np.sort(rng.integers(0, 6, 60)) + 10 * ent
        t = np.concatenate([np.sort(rng.integers(0, 50, int(np.sum(char == c)))) for c in np.unique(char)])
        files.append(_lake_batch(rng, np.full(60, ent), char, t, np.arange(60) + 1000 * f))
    rows = pa.Table.from_batches(files)
    # input splits: file 3, then file 0 cut in two batches, then files 1 and 2 read by one task
    splits = [[files[3]], [files[0].slice(0, 25), files[0].slice(25)], [files[1], files[2]]]
    runs = pa.Table.from_batches([b for split in splits for b in packed.pack_stream(split)])
    assert int(pc.max(runs.column("n")).as_py()) <= 7
    runs = runs.sort_by([("enterprise_id", "ascending"), ("characteristic_id", "ascending"),
                         ("first_at", "ascending"), ("first_position", "ascending")])
    cuts = [0, 5, 17, runs.num_rows]  # Spark hands the sorted runs over in arbitrary batches
    out = pa.Table.from_batches(list(packed.unpack_stream(
        [runs.slice(a, b - a).to_batches()[0] for a, b in zip(cuts[:-1], cuts[1:], strict=True)])))
    order = np.lexsort((rows.column("position").to_numpy(), pc.cast(rows.column("measured_at"), pa.int64()).to_numpy(),
                        rows.column("characteristic_id").to_numpy(), rows.column("enterprise_id").to_numpy()))
    want = rows.take(pa.array(order))
    assert out.num_rows == rows.num_rows
    for name in ("enterprise_id", "product_id", "characteristic_id", "measured_at", "value"):
        assert out.column(name).to_pylist() == want.column(name).to_pylist(), name
    local = (pc.cast(want.column("measured_at"), pa.int64()).to_numpy()
             + want.column("utc_offset_min").to_numpy().astype(np.int64) * 60_000_000)
    assert out.column("local_us").to_pylist() == local.tolist()
    # every characteristic's last row carries its last lake row's limits (all the kernels read)
    c = out.column("characteristic_id").to_numpy()
    last = np.r_[np.flatnonzero(np.diff(c)), c.size - 1]
    for name in ("nominal", "lower_limit", "upper_limit"):
        got = out.column(name).to_numpy(zero_copy_only=False)[last]
        exp = want.column(name).to_numpy(zero_copy_only=False)[last]
        assert np.array_equal(got, exp, equal_nan=True), name
    list(SortedBlocks(out.to_batches()))  # and the stream check accepts the order
