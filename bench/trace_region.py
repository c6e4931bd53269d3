"""Out-of-tolerance impact and the region quality view at region scale (issue 9), against a DuckDB floor.

    python bench/trace_region.py build --values 100e6     # bench/_work/trace/region-100M (cached)
    python bench/trace_region.py bench --values 100e6 --rounds 5

``build`` makes a region through the store's normal paths: 10,000 instruments in a calibration
hierarchy (2 national standards -> 20 provincial standards of 4 provincial institutes -> 300 reference
standards of 30 calibration labs -> 9,678 working instruments of 500 enterprises), two years of
calibrations (``Store.add_calibration``, audit chain included), one national standard found out of
tolerance at its 2026 calibration, and a lake of ``--values`` measurements ingested with
``Store.ingest`` (one batch per enterprise: one file per enterprise-month, rows sorted by
characteristic and time), each row naming the working instrument that measured it. Then the
region's summaries are written once (``analyse_region``, local engine) for the view, and the
registry's instrument and calibration tables are exported to Parquet for the floor.

``bench`` alternates, in one process, the jingce side and a hand-written DuckDB floor doing the
same work over the same files, checks they agree, and prints medians and ratios (see
bench/trace_region_floor.py for the floors).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import sqlite3
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from jingce.model import (
    Calibration,
    CalibrationResult,
    Enterprise,
    Instrument,
    InstrumentKind,
    Lab,
    Product,
    Site,
    Tenant,
)
from jingce.model.enums import LabLevel, QualificationState
from jingce.settings import Settings
from jingce.store import Store

WORK = Path(__file__).parent / "_work" / "trace"
UTC = dt.UTC
T0 = dt.datetime(2024, 12, 1, tzinfo=UTC)  # the lake's first month
MONTHS = 24  # 2024-12 .. 2026-11
AT = dt.datetime(2026, 12, 1, tzinfo=UTC)  # "now" of the impact assessment (after the last value)
N_ENTERPRISES, N_PROVINCES, N_PROV_STD, N_LABS, N_LAB_STD = 500, 4, 5, 30, 10
N_WORKING = 10_000 - 2 - N_PROVINCES * N_PROV_STD - N_LABS * N_LAB_STD  # 9,678
N_CHARS = 50
OOT_ERROR = 0.0008  # mm, the national standard's error as found


def root_dir(values: float) -> Path:
    return WORK / f"region-{values / 1e6:g}M"


def _progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    TextColumn("eta"), TimeRemainingColumn())


def _day(rng: np.random.Generator, start: dt.datetime, days: int) -> dt.datetime:
    return start + dt.timedelta(days=int(rng.integers(0, days)), hours=int(rng.integers(8, 17)))


def _hierarchy(st: Store, admin, prog: Progress) -> dict:
    """Tenants, labs, the 10,000 instruments and two years of calibrations."""
    rng = np.random.default_rng(9)
    year = dt.timedelta(days=365)

    def lab(code: str, name: str, level: LabLevel):
        ten = st.add_tenant(admin, Tenant(code=f"t-{code}", name=name, kind="lab"))
        return st.add_lab(admin, Lab(tenant_id=ten.id, code=code, name=name, level=level,
                                     qualification=QualificationState.QUALIFIED))

    def inst(code: str, kind: InstrumentKind, tenant_id: int, *, lab_id=None, enterprise_id=None, u=1e-4):
        return st.add_instrument(admin, Instrument(
            tenant_id=tenant_id, code=code, name=code, kind=kind, unit="mm", range_min=0, range_max=1000,
            mpe=10 * u, uncertainty=u, lab_id=lab_id, enterprise_id=enterprise_id, calibration_interval_days=365))

    cal_no = iter(range(1, 10**9))

    def calibrate(i, lab_, at, stds, *, result=CalibrationResult.PASS, error=None, u=2e-4):
        return st.add_calibration(admin, Calibration(
            instrument_id=i.id, lab_id=lab_.id, certificate_no=f"C{next(cal_no):07d}", calibrated_at=at,
            valid_until=at + year + dt.timedelta(days=30), result=result, error_as_found=error,
            expanded_uncertainty=u, coverage_factor=2.0, unit="mm", standard_ids=tuple(s.id for s in stds)))

    task = prog.add_task("registry: instruments", total=10_000)
    nim = lab("NIM", "National Institute of Metrology", LabLevel.NATIONAL)
    national = [inst(f"NS{k}", InstrumentKind.NATIONAL_STANDARD, nim.tenant_id, lab_id=nim.id, u=5e-6) for k in (1, 2)]
    provs = [lab(f"PROV{p}", f"Provincial Institute {p}", LabLevel.PROVINCIAL) for p in range(N_PROVINCES)]
    prov_std = [inst(f"PS{p}-{k}", InstrumentKind.PROVINCIAL_STANDARD, provs[p].tenant_id, lab_id=provs[p].id, u=2e-5)
                for p in range(N_PROVINCES) for k in range(N_PROV_STD)]
    labs = [lab(f"LAB{j:02d}", f"Calibration Lab {j}", LabLevel.LAB) for j in range(N_LABS)]
    lab_std = [inst(f"LS{j:02d}-{k}", InstrumentKind.REFERENCE_STANDARD, labs[j].tenant_id, lab_id=labs[j].id, u=5e-5)
               for j in range(N_LABS) for k in range(N_LAB_STD)]
    prog.update(task, advance=2 + len(prov_std) + len(lab_std))
    enterprises, working = [], []
    per = np.full(N_ENTERPRISES, N_WORKING // N_ENTERPRISES)
    per[: N_WORKING - per.sum()] += 1
    for e in range(N_ENTERPRISES):
        ten = st.add_tenant(admin, Tenant(code=f"t{e}", name=f"T{e}", kind="enterprise"))
        ent = st.add_enterprise(admin, Enterprise(tenant_id=ten.id, code=f"E{e:05d}", name=f"Manufacturer {e}",
                                                  industry_chain=("aero_engine", "powertrain", "bearings")[e % 3]))
        st.add_site(admin, Site(enterprise_id=ent.id, code="P1", name="plant", timezone="Asia/Shanghai"))
        st.add_product(admin, Product(enterprise_id=ent.id, part_number=f"P{e:05d}", name="part"))
        enterprises.append(ent)
        working.append([inst(f"W{e:05d}-{k:02d}", InstrumentKind.WORKING, ten.id, enterprise_id=ent.id, u=1e-3)
                        for k in range(per[e])])
        prog.update(task, advance=int(per[e]))

    n_cal = 6 + 3 * len(prov_std) + 3 * len(lab_std) + sum(3 * len(w) for w in working)
    task = prog.add_task("registry: calibrations", total=n_cal)
    # national standards: yearly in March (by international comparison); NS1 found out of tolerance in 2026
    oot = None
    for y in (2024, 2025, 2026):
        for k, ns in enumerate(national):
            bad = k == 0 and y == 2026
            c = calibrate(ns, nim, dt.datetime(y, 3, 2, 9, tzinfo=UTC), (),
                          result=CalibrationResult.OUT_OF_TOLERANCE if bad else CalibrationResult.PASS,
                          error=OOT_ERROR if bad else 1e-5, u=1e-5)
            oot = c if bad else oot
            prog.update(task, advance=1)
    # provincial standards: yearly in April against NS1 (even) or NS2 (odd)
    for i, ps in enumerate(prov_std):
        for y in (2024, 2025, 2026):
            calibrate(ps, nim, _day(rng, dt.datetime(y, 4, 1, tzinfo=UTC), 30), (national[i % 2],), u=4e-5)
        prog.update(task, advance=3)
    # lab reference standards: yearly in May-June against a provincial standard of any institute
    for ls in lab_std:
        for y in (2024, 2025, 2026):
            ps = prov_std[int(rng.integers(len(prov_std)))]
            calibrate(ls, provs[prov_std.index(ps) // N_PROV_STD], _day(rng, dt.datetime(y, 5, 1, tzinfo=UTC), 60),
                      (ps,), u=1e-4)
        prog.update(task, advance=3)
    # working instruments: yearly from a day in 2024-07..2025-06, by the lab serving the enterprise,
    # against one of its reference standards; about 2 % found out of tolerance themselves
    for e, ws in enumerate(working):
        j = e % N_LABS
        for w in ws:
            first = _day(rng, dt.datetime(2024, 7, 1, tzinfo=UTC), 365)
            for k in range(3):
                at = first + k * year
                if at >= AT:
                    continue
                bad = rng.random() < 0.02
                calibrate(w, labs[j], at, (lab_std[j * N_LAB_STD + int(rng.integers(N_LAB_STD))],),
                          result=CalibrationResult.OUT_OF_TOLERANCE if bad else CalibrationResult.PASS,
                          error=float(rng.uniform(0.002, 0.006)) if bad else float(rng.uniform(0, 0.001)), u=2e-3)
            prog.update(task, advance=3)
    return {"oot_calibration_id": oot.id, "national_standard_id": national[0].id,
            "enterprises": [e.id for e in enterprises],
            "instruments": {"national": 2, "provincial": len(prov_std), "reference": len(lab_std),
                            "working": sum(len(w) for w in working)},
            "working": [[w.code for w in ws] for ws in working]}


def enterprise_rows(e: int, codes: list[str], values_per_enterprise: int) -> pa.Table:
    """Two years of one enterprise's measurements: parts with ``N_CHARS`` characteristics, each
    characteristic measured always with the same one of the enterprise's working instruments."""
    rng = np.random.default_rng([9, e])
    parts = max(1, values_per_enterprise // N_CHARS)
    lo = int(T0.timestamp() * 1e6)
    hi = int(AT.timestamp() * 1e6) - 3_600_000_000
    t_part = np.sort(rng.integers(lo, hi, parts))
    part = np.repeat(np.arange(parts), N_CHARS)
    char = np.tile(np.arange(N_CHARS), parts)
    nominal = np.round(rng.uniform(5, 500, N_CHARS), 3)
    tol = np.round(nominal * rng.uniform(2e-4, 2e-3, N_CHARS), 4)
    mu, sd = tol * rng.normal(0, 0.2, N_CHARS), tol * rng.uniform(0.1, 0.45, N_CHARS)
    x = nominal[char] + mu[char] + rng.normal(0.0, 1.0, part.size) * sd[char]
    inst = np.array(codes)[np.arange(N_CHARS) % len(codes)]
    serial = np.char.add(f"E{e}-", np.arange(parts).astype(str))
    return pa.table({
        "enterprise": pa.array(np.full(part.size, f"E{e:05d}")),
        "part_number": pa.array(np.full(part.size, f"P{e:05d}")),
        "serial": pa.array(serial[part]),
        "characteristic": pa.array(np.char.add("C", char.astype(str))),
        "value": np.round(x, 5),
        "unit": pa.array(np.full(part.size, "mm")),
        "measured_at": pa.array(t_part[part] + char * 2_000_000, pa.int64()).cast(pa.timestamp("us", tz="UTC")),
        "instrument": pa.array(inst[char]),
        "nominal": nominal[char], "lower_limit": (nominal - tol)[char], "upper_limit": (nominal + tol)[char],
        "position": np.arange(part.size, dtype=np.int64),
    })


def export_registry(st: Store, out: Path) -> None:
    """The registry tables the floor joins, as Parquet (done once, outside any timing)."""
    out.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(st.engine.url.database)
    for name, sql in {
        "instrument": "SELECT id, tenant_id, code, kind, unit, uncertainty, enterprise_id FROM instrument",
        "calibration": "SELECT id, instrument_id, calibrated_at, valid_until, result, error_as_found, unit "
                       "FROM calibration",
        "calibration_standard": "SELECT calibration_id, standard_id FROM calibration_standard",
        "enterprise": "SELECT id, code, name, industry_chain FROM enterprise",
        "characteristic": "SELECT id, product_id, key FROM characteristic",
        "product": "SELECT id, part_number FROM product",
    }.items():
        cur = con.execute(sql)
        cols = [d[0] for d in cur.description]
        rows = cur.fetchall()
        data = {c: [r[i] for r in rows] for i, c in enumerate(cols)}
        for c in ("calibrated_at", "valid_until"):
            if c in data:
                data[c] = pa.array([_parse_time(v) for v in data[c]], pa.timestamp("us", tz="UTC"))
        pq.write_table(pa.table(data), out / f"{name}.parquet")
    con.close()


def _parse_time(v) -> dt.datetime:
    if isinstance(v, dt.datetime):
        return v if v.tzinfo else v.replace(tzinfo=UTC)
    d = dt.datetime.fromisoformat(str(v))
    return d if d.tzinfo else d.replace(tzinfo=UTC)


def build(values: float, force: bool = False) -> Path:
    root = root_dir(values)
    meta_path = root / "meta.json"
    if meta_path.exists() and not force:
        print(f"cached: {root}")
        return root
    shutil.rmtree(root, ignore_errors=True)
    free = shutil.disk_usage(WORK.parent if WORK.exists() else Path(__file__).parent).free
    need = values * 12  # bytes: ~9 B/value in the lake, summaries and registry on top
    if free < 2 * need:
        raise SystemExit(f"not enough disk: {free / 1e9:.1f} GB free, want {2 * need / 1e9:.1f} GB")
    st = Store(Settings(data_dir=root / "data"))
    admin = st.bootstrap()
    t0 = time.perf_counter()
    with _progress() as prog:
        meta = _hierarchy(st, admin, prog)
        t1 = time.perf_counter()
        per_ent = int(values) // N_ENTERPRISES
        task = prog.add_task("lake: ingest (values)", total=per_ent // N_CHARS * N_CHARS * N_ENTERPRISES)
        for e, codes in enumerate(meta.pop("working")):
            tbl = enterprise_rows(e, codes, per_ent)
            st.ingest(admin, tbl, content_hash=f"trace{e:08d}".ljust(64, "0"), source_format="bench")
            prog.update(task, advance=tbl.num_rows)
        t2 = time.perf_counter()
        from jingce.engine.local import LocalEngine
        from jingce.services.region import analyse_region

        task = prog.add_task("summaries: analyse_region", total=N_ENTERPRISES)
        analyse_region(st, admin, LocalEngine(), progress=lambda done, total: prog.update(task, completed=done,
                                                                                       total=total))
        t3 = time.perf_counter()
    export_registry(st, root / "registry")
    stats = st.lake_stats()
    meta |= {"values": stats["rows"], "lake_files": stats["files"], "lake_bytes": stats["bytes"],
             "at": AT.isoformat(), "seconds": {"registry": t1 - t0, "lake": t2 - t1, "summaries": t3 - t2}}
    meta_path.write_text(json.dumps(meta, indent=1))
    print(f"region {root}: {stats['rows']:,} values, {stats['files']} files, {stats['bytes'] / 1e9:.2f} GB; "
          f"registry {t1 - t0:.0f} s, lake {t2 - t1:.0f} s, summaries {t3 - t2:.0f} s")
    return root


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build")
    b.add_argument("--values", type=float, default=100e6)
    b.add_argument("--force", action="store_true")
    r = sub.add_parser("bench")
    r.add_argument("--values", type=float, default=100e6)
    r.add_argument("--rounds", type=int, default=5)
    r.add_argument("--only", default=None, help="comma-separated cases: impact (impact_report), scan "
                   "(impact_scan: working instruments' own windows), view (region_view); default all")
    r.add_argument("--profile", action="store_true", help="cProfile the jingce side once per case afterwards")
    a = p.parse_args()
    if a.cmd == "build":
        build(a.values, a.force)
    else:
        from trace_region_bench import run

        run(build(a.values), a.rounds, set(a.only.split(",")) if a.only else None, a.profile)


if __name__ == "__main__":
    main()
