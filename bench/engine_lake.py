"""A generated region lake for the scale-out benchmark (issue 10), built through the store's ingest.

    python bench/engine_lake.py --values 20e6      # bench/_work/engine/lake-20M
    python bench/engine_lake.py --values 200e6     # bench/_work/engine/lake-200M (about an hour)

``--enterprises`` manufacturers (default 100), each with one product of ``--chars`` characteristics
(default 50) measured together on every part, over ``--months`` months (default 12) of 2026. Each
enterprise-month arrives as two ingest batches (the parts of the day and night shift), then
``Store.compact`` rewrites each partition as one file sorted by (characteristic, time): the
"sorted lake" the engines read. Values follow per-characteristic processes (off-centre means,
varying spread, a slow drift and occasional shifts) so that capability and run rules vary.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa

from jingce.model import Enterprise, Product, Site, Tenant
from jingce.settings import Settings
from jingce.store import Store

WORK = Path(__file__).parent / "_work" / "engine"
YEAR0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def lake_dir(values: float) -> Path:
    return WORK / f"lake-{int(values / 1e6)}M"


def _month_bounds(m: int) -> tuple[int, int]:
    a = dt.datetime(2026, m + 1, 1, tzinfo=dt.UTC)
    b = dt.datetime(2026 + (m + 1) // 12, (m + 1) % 12 + 1, 1, tzinfo=dt.UTC)
    return int(a.timestamp() * 1e6), int(b.timestamp() * 1e6)


def enterprise_month(e: int, m: int, parts: int, chars: int, proc: dict, shift: int) -> pa.Table:
    """Input rows of one shift of enterprise ``e`` in month ``m`` (codes, not ids)."""
    rng = np.random.default_rng([e, m, shift])
    lo, hi = _month_bounds(m)
    t_part = np.sort(rng.integers(lo, hi - 3_600_000_000, parts))
    part = np.repeat(np.arange(parts), chars)
    char = np.tile(np.arange(chars), parts)
    frac = ((t_part - _month_bounds(0)[0]) / (365 * 86400e6))[part]  # position in the year, for the drift
    mu, sd, drift = proc["mu"][char], proc["sd"][char], proc["drift"][char]
    x = mu + drift * frac + rng.normal(0.0, 1.0, part.size) * sd
    shifted = rng.random(parts) < 0.01  # an occasional out-of-control part
    x = x + np.where(shifted[part], 3.0 * sd, 0.0)
    nominal, tol = proc["nominal"][char], proc["tol"][char]
    serial = np.char.add(f"E{e}-M{m}-S{shift}-", np.arange(parts).astype(str))
    return pa.table({
        "enterprise": pa.array(np.full(part.size, f"E{e:05d}")),
        "part_number": pa.array(np.full(part.size, f"P{e:05d}")),
        "serial": pa.array(serial[part]),
        "characteristic": pa.array(np.char.add("C", char.astype(str))),
        "value": np.round(nominal + x, 5),
        "unit": pa.array(np.full(part.size, "mm")),
        "measured_at": pa.array(t_part[part] + char * 2_000_000, pa.int64()).cast(pa.timestamp("us", tz="UTC")),
        "nominal": nominal, "lower_limit": nominal - tol, "upper_limit": nominal + tol,
        "position": np.arange(part.size, dtype=np.int64),
    })


def build(values: float, enterprises: int, chars: int, months: int) -> Store:
    root = lake_dir(values)
    shutil.rmtree(root, ignore_errors=True)
    st = Store(Settings(data_dir=root))
    a = st.bootstrap()
    parts = max(1, int(round(values / (enterprises * months * chars * 2))))  # per shift
    t0 = time.perf_counter()
    for e in range(enterprises):
        ten = st.add_tenant(a, Tenant(code=f"t{e}", name=f"T{e}", kind="enterprise"))
        ent = st.add_enterprise(a, Enterprise(tenant_id=ten.id, code=f"E{e:05d}", name=f"Manufacturer {e}",
                                              industry_chain=("aero_engine", "powertrain", "bearings")[e % 3]))
        st.add_site(a, Site(enterprise_id=ent.id, code="P1", name="plant", timezone="Asia/Shanghai"))
        st.add_product(a, Product(enterprise_id=ent.id, part_number=f"P{e:05d}", name="part"))
        rng = np.random.default_rng(e)
        nominal = np.round(rng.uniform(5, 500, chars), 3)
        tol = np.round(nominal * rng.uniform(2e-4, 2e-3, chars), 4)
        proc = {"nominal": nominal, "tol": tol, "mu": tol * rng.normal(0, 0.2, chars),
                "sd": tol * rng.uniform(0.1, 0.5, chars), "drift": tol * rng.normal(0, 0.2, chars)}
        for m in range(months):
            for shift in (0, 1):
                t = enterprise_month(e, m, parts, chars, proc, shift)
                st.ingest(a, t, content_hash=f"{e:08d}{m:04d}{shift:04d}".ljust(64, "0"), source_format="bench")
        done = (e + 1) / enterprises
        print(f"ingested {e + 1}/{enterprises} enterprises ({time.perf_counter() - t0:.0f} s, "
              f"eta {(time.perf_counter() - t0) * (1 - done) / done:.0f} s)", file=sys.stderr, flush=True)
    t1 = time.perf_counter()
    n = st.compact(a)
    print(f"compacted {n} partitions in {time.perf_counter() - t1:.0f} s", file=sys.stderr, flush=True)
    st.vacuum(a, older_than=dt.timedelta(0))
    stats = st.lake_stats()
    print(f"lake {root}: {stats['rows']:,} values, {stats['files']} files, {stats['bytes'] / 1e9:.2f} GB, "
          f"{stats['bytes_per_value']:.1f} B/value; built in {time.perf_counter() - t0:.0f} s", flush=True)
    return st


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--values", type=float, default=20e6)
    p.add_argument("--enterprises", type=int, default=100)
    p.add_argument("--chars", type=int, default=50)
    p.add_argument("--months", type=int, default=12)
    a = p.parse_args()
    build(a.values, a.enterprises, a.chars, a.months)


if __name__ == "__main__":
    main()
