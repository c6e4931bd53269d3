"""Foundation benchmarks (issue 2): the store against plain pyarrow (the floor), side by side.

    python bench/store_bench.py ingest   # store.ingest vs pq.write_table, alternating in one process
    python bench/store_bench.py read     # 20 M values of one enterprise-month, and one characteristic's
                                         # 1 M values of them: store vs pyarrow, before/after compaction
    python bench/store_bench.py csv-prepare   # then compare with ../shared/tools/sidebyside.py:
        "jingce ingest bench/_work/csv/m.csv --data bench/_work/csv/data-<fresh>"  vs  "python bench/store_bench.py csv-floor"

Data goes to bench/_work (git-ignored). Times are medians of alternating rounds.
"""

from __future__ import annotations

import datetime as dt
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from jingce.model import Enterprise, Site, Tenant
from jingce.settings import Settings
from jingce.store import Store

WORK = Path(__file__).parent / "_work" / "store"
T0 = int(dt.datetime(2026, 3, 1, tzinfo=dt.UTC).timestamp() * 1e6)


def make_input(n: int, n_chars: int, seed: int = 0, month_seconds: int = 27 * 86400) -> pa.Table:
    """Measurements of one enterprise-month in the reader's input form (codes, not ids)."""
    rng = np.random.default_rng(seed)
    parts = n // n_chars
    serial = np.char.add("SN", np.arange(parts).astype(str))
    t_part = T0 + np.sort(rng.integers(0, month_seconds * 10**6, parts))
    char = np.tile(np.arange(n_chars), parts)
    part = np.repeat(np.arange(parts), n_chars)
    return pa.table({
        "enterprise": pa.array(np.full(part.size, "E1")), "part_number": pa.array(np.full(part.size, "P1")),
        "serial": pa.array(serial[part]), "characteristic": pa.array(np.char.add("C", char.astype(str))),
        "value": np.round(25.0 + rng.normal(0, 0.002, part.size), 4), "unit": pa.array(np.full(part.size, "mm")),
        "measured_at": pa.array(t_part[part] + char * 1_000_000, pa.int64()).cast(pa.timestamp("us", tz="UTC")),
        "nominal": np.full(part.size, 25.0), "lower_limit": np.full(part.size, 24.99),
        "upper_limit": np.full(part.size, 25.01), "position": np.arange(part.size, dtype=np.int64)})


def fresh_store(root: Path) -> Store:
    shutil.rmtree(root, ignore_errors=True)
    st = Store(Settings(data_dir=root))
    a = st.bootstrap()
    ten = st.add_tenant(a, Tenant(code="t1", name="t", kind="enterprise"))
    e = st.add_enterprise(a, Enterprise(tenant_id=ten.id, code="E1", name="E1"))
    st.add_site(a, Site(enterprise_id=e.id, code="P1", name="p"))
    return st


def _alternate(a, b, rounds: int, setup_a=lambda: None) -> tuple[list[float], list[float]]:
    """Run ``a`` and ``b`` alternately (after one warm-up each); ``setup_a`` runs untimed before each ``a``."""
    ta, tb = [], []
    setup_a(), a(), b()  # warm-up
    for _ in range(rounds):
        setup_a()
        t = time.perf_counter()
        a()
        ta.append(time.perf_counter() - t)
        t = time.perf_counter()
        b()
        tb.append(time.perf_counter() - t)
    return ta, tb


def _report(name_a, ta, name_b, tb, n, unit="values"):
    ma, mb = statistics.median(ta), statistics.median(tb)
    print(f"{name_a}: {ma:.3f} s ({n / ma / 1e6:.2f} M {unit}/s) | {name_b}: {mb:.3f} s ({n / mb / 1e6:.2f} M {unit}/s)"
          f" | ratio {name_a}/{name_b} = {ma / mb:.2f}")


def bench_ingest(n: int = 2_000_000, rounds: int = 5) -> None:
    table = make_input(n, 100)
    tmp = Path(tempfile.mkdtemp(dir=WORK.parent if WORK.parent.exists() else None))
    state = {}

    def setup():  # a fresh, empty registry and lake (not timed)
        if "store" in state:
            state["store"].close()
        state["store"] = fresh_store(tmp / "s")

    def through_store():
        st = state["store"]
        st.ingest(st.bootstrap(), table, content_hash="1" * 64, source_format="bench")

    def floor():
        pq.write_table(table, tmp / "floor.parquet")

    ta, tb = _alternate(through_store, floor, rounds, setup)
    _report("store.ingest", ta, "pyarrow write_table", tb, n)
    shutil.rmtree(tmp, ignore_errors=True)


