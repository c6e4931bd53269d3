"""SPC batch benchmark (issue 3): 20 million values over 20,000 characteristics, subgroups of 5.

    python bench/spc_batch.py gen          # writes bench/_work/spc_20m.parquet, sorted by (characteristic, time)
    python bench/spc_batch.py jingce       # Parquet row groups streamed through batch_summary_blocks:
                                           # X-bar-R limits, capability with CIs, Nelson 1-8, last alarm
    python bench/spc_batch.py jingce-table # the whole table read at once, one batch_summary call (the
                                           # store -> engine path: one sorted table per enterprise)
    python bench/spc_batch.py duckdb       # DuckDB window-function query: subgroup means/ranges, per-char mean/sd
    python bench/spc_batch.py floor        # hand-written numpy sort-and-reduce of the same subgroup sums
    python bench/spc_batch.py floor-stream # the same sums at their best: streamed like jingce, by columns
    python bench/spc_batch.py packages     # capstat-core and shewhart looped over a sample, per characteristic
    python bench/spc_batch.py compare [rounds]  # the four above side by side: each a fresh process, the order
                                           # rotated every round; medians of wall time, peak RSS, ratios

Every mode is timed end to end as a process (interpreter start, imports, Parquet read, compute).
"""

import os
import statistics
import subprocess
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
    """The whole table as numpy columns, filled row group by row group into preallocated arrays
    (reading it as one Arrow table and converting would hold each column twice)."""
    import pyarrow.parquet as pq

    f = pq.ParquetFile(PARQUET)
    names = ("characteristic", "value", "nominal")
    out = [np.empty(f.metadata.num_rows, dt) for dt in (np.int32, np.float64, np.float64)]
    pos = 0
    for i in range(f.metadata.num_row_groups):
        t = f.read_row_group(i, columns=list(names))
        for a, c in zip(out, names, strict=True):
            a[pos:pos + t.num_rows] = t.column(c).to_numpy()
        pos += t.num_rows
    return tuple(out)


def _stream():
    """(values, offsets, lsl, usl, nominal) per Parquet row group, cut at characteristic boundaries
    (the rows of a characteristic running over a row-group boundary are carried into the next block)."""
    import pyarrow.parquet as pq

    f = pq.ParquetFile(PARQUET)
    carry = None
    for i in range(f.metadata.num_row_groups):
        t = f.read_row_group(i, columns=["characteristic", "value", "nominal"])
        cols = [t.column(c).to_numpy() for c in ("characteristic", "value", "nominal")]
        del t
        if carry is not None:
            cols = [np.concatenate((a, b)) for a, b in zip(carry, cols, strict=True)]
        char = cols[0]
        starts = np.flatnonzero(char[1:] != char[:-1]) + 1
        last = i == f.metadata.num_row_groups - 1
        cut = char.size if last else (int(starts[-1]) if starts.size else 0)
        carry = [a[cut:] for a in cols]
        if cut:
            char, value, nominal = (a[:cut] for a in cols)
            off = np.concatenate(([0], starts[starts < cut], [cut])).astype(np.int64)
            nom = nominal[off[:-1]]
            yield value, off, nom - 0.05, nom + 0.05, nom


def _report(name, t0, b):
    print(f"{name}: {time.perf_counter() - t0:.2f} s, {b.n_values.size} characteristics, alarms {int(b.alarms.sum())}, "
          f"rule counts {b.rule_counts.sum(axis=0).tolist()}, median Cpk {np.nanmedian(b.cpk):.6f}")


def jingce():
    t0 = time.perf_counter()
    from jingce.kernels.spc import batch_summary_blocks

    b = batch_summary_blocks(_stream(), subgroup_size=N, rules="nelson")
    _report("jingce batch_summary_blocks (streamed)", t0, b)


def jingce_table():
    t0 = time.perf_counter()
    from jingce.kernels.spc import batch_summary

    char, value, nominal = _read()
    starts = np.flatnonzero(np.diff(char)) + 1
    off = np.concatenate(([0], starts, [char.size])).astype(np.int64)
    nom = nominal[off[:-1]]
    del char, nominal
    b = batch_summary(value, off, subgroup_size=N, lsl=nom - 0.05, usl=nom + 0.05, nominal=nom, rules="nelson")
    _report("jingce batch_summary (whole table)", t0, b)


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


