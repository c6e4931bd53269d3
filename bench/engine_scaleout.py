"""Scale-out benchmark (issue 10): the region quality summary on the local engine and on Spark.

    python bench/engine_lake.py --values 20e6                   # build the lake first (see there)
    python bench/engine_scaleout.py compare --values 20e6 --rounds 3
    python bench/engine_scaleout.py scale --values 20e6         # 1, 2, 4, 8 partitions per core

``compare`` runs, alternately and each in a fresh process, the local engine and the Spark engine
in local mode (``local[2]``: both cores), with the plans named (files, packed, rows). Each process runs
the quality summary of every characteristic (the batch part of ``jingce demo``'s region
summary: SPC limits, capability, run rules) twice: the first run pays for cold start (imports,
JIT, page cache), the second is the engine's steady cost. For Spark the session start is timed
apart; "start-up" = session start + (first run - second run). Peak memory is the largest total
resident set of the process and all its children (the JVM and its Python workers), sampled
every 50 ms.

``scale`` runs the same job in one Spark session with 2, 4, 8 and 16 shuffle partitions (1, 2, 4,
8 per core) and reads every task's duration from Spark's status API. From the measured task
times it predicts the job's time on E executors of 2 cores each (tasks scheduled greedily, longest
first, per stage; driver time kept fixed) and so the speed-up each added executor would bring.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from engine_lake import lake_dir  # noqa: E402

SPARK_CONF = {"spark.sql.sources.parallelPartitionDiscovery.threshold": "100000", "spark.driver.memory": "6g",
              "spark.ui.showConsoleProgress": "false"}


# -- one measured process ------------------------------------------------------------------------


def one(engine: str, values: float, plan: str, partitions: int | None, repeat: int = 2) -> dict:
    t_import = time.perf_counter()
    from jingce.engine import AnalysisParams, open_engine
    from jingce.settings import Settings
    from jingce.store import Store

    store = Store(Settings(data_dir=lake_dir(values)))
    admin = store.bootstrap()
    n = store.lake_stats()["rows"]
    out = {"engine": engine, "plan": plan, "values": n, "import_s": time.perf_counter() - t_import}
    if engine == "local":
        eng = open_engine("local")
    else:
        eng = open_engine("local[2]", conf={**SPARK_CONF, "spark.ui.enabled": "false"}, partitions=partitions,
                          plan=plan)
        t = time.perf_counter()
        eng.session  # noqa: B018
        out["session_s"] = time.perf_counter() - t
    runs = []
    for _ in range(repeat):
        t = time.perf_counter()
        res = eng.characteristic_summary(store, admin, params=AnalysisParams())
        runs.append(time.perf_counter() - t)
    out |= {"first_s": runs[0], "warm_s": runs[-1], "rows": res.num_rows,
            "alarms": int(sum(res.column("alarms").to_pylist()))}
    eng.close()
    return out


def _tree_rss(pid: int) -> int:
    """Resident bytes of a process and all its descendants."""
    total, stack = 0, [pid]
    while stack:
        p = stack.pop()
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
                        break
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    stack += [int(c) for c in f.read().split()]
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return total


def measured(args: list[str]) -> dict:
    """Run ``engine_scaleout.py one ...`` in a fresh process; its JSON result plus wall time and
    peak memory of its process tree."""
    t = time.perf_counter()
    proc = subprocess.Popen([sys.executable, __file__, "one", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    peak = 0
    done = threading.Event()

    def sample():
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _tree_rss(proc.pid))
            done.wait(0.05)

    th = threading.Thread(target=sample, daemon=True)
    th.start()
    stdout, _ = proc.communicate()
    done.set()
    th.join()
    if proc.returncode != 0:
        raise RuntimeError(f"{args} failed ({proc.returncode})")
    res = json.loads(stdout.strip().splitlines()[-1])
    return res | {"process_s": time.perf_counter() - t, "peak_rss_gb": peak / 1e9}


def compare(values: float, rounds: int, plans: list[str], repeat: int = 2) -> None:
    contenders = [["--engine", "local"]] + [["--engine", "spark", "--plan", p] for p in plans]
    results: dict[str, list[dict]] = {}
    for r in range(rounds):
        for c in contenders:
            res = measured([*c, "--values", str(values), "--repeat", str(repeat)])
            key = res["engine"] if res["engine"] == "local" else f"spark-{res['plan']}"
            results.setdefault(key, []).append(res)
            print(json.dumps({"round": r, **res}), flush=True)
    med = {k: {f: statistics.median(x[f] for x in v) for f in v[0] if isinstance(v[0][f], int | float)}
           for k, v in results.items()}
    n = med["local"]["values"]
    print(f"\n{n:,.0f} values, {med['local']['rows']:,.0f} characteristics; medians of {rounds} alternating rounds")
    print("| engine | job, warm (s) | ns / value | job, first run (s) | session start (s) | start-up (s) | "
          "whole process (s) | peak memory (GB) | warm job / local |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    base = med["local"]["warm_s"]
    for k, m in med.items():
        start = m.get("session_s", 0.0) + m["first_s"] - m["warm_s"]
        print(f"| {k} | {m['warm_s']:.2f} | {m['warm_s'] / n * 1e9:.0f} | {m['first_s']:.2f} | "
              f"{m.get('session_s', float('nan')):.1f} | {start:.1f} | {m['process_s']:.1f} | {m['peak_rss_gb']:.2f} | "
              f"{m['warm_s'] / base:.2f} |")


# -- simulated scale-out ---------------------------------------------------------------------------


def _get(url: str):
    with urllib.request.urlopen(url, timeout=30) as r:
        return json.load(r)


def _makespan(durations: list[float], slots: int) -> float:
    """Greedy longest-first schedule of tasks on ``slots`` cores."""
    load = [0.0] * slots
    for d in sorted(durations, reverse=True):
        i = load.index(min(load))
        load[i] += d
    return max(load)


def scale(values: float, per_core: list[int], plan: str, executors: list[int]) -> None:
    from jingce.engine import AnalysisParams, open_engine
    from jingce.settings import Settings
    from jingce.store import Store

    store = Store(Settings(data_dir=lake_dir(values)))
    admin = store.bootstrap()
    n = store.lake_stats()["rows"]
    eng = open_engine("local[2]", conf={**SPARK_CONF, "spark.ui.enabled": "true", "spark.ui.port": "4077"},
                      plan=plan)
    sc = eng.session.sparkContext
    ui = sc.uiWebUrl.rstrip("/")
    app = sc.applicationId
    cores = int(sc.defaultParallelism)
    eng.characteristic_summary(store, admin, partitions=2 * cores)  # warm-up (JIT, page cache)
    print(f"{n:,} values on local[{cores}], plan {plan}")
    print("| partitions (per core) | job (s) | stage tasks: count x median (s) | sum of task time (s) | "
          "driver (s) | predicted on E executors of 2 cores: E=1, 2, 4, 8 (s) | speed-up at E=2, 4, 8 |")
    print("| --- | ---: | --- | ---: | ---: | --- | --- |")
    for k in per_core:
        p = k * cores
        before = {s["stageId"] for s in _get(f"{ui}/api/v1/applications/{app}/stages")}
        t = time.perf_counter()
        eng.characteristic_summary(store, admin, params=AnalysisParams(), partitions=p)
        wall = time.perf_counter() - t
        time.sleep(1.0)  # let the status store catch up
        stages = [s for s in _get(f"{ui}/api/v1/applications/{app}/stages") if s["stageId"] not in before
                  and s["status"] == "COMPLETE"]
        tasks = []
        for s in sorted(stages, key=lambda s: s["stageId"]):
            lst = _get(f"{ui}/api/v1/applications/{app}/stages/{s['stageId']}/{s['attemptId']}/taskList?length=100000")
            tasks.append([x["duration"] / 1000 for x in lst if x.get("status") == "SUCCESS"])
        busy = sum(_makespan(ts, cores) for ts in tasks)
        driver = max(wall - busy, 0.0)
        pred = {e: driver + sum(_makespan(ts, 2 * e) for ts in tasks) for e in executors}
        desc = ", ".join(f"{len(ts)} x {statistics.median(ts):.2f}" for ts in tasks if ts)
        print(f"| {p} ({k}) | {wall:.2f} | {desc} | {sum(map(sum, tasks)):.1f} | {driver:.2f} | "
              + ", ".join(f"{pred[e]:.1f}" for e in executors) + " | "
              + ", ".join(f"{pred[1] / pred[e]:.2f}" for e in executors if e > 1) + " |", flush=True)
    eng.close()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    o = sub.add_parser("one")
    o.add_argument("--engine", choices=["local", "spark"], required=True)
    o.add_argument("--values", type=float, default=20e6)
    o.add_argument("--plan", default="files")
    o.add_argument("--partitions", type=int, default=None)
    o.add_argument("--repeat", type=int, default=2, help="job runs in the process (the last is 'warm')")
    c = sub.add_parser("compare")
    c.add_argument("--values", type=float, default=20e6)
    c.add_argument("--rounds", type=int, default=3)
    c.add_argument("--plans", default="files,packed,rows")
    c.add_argument("--repeat", type=int, default=2, help="job runs per process (1: no warm run; large lakes)")
    s = sub.add_parser("scale")
    s.add_argument("--values", type=float, default=20e6)
    s.add_argument("--plan", default="files")
    s.add_argument("--per-core", default="1,2,4,8")
    s.add_argument("--executors", default="1,2,4,8")
    a = p.parse_args()
    if a.cmd == "one":
        print(json.dumps(one(a.engine, a.values, a.plan, a.partitions, a.repeat)))
    elif a.cmd == "compare":
        compare(a.values, a.rounds, [x for x in a.plans.split(",") if x], a.repeat)
    else:
        scale(a.values, [int(x) for x in a.per_core.split(",")], a.plan, [int(x) for x in a.executors.split(",")])


if __name__ == "__main__":
    main()