def build_lake(n_chars: int = 20, per_char: int = 1_000_000, batch: int = 2_000_000) -> Store:
    """A 20 M-value lake: one enterprise-month, 20 characteristics of 1 M values each."""
    root = WORK / "lake20m"
    st = fresh_store(root)
    admin = st.bootstrap()
    n = n_chars * per_char
    for k in range(n // batch):
        t = make_input(batch, n_chars, seed=k)
        t = t.set_column(t.column_names.index("position"), "position", pa.array(np.arange(batch) + k * batch))
        serial = pa.array(np.char.add(f"B{k}-", np.asarray(t.column("serial")).astype(str)))
        t = t.set_column(t.column_names.index("serial"), "serial", serial)
        st.ingest(admin, t, content_hash=f"{k:064d}", source_format="bench")
        print(f"lake batch {k + 1}/{n // batch}", file=sys.stderr)
    return st


def _files(st: Store) -> list[str]:
    from sqlalchemy import select

    from jingce.store import tables as t

    with st.engine.connect() as conn:
        return [str(st.lake.path(p)) for p in conn.execute(
            select(t.lake_file.c.path).where(t.lake_file.c.active.is_(True))).scalars()]


def bench_read(rounds: int = 5) -> None:
    """20 M values of one enterprise-month: as ingested (10 batch files), then compacted (1 file)."""
    st = build_lake()
    admin = st.bootstrap()
    cols = ("characteristic_id", "measured_at", "value")
    n = st.lake_stats()["rows"]
    for label in ("10 batch files", "compacted to 1 file"):
        if label.startswith("compacted"):
            st.compact(admin)
        files = _files(st)

        def store_scan():
            assert st.scan(admin, enterprise_id=1, month="2026-03", columns=cols).num_rows == n

        def store_sorted():
            for _e, tab in st.sorted_tables(admin, columns=cols):
                assert tab.num_rows == n

        def floor(files=files):
            assert pq.read_table(files, columns=list(cols)).num_rows == n

        ta, tb = _alternate(store_scan, floor, rounds)
        _report(f"[{label}] store.scan", ta, "pyarrow read_table", tb, n)
        ta, tb = _alternate(store_sorted, floor, rounds)
        _report(f"[{label}] store.sorted_tables (characteristic, time order)", ta, "pyarrow read_table", tb, n)
        bench_history(st, files, label)


def bench_history(st: Store, files: list[str], label: str, rounds: int = 7) -> None:
    admin = st.bootstrap()
    cid = st.find_characteristic(admin, "E1", "P1", "C7").id

    def store_history():
        assert st.values(admin, cid, columns=("measured_at", "value")).num_rows == 1_000_000

    def floor():
        t = pq.read_table(files, columns=["measured_at", "value"], filters=[("characteristic_id", "=", cid)])
        assert t.num_rows == 1_000_000

    ta, tb = _alternate(store_history, floor, rounds)
    _report(f"[{label}] store.values (1 M of 20 M, time-ordered)", ta, "pyarrow filtered read", tb, 1_000_000)


def csv_prepare(n: int = 1_000_000) -> None:
    d = WORK / "csv"
    d.mkdir(parents=True, exist_ok=True)
    t = make_input(n, 100).drop_columns(["position"])
    t = t.set_column(t.column_names.index("measured_at"), "time",
                     t.column("measured_at").cast(pa.timestamp("us", tz="UTC")))
    pacsv.write_csv(t, d / "m.csv")
    fresh_store(d / "template").close()
    print(d / "m.csv", (d / "m.csv").stat().st_size / 1e6, "MB")


def csv_jingce() -> None:
    """`jingce ingest` on a fresh copy of the template data folder (what a user runs)."""
    d = WORK / "csv"
    target = Path(tempfile.mkdtemp(dir=d))
    shutil.copytree(d / "template", target / "data")
    from typer.testing import CliRunner

    from jingce.cli.app import app

    r = CliRunner().invoke(app, ["ingest", str(d / "m.csv"), "--data", str(target / "data")])
    shutil.rmtree(target, ignore_errors=True)
    assert r.exit_code == 0, r.output


def csv_floor() -> None:
    """Plain pyarrow: read the same CSV, write it as Parquet."""
    d = WORK / "csv"
    t = pacsv.read_csv(d / "m.csv")
    pq.write_table(t, d / "floor.parquet")


if __name__ == "__main__":
    WORK.mkdir(parents=True, exist_ok=True)
    {"ingest": bench_ingest, "read": bench_read, "csv-prepare": csv_prepare,
     "csv-jingce": csv_jingce, "csv-floor": csv_floor}[sys.argv[1]]()