def floor_stream():
    """The floor at its best: the same row-group stream as ``jingce``, subgroup statistics by
    columns (no axis-1 reductions), per-characteristic sums by reduceat, one block at a time."""
    t0 = time.perf_counter()
    out = []
    for value, off, _, _, nom in _stream():
        cnt = np.diff(off)
        dev = value - np.repeat(nom, cnt)
        cols = [dev[j::N] for j in range(N)]
        tot, hi, lo = cols[0] + cols[1], np.maximum(cols[0], cols[1]), np.minimum(cols[0], cols[1])
        for c in cols[2:]:
            tot += c
            np.maximum(hi, c, out=hi)
            np.minimum(lo, c, out=lo)
        sub_per = cnt // N
        sub_off = np.concatenate(([0], np.cumsum(sub_per)))[:-1]
        xbb = np.add.reduceat(tot, sub_off) / (N * sub_per)
        rbar = np.add.reduceat(hi - lo, sub_off) / sub_per
        mean = np.add.reduceat(dev, off[:-1]) / cnt
        d = dev - np.repeat(mean, cnt)
        sd = np.sqrt(np.add.reduceat(d * d, off[:-1]) / (cnt - 1))
        out.append((xbb, rbar, mean, sd))
    n = sum(x[0].size for x in out)
    print(f"numpy floor, streamed: {time.perf_counter() - t0:.2f} s ({n} characteristics)")


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


def _run(mode):
    """Wall time, CPU time (user + system, all threads) and peak resident memory (MiB) of one mode
    in a fresh process."""
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, __file__, mode], stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{mode} failed")
    return time.perf_counter() - t0, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def compare(rounds=7):
    modes = ["jingce", "floor-stream", "floor", "duckdb", "jingce-table"]
    for m in modes:  # warm-up (page cache, imports)
        _run(m)
    res = {m: [] for m in modes}
    loads = [os.getloadavg()[0]]
    for r in range(int(rounds)):
        order = modes[r % len(modes):] + modes[:r % len(modes)]
        for m in order:
            res[m].append(_run(m))
        loads.append(os.getloadavg()[0])
    med = {m: [statistics.median(x[i] for x in v) for i in range(3)] for m, v in res.items()}
    print(f"{rounds} rounds, order rotated; 1-min load average {min(loads):.2f}..{max(loads):.2f} on {os.cpu_count()} cores")
    for m in modes:
        ws = [x[0] for x in res[m]]
        print(f"{m:13s} wall median {med[m][0]:6.2f} s (min {min(ws):.2f}, max {max(ws):.2f}), "
              f"CPU median {med[m][1]:6.2f} s, peak RSS median {med[m][2]:7.0f} MiB")
    for a, b in [("jingce", m) for m in modes[1:]] + [("jingce-table", "floor"), ("jingce-table", "duckdb")]:
        wr = [x[0] / y[0] for x, y in zip(res[a], res[b], strict=True)]
        cr = [x[1] / y[1] for x, y in zip(res[a], res[b], strict=True)]
        print(f"{a} / {b}: per-round wall ratio median {statistics.median(wr):.2f} (min {min(wr):.2f}, "
              f"max {max(wr):.2f}); CPU ratio median {statistics.median(cr):.2f}")
    # the per-characteristic packages, between two jingce runs (their loop over a sample is long)
    j1 = _run("jingce")[0]
    out = subprocess.run([sys.executable, __file__, "packages"], capture_output=True, text=True, check=True).stdout
    j2 = _run("jingce")[0]
    per_char = (j1 + j2) / 2 / G * 1e3
    for line in out.splitlines():
        name, rest = line.split(":", 1)
        ms = float(rest.split()[0])
        print(f"{name}: {ms:.2f} ms per characteristic; jingce end to end {per_char:.3f} ms per characteristic "
              f"(runs before and after): jingce {ms / per_char:.0f}x faster")
    decoded = G * PER * (4 + 8 + 8) / 2**20
    print(f"decoded input columns {decoded:.0f} MiB, Parquet file {PARQUET.stat().st_size / 2**20:.0f} MiB; peak/decoded: "
          + ", ".join(f"{m} {med[m][2] / decoded:.2f}x" for m in modes))


if __name__ == "__main__":
    mode = sys.argv[1] if len(sys.argv) > 1 else "jingce"
    funcs = {"gen": gen, "jingce": jingce, "jingce-table": jingce_table, "duckdb": duckdb_query, "floor": floor,
             "floor-stream": floor_stream,
             "packages": packages, "compare": compare}
    funcs[mode](*sys.argv[2:])
