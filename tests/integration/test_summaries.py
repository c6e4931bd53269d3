"""Summaries beside the lake: runs commit atomically and replace earlier ones, tenancy of the
aggregates, permissions, and the region view checked against statistics of the raw values.

Runs against SQLite and, with JINGCE_TEST_PG_URL, PostgreSQL (the ``store`` fixture)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from jingce.engine import AnalysisParams
from jingce.engine.base import WrittenSummaries
from jingce.engine.local import LocalEngine
from jingce.errors import InvalidInputError, NotFoundError, PermissionDeniedError
from jingce.kernels.spc.constants import chart_constants
from jingce.services.region import analyse_region, impact_scan, impact_windows, region_view
from tests.integration.test_engine_regions import assert_same, build_edge


@pytest.fixture
def edge(store):
    return build_edge(store)


def test_runs_commit_and_replace(edge):
    st, a = edge.store, edge.admin
    assert st.read_summaries(a, "daily") is None
    r1 = analyse_region(st, a, LocalEngine())
    files1 = {k: st.summary_files(a, k) for k in ("characteristic", "subgroup", "daily")}
    # one characteristic file per enterprise with values; one subgroup and daily file per enterprise and year
    assert len(files1["characteristic"]) == 3 and len(files1["daily"]) == 3 and len(files1["subgroup"]) == 3
    assert all(f"year=2026/run-{r1.id}.parquet" in f for f in files1["daily"])
    assert r1.n_values == 20 + 8 + 40 + 12 + 23 + 17 + 1 + 9 + 11  # valid, finite values
    r2 = analyse_region(st, a, LocalEngine(), params=AnalysisParams(subgroup_size=4))
    files2 = st.summary_files(a, "subgroup")
    assert all(f"run-{r2.id}." in f for f in files2) and len(files2) == 3
    sub = st.read_summaries(a, "subgroup")
    assert set(sub.column("size").to_pylist()) == {4}
    # the replaced files stay until vacuumed (readers that listed them may still be reading)
    assert all((st.summary_root / f).exists() for f in files1["subgroup"])
    assert st.vacuum_summaries(a, older_than=dt.timedelta(0)) == 9
    assert not any((st.summary_root / f).exists() for f in files1["subgroup"])
    assert st.verify_audit().ok
    kinds = [r.status for r in st.analysis_runs(a)]
    assert kinds == ["done", "done"]


def test_failed_run_leaves_the_previous_summaries(edge):
    st, a = edge.store, edge.admin
    analyse_region(st, a, LocalEngine())
    before = st.read_summaries(a, "daily")

    class Broken(LocalEngine):
        def write_summaries(self, store, actor, run_id, **kw):
            written = super().write_summaries(store, actor, run_id, **kw)  # files on disk, not listed
            assert written.files
            raise RuntimeError("executor lost")

    with pytest.raises(RuntimeError, match="executor lost"):
        analyse_region(st, a, Broken())
    runs = st.analysis_runs(a)
    assert runs[0].status == "failed" and "executor lost" in runs[0].message
    assert_same(before, st.read_summaries(a, "daily"), rtol=0.0)
    # an unfinished run's files are invisible, and vacuumed as leftovers
    assert st.vacuum_summaries(a, older_than=dt.timedelta(0)) == 9


def test_commit_needs_a_running_run(edge):
    st, a = edge.store, edge.admin
    run = analyse_region(st, a, LocalEngine())
    with pytest.raises(InvalidInputError, match="done"):
        st.commit_analysis(a, run.id, [], enterprise_ids=[], n_values=0)
    with pytest.raises(NotFoundError):
        st.commit_analysis(a, 999, [], enterprise_ids=[], n_values=0)


def test_summary_tenancy(edge):
    st = edge.store
    analyse_region(st, edge.admin, LocalEngine())
    ents = {e: edge.ent[e].id for e in ("C", "S", "X")}
    reg = st.read_summaries(edge.reg, "daily")  # aggregates: the regulator sees the region
    assert set(reg.column("enterprise_id").to_pylist()) == set(ents.values())
    c = st.read_summaries(edge.c, "daily")
    hub = st.find_product(edge.admin, "S", "HUB").id
    ring = st.find_product(edge.admin, "S", "RING").id
    s_rows = c.filter(pc.equal(c.column("enterprise_id"), ents["S"]))
    assert set(s_rows.column("product_id").to_pylist()) == {ring}  # shared product only, never HUB
    assert hub not in c.column("product_id").to_pylist()
    assert set(c.column("enterprise_id").to_pylist()) == {ents["C"], ents["S"]}
    x = st.read_summaries(edge.x, "characteristic")
    assert set(x.column("enterprise_id").to_pylist()) == {ents["X"]}
    assert st.read_summaries(edge.lab_user, "daily") is None


def test_who_may_analyse(edge):
    st = edge.store
    c_id, s_id = edge.ent["C"].id, edge.ent["S"].id
    run = analyse_region(st, edge.c, LocalEngine(), enterprise_ids=[c_id])  # own enterprise
    assert run.status == "done" and run.enterprise_ids == [c_id]
    assert set(st.read_summaries(edge.admin, "characteristic").column("enterprise_id").to_pylist()) == {c_id}
    with pytest.raises(InvalidInputError, match="enterprises"):
        analyse_region(st, edge.c, LocalEngine())  # the whole region: platform admin only
    with pytest.raises(NotFoundError):
        analyse_region(st, edge.c, LocalEngine(), enterprise_ids=[s_id])  # shared product, not owned
    for actor in (edge.reg, edge.lab_user):
        with pytest.raises(PermissionDeniedError):
            analyse_region(st, actor, LocalEngine(), enterprise_ids=[c_id])


def _raw(st, actor, cid):
    t = st.values(actor, cid, valid_only=True, columns=("value", "measured_at", "local_time", "zone"))
    v = np.asarray(t.column("value").to_numpy(), float)
    ok = np.isfinite(v)
    return t.filter(pa.array(ok)), v[ok]


def test_daily_and_subgroup_summaries_against_raw_values(edge):
    st, a = edge.store, edge.admin
    eng = LocalEngine()
    daily = eng.daily_summaries(st, a)
    sub = eng.subgroup_summaries(st, a, params=AnalysisParams(subgroup_size=5))
    for ch in st.list_characteristics(a):
        t, v = _raw(st, a, ch.id)
        d = daily.filter(pc.equal(daily.column("characteristic_id"), ch.id))
        s = sub.filter(pc.equal(sub.column("characteristic_id"), ch.id))
        if v.size == 0:
            assert d.num_rows == 0 and s.num_rows == 0
            continue
        # the plant's local day, from the zone (an independent path to the stored UTC offset)
        days = np.array([ts.astimezone(ZoneInfo(z)).date() for ts, z in
                         zip(t.column("measured_at").to_pylist(), t.column("zone").to_pylist(), strict=True)])
        assert d.column("day").to_pylist() == sorted(set(days))
        for row in d.to_pylist():
            x = v[days == row["day"]]
            assert row["n"] == x.size
            assert row["ref"] + row["mean_dev"] == pytest.approx(x.mean(), rel=1e-12)
            assert row["m2"] == pytest.approx(np.sum((x - x.mean()) ** 2), rel=1e-9, abs=1e-24)
            assert (row["min"], row["max"]) == (x.min(), x.max())
        k = 5
        assert s.num_rows == -(-v.size // k)
        for row in s.to_pylist():
            x = v[row["subgroup"] * k:(row["subgroup"] + 1) * k]
            assert row["n"] == x.size
            assert row["ref"] + row["mean_dev"] == pytest.approx(x.mean(), rel=1e-12)
            assert row["range"] == pytest.approx(np.ptp(x), rel=1e-12, abs=1e-15)


def _sigma_within_of_period(v, inside, size):
    """Independent sigma within of a period: R-bar/d2 of the history's complete subgroups of
    ``size`` that start inside it, or MR-bar/d2 of consecutive values both inside it."""
    if size == 1:
        both = inside[1:] & inside[:-1]
        mr = np.abs(np.diff(v))[both]
        return (mr.mean() / chart_constants(2).d2 if mr.size else np.nan), int(inside.sum())
    m = v.size // size
    first = np.arange(m) * size
    ranges = np.ptp(v[:m * size].reshape(m, size), axis=1)[inside[first]]
    return (ranges.mean() / chart_constants(size).d2 if ranges.size else np.nan), ranges.size


@pytest.mark.parametrize("size", [5, 1])
def test_region_view_of_a_period_against_raw_values(edge, size):
    st, a = edge.store, edge.admin
    analyse_region(st, a, LocalEngine(), params=AnalysisParams(subgroup_size=size))
    start, end = dt.date(2026, 3, 21), dt.date(2026, 4, 12)
    view = region_view(st, a, start=start, end=end).per_characteristic
    rows = {r["characteristic_id"]: r for r in view.to_pylist()}
    checked = 0
    for ch in st.list_characteristics(a):
        t, v = _raw(st, a, ch.id)
        days = np.array([ts.date() for ts in t.column("local_time").to_pylist()], dtype=object)
        inside = (days >= start) & (days < end) if v.size else np.zeros(0, bool)
        x = v[inside]
        if x.size == 0:
            assert ch.id not in rows
            continue
        r = rows[ch.id]
        assert r["n_values"] == x.size
        assert r["mean"] == pytest.approx(x.mean(), rel=1e-12)
        if x.size > 1:
            assert r["sigma_overall"] == pytest.approx(np.std(x, ddof=1), rel=1e-9, abs=1e-15)
        sw, m = _sigma_within_of_period(v, inside, size)
        assert r["n_subgroups"] == m
        assert r["sigma_within"] == pytest.approx(sw, rel=1e-9, abs=1e-15, nan_ok=True)
        lo = ch.lower_limit if ch.lower_limit is not None else -np.inf
        hi = ch.upper_limit if ch.upper_limit is not None else np.inf
        assert r["out_of_spec"] == int(np.sum((x < lo) | (x > hi)))
        checked += 1
    assert checked >= 5
    whole = region_view(st, a).per_characteristic
    summary = LocalEngine().characteristic_summary(st, a, params=AnalysisParams(subgroup_size=size))
    for name in ("n_values", "mean", "sigma_overall", "sigma_within", "cp", "cpk", "pp", "ppk", "out_of_spec"):
        assert_same(summary.select([name]), whole.select([name]), what=name)
    with pytest.raises(InvalidInputError):
        region_view(st, a, start=end, end=start)


def test_region_view_individuals(edge):
    """With subgroups of one the view's sigma within is MR-bar/d2, as the kernel's I-MR chart."""
    st, a = edge.store, edge.admin
    params = AnalysisParams(subgroup_size=1)
    analyse_region(st, a, LocalEngine(), params=params)
    view = region_view(st, a).per_characteristic
    summary = LocalEngine().characteristic_summary(st, a, params=params)
    for name in ("sigma_within", "n_subgroups", "cp", "cpk"):
        assert_same(summary.select([name]), view.select([name]), what=name)


def test_impact_scan_finds_the_suspect_values(edge):
    st, a = edge.store, edge.admin
    at = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    windows = impact_windows(st, a, at=at)
    assert sorted(windows.column("reason").to_pylist()) == ["expired", "out_of_tolerance"]
    hits = impact_scan(st, a, LocalEngine(), at=at)
    assert hits.num_rows == 1
    h = hits.to_pylist()[0]
    runout = st.find_characteristic(a, "C", "ASSY", "RUNOUT").id
    assert h["characteristic_id"] == runout and h["reason"] == "out_of_tolerance" and h["instrument"] == "C-CMM"
    t, v = _raw(st, a, runout)
    assert h["n_values"] == v.size == 17
    assert h["n_at_risk"] == int(np.sum(np.abs(v - 0.05) <= 0.004))  # within the error found of the limit
    assert h["n_out_of_spec"] == int(np.sum(v > 0.05))
    assert h["serials"] == sorted(f"A{i}" for i in range(17))
    # the customer sees the scan of its own instrument; the other enterprise sees nothing
    assert impact_scan(st, edge.c, LocalEngine(), at=at).num_rows == 1
    assert impact_scan(st, edge.x, LocalEngine(), at=at).num_rows == 0


def test_written_summaries_record_values():
    w = WrittenSummaries([], 0)
    assert w.files == [] and w.n_values == 0
