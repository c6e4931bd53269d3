"""SPC batch benchmark (issue 3): 20 million values over 20,000 characteristics, subgroups of 5.

    python bench/spc_batch.py gen        # writes bench/_work/spc_20m.parquet, sorted by (characteristic, time)
    python bench/spc_batch.py jingce     # Parquet -> batch X-bar-R limits, capability with CIs, Nelson rules
    python bench/spc_batch.py duckdb     # DuckDB window-function query: subgroup means/ranges, per-char mean/sd
    python bench/spc_batch.py floor      # hand-written numpy sort-and-reduce of the same subgroup sums
    python bench/spc_batch.py packages   # capstat-core and shewhart looped over a sample, per characteristic

Compare two modes side by side with ../shared/tools/sidebyside.py (alternating runs, peak RSS).
"""

import sys
import time
from pathlib import Path

import numpy as np

WORK = Path(__file__).parent / "_work"
PARQUET = WORK / "spc_20m.parquet"
G, PER, N = 20_000, 1_000, 5


def gen():
    import pyarrow as pa
    import pyarrow.parquet as pq

    WORK.mkdir(exist_ok=True)
    rng = np.random.default_rng(20240601)
    nominal = rng.uniform(5, 500, G)
    char = np.repeat(np.arange(G, dtype=np.int32), PER)
    t = np.tile(np.arange(PER, dtype=np.int64), G) * 60_000_000 + 1_700_000_000_000_000
    value = np.repeat(nominal, PER) + rng.normal(0, 0.01, G * PER)
    value[char % 97 == 0] += np.where(np.tile(np.arange(PER), G)[char % 97 == 0] > 800, 0.02, 0.0)
    table = pa.table({"characteristic": char, "time_us": t, "value": value,
                      "nominal": np.repeat(nominal, PER)})
    pq.write_table(table, PARQUET, row_group_size=1_000_000)
    print(f"wrote {PARQUET} ({PARQUET.stat().st_size / 2**20:.0f} MiB)")


def _read():
    import pyarrow.parquet as pq

    t = pq.read_table(PARQUET, columns=["characteristic", "value", "nominal"])
    char = t.column("characteristic").to_numpy()
    value = t.column("value").to_numpy()
    nominal = t.column("nominal").to_numpy()
    return char, value, nominal


def jingce():
    from jingce.kernels.spc import batch_summary

    t0 = time.perf_counter()
    char, value, nominal = _read()
    starts = np.flatnonzero(np.diff(char)) + 1
    off = np.concatenate(([0], starts, [char.size])).astype(np.int64)
    nom = nominal[off[:-1]]
    del char, nominal
    b = batch_summary(value, off, subgroup_size=N, lsl=nom - 0.05, usl=nom + 0.05, nominal=nom, rules="nelson")
    dt = time.perf_counter() - t0
    print(f"jingce batch_summary: {dt:.2f} s, {off.size - 1} characteristics, alarms {int(b.alarms.sum())}, "
          f"median Cpk {np.nanmedian(b.cpk):.3f}")


def duckdb_query():
    import duckdb

    t0 = time.perf_counter()
    con = duckdb.connect()
    q = f"""
    with s as (
      select characteristic, (row_number() over (partition by characteristic order by time_us) - 1) // {N} as sg, value
      from read_parquet('{PARQUET}')
    ), g as (
      select characteristic, sg, avg(value) as xbar, max(value) - min(value) as r from s group by all
    ), c as (
      select characteristic, avg(value) as mean, stddev_samp(value) as sd from read_parquet('{PARQUET}') group by all
    )
    select g.characteristic, avg(xbar), avg(r), any_value(c.mean), any_value(c.sd)
    from g join c using (characteristic) group by g.characteristic
    """
    res = con.execute(q).fetchnumpy()
    print(f"duckdb: {time.perf_counter() - t0:.2f} s, {len(res['characteristic'])} rows")


def floor():
    t0 = time.perf_counter()
    char, value, nominal = _read()
    starts = np.flatnonzero(np.diff(char)) + 1
    off = np.concatenate(([0], starts, [char.size]))
    dev = value - nominal
    block = dev.reshape(-1, N)
    xbar = block.mean(axis=1)
    r = block.max(axis=1) - block.min(axis=1)
    sub_per = (np.diff(off) // N)
    sub_off = np.concatenate(([0], np.cumsum(sub_per)))[:-1]
    xbb = np.add.reduceat(xbar, sub_off) / sub_per
    rbar = np.add.reduceat(r, sub_off) / sub_per
    mean = np.add.reduceat(dev, off[:-1]) / np.diff(off)
    sd = np.sqrt(np.add.reduceat((dev - np.repeat(mean, np.diff(off))) ** 2, off[:-1]) / (np.diff(off) - 1))
    print(f"numpy floor: {time.perf_counter() - t0:.2f} s ({xbb.size} {rbar.size} {sd.size})")


def packages(sample=40):
    import warnings

    import capstat_core
    import pandas as pd
    import shewhart

    char, value, nominal = _read()
    warnings.simplefilter("ignore")
    res = {}
    for name in ("capstat-core", "shewhart"):
        t0 = time.perf_counter()
        for c in range(sample):
            x = value[c * PER:(c + 1) * PER]
            nom = nominal[c * PER]
            if name == "capstat-core":
                capstat_core.xbar_r_chart(x.reshape(-1, N))
                capstat_core.analyze_capability(x, lsl=nom - 0.05, usl=nom + 0.05)
            else:
                df = pd.DataFrame({"value": x, "subgroup": np.repeat(np.arange(PER // N), N)})
                shewhart.xbar_r(df, value="value", subgroup="subgroup", rules="nelson")
                shewhart.capability(df, value="value", lsl=nom - 0.05, usl=nom + 0.05, subgroup="subgroup")
        per = (time.perf_counter() - t0) / sample
        res[name] = per
        print(f"{name}: {per * 1e3:.2f} ms per characteristic -> {per * G:.1f} s for {G} (scaled from {sample})")
    return res


if __name__ == "__main__":
    mode = sys.argv[1] if len(sys.argv) > 1 else "jingce"
    {"gen": gen, "jingce": jingce, "duckdb": duckdb_query, "floor": floor, "packages": packages}[mode]()
