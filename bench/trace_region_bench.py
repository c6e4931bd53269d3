"""The side-by-side runs of bench/trace_region.py (``bench`` subcommand): jingce against the DuckDB
floors of bench/trace_region_floor.py, alternating in one process, results checked equal."""

from __future__ import annotations

import cProfile
import datetime as dt
import io
import json
import os
import pstats
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import trace_region_floor as floor
from scipy import special
from trace_region import AT, export_registry

from jingce.engine.local import LocalEngine
from jingce.kernels.spc.constants import chart_constants
from jingce.services import impact, region
from jingce.settings import Settings
from jingce.store import Store

MONTH = (dt.date(2026, 10, 1), dt.date(2026, 11, 1))


def _load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def _close(a, b, rtol=1e-9, atol=0.0, what=""):
    a, b = np.asarray(a, float), np.asarray(b, float)
    ok = np.allclose(a, b, rtol=rtol, atol=atol, equal_nan=True)
    assert ok, f"{what}: max |diff| {np.nanmax(np.abs(a - b))}"


# -- checks ---------------------------------------------------------------------------------------


def check_scan(j: pa.Table, f: pa.Table) -> str:
    def rows(t):
        us = {c: np.asarray(pc.cast(t.column(c), pa.int64()).to_numpy(), np.int64) for c in ("first_at", "last_at")}
        cols = [np.asarray(t.column(c).to_numpy(), np.int64) for c in
                ("instrument_id", "characteristic_id", "n_values", "n_out_of_spec", "n_at_risk")]
        lens = np.asarray(pc.list_value_length(t.column("serials")).to_numpy(), np.int64)
        return sorted(zip(*cols, us["first_at"], us["last_at"], lens, strict=True))

    rj, rf = rows(j), rows(f)
    assert len(rj) == len(rf), f"impact scan: {len(rj)} groups against {len(rf)}"
    assert rj == rf, "impact scan: groups differ"
    n = sum(r[2] for r in rj)
    return f"{len(rj):,} window x characteristic groups, {n:,} values, {sum(r[4] for r in rj):,} at risk: equal"


def check_report(j: impact.ImpactReport, f: pa.Table) -> str:
    ej = [e for e in j.summary["enterprises"] if e["measurements"]]
    ef = f.to_pylist()
    assert [e["enterprise_id"] for e in ej] == [e["enterprise_id"] for e in ef], "impact: enterprises differ"
    for a, b in zip(ej, ef, strict=True):
        for k in ("measurements", "characteristics", "parts", "accepted", "out_of_spec"):
            assert a[k] == b[k], f"impact: enterprise {a['enterprise_id']} {k} {a[k]} against {b[k]}"
        # the floor's normal tail is A&S 7.1.26 (1.5e-7): a PFA within that of 5 % may fall either way
        for k in ("doubtful", "newly_doubtful"):
            assert abs(a[k] - b[k]) <= max(2, a[k] // 100_000), f"impact: {a['enterprise_id']} {k} {a[k]} vs {b[k]}"
        _close(a["max_pfa"] if a["max_pfa"] is not None else np.nan,
               b["max_pfa"] if b["max_pfa"] is not None else np.nan, rtol=1e-5, atol=1e-6, what="max_pfa")
    tot = j.summary["totals"]
    same = sum(a["doubtful"] == b["doubtful"] for a, b in zip(ej, ef, strict=True))
    return (f"{tot['instruments']:,} suspect instruments, {tot['measurements']:,} values, {tot['parts']:,} parts, "
            f"{tot['doubtful']:,} doubtful ({tot['newly_doubtful']:,} newly) in {len(ej)} enterprises: equal "
            f"(doubtful counts identical in {same} of {len(ej)} enterprises)")


def check_view(j: region.RegionView, f: dict[str, pa.Table]) -> str:
    pj, pf = j.per_characteristic, f["per"]
    assert pj.num_rows == pf.num_rows, f"view: {pj.num_rows} characteristics against {pf.num_rows}"
    assert pj.column("characteristic_id").to_pylist() == pf.column("characteristic_id").to_pylist()
    assert pj.column("characteristic").to_pylist() == pf.column("characteristic").to_pylist()
    for c in ("n_values", "n_days", "out_of_spec", "n_subgroups", "alarms"):
        assert pj.column(c).to_pylist() == pf.column(c).cast(pa.int64()).to_pylist(), c
    for c in ("first_at", "last_at"):
        assert pc.cast(pj.column(c), pa.int64()).to_pylist() == pc.cast(pf.column(c), pa.int64()).to_pylist(), c
    for c in ("mean", "sigma_overall", "sigma_within", "cp", "cpk", "pp", "ppk", "cpk_lo", "cpk_hi"):
        _close(pj.column(c).to_numpy(zero_copy_only=False), pf.column(c).to_numpy(zero_copy_only=False),
               rtol=1e-8, what=c)
    _close(pj.column("ppm_overall").to_numpy(zero_copy_only=False), pf.column("ppm_overall").to_numpy(
        zero_copy_only=False), rtol=1e-4, atol=0.5, what="ppm_overall")  # A&S 7.1.26: 1.5e-7 absolute
    ej, ef = j.enterprises, f["enterprises"].to_pylist()
    assert len(ej) == len(ef)
    for a, b in zip(ej, ef, strict=True):
        assert (a.code, a.values, a.characteristics, a.with_alarms) == (b["code"], b["n_values"], b["characteristics"],
                                                                        b["with_alarms"]), a.code
        assert a.cpk_classes == (b["c1"], b["c2"], b["c3"], b["c4"]), a.code
        _close(a.out_of_spec_ppm, b["out_of_spec_ppm"], what="out_of_spec_ppm")
    return (f"{pj.num_rows:,} characteristics ({int(pc.sum(pj.column('n_values')).as_py()):,} values), "
            f"{len(ej)} enterprises: equal")


# -- the run --------------------------------------------------------------------------------------


def run(root: Path, rounds: int, only: set[str] | None, profile: bool = False) -> dict:
    meta = json.loads((root / "meta.json").read_text())
    st = Store(Settings(data_dir=root / "data"))
    admin = st.bootstrap()
    export_registry(st, root / "registry")
    reg = (root / "registry").as_posix()
    lake = [(st.lake.root / p).as_posix() for p in st.lake_inputs(admin).paths]
    daily = [(st.summary_root / p).as_posix() for p in st.summary_files(admin, "daily")]
    chars = [(st.summary_root / p).as_posix() for p in st.summary_files(admin, "characteristic")]
    con = floor.connect()
    d2 = {s: chart_constants(max(s, 2), "exact", 3.0).d2 for s in range(1, 26)}
    z = float(special.ndtri(0.975))
    engine = LocalEngine()

    cases: dict[str, tuple[Callable, Callable, Callable | None]] = {}
    if only is None or "impact" in only:
        cid = int(meta["oot_calibration_id"])
        cases["impact report of the national standard (write=False)"] = (
            lambda: impact.impact_report(st, admin, engine, cid, write=False, at=AT),
            lambda: floor.impact_report(con, reg, lake, cid, AT), check_report)
    if only is None or "scan" in only:
        cases["impact scan (working instruments' own out-of-tolerance windows)"] = (
            lambda: impact.impact_scan(st, admin, engine, at=AT),
            lambda: floor.impact_scan(con, reg, lake, AT), check_scan)
    if only is None or "view" in only:
        for label, (a, b) in (("one month", MONTH), ("two years", (None, None))):
            cases[f"region view, {label} (from daily summaries)"] = (
                lambda a=a, b=b: region.region_view(st, admin, start=a, end=b),
                lambda a=a, b=b: floor.region_view(con, daily, chars, reg, a, b, d2, z), check_view)

    times: dict[str, dict[str, list[float]]] = {k: {"jingce": [], "floor": []} for k in cases}
    checks = {}
    print(f"lake: {meta['values']:,} values in {len(lake):,} files ({meta['lake_bytes'] / 1e9:.2f} GB); "
          f"daily summary files {len(daily)}; load {_load()}", flush=True)
    for name, (fj, ff, chk) in cases.items():  # warm-up round, results checked
        rj, rf = fj(), ff()
        checks[name] = chk(rj, rf) if chk else ""
        print(f"  check {name}: {checks[name]}", flush=True)
    loads = [_load()]
    for r in range(rounds):
        for name, (fj, ff, _) in cases.items():
            order = (("jingce", fj), ("floor", ff)) if r % 2 == 0 else (("floor", ff), ("jingce", fj))
            for side, fn in order:
                t0 = time.perf_counter()
                fn()
                times[name][side].append(time.perf_counter() - t0)
        loads.append(_load())
        print(f"round {r + 1}/{rounds} done, load {loads[-1]}", flush=True)
    out = {"values": meta["values"], "files": len(lake), "rounds": rounds, "loads": loads, "checks": checks,
           "cases": {}}
    print("\n| case | jingce median (s) | floor median (s) | ratio (median of per-round ratios) | rounds |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, tt in times.items():
        mj, mf = statistics.median(tt["jingce"]), statistics.median(tt["floor"])
        ratio = statistics.median(a / b for a, b in zip(tt["jingce"], tt["floor"], strict=True))
        out["cases"][name] = {"jingce": tt["jingce"], "floor": tt["floor"], "ratio": ratio}
        print(f"| {name} | {mj:.3f} | {mf:.3f} | **{ratio:.2f}** | {rounds} |")
    if only is None or "view" in only:  # context: the same period straight from the raw lake
        for label, (a, b) in (("one month", MONTH), ("two years", (None, None))):
            ta = dt.datetime.combine(a, dt.time(), dt.UTC) if a else None
            tb = dt.datetime.combine(b, dt.time(), dt.UTC) if b else None
            t0 = time.perf_counter()
            floor.region_view_raw(con, lake, ta, tb)
            out["cases"][f"raw lake floor, {label}"] = time.perf_counter() - t0
            print(f"context: DuckDB from the raw lake, {label} (count, mean, sigma, out of spec per characteristic): "
                  f"{out['cases'][f'raw lake floor, {label}']:.2f} s")
    if profile:
        for name, (fj, _, _) in cases.items():
            prof = cProfile.Profile()
            prof.enable()
            fj()
            prof.disable()
            s = io.StringIO()
            pstats.Stats(prof, stream=s).sort_stats("cumulative").print_stats(25)
            print(f"\n== profile: {name}\n{s.getvalue()}")
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
    (root / f"results-{stamp}.json").write_text(json.dumps(out, indent=1, default=str))
    return out
