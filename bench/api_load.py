"""Load on the service over loopback: batch ingest rate through the API against the store's own
rate on the same batches (the floor), and latency of the chart and regulator-dashboard endpoints.

    .venv/bin/jingce demo --data /tmp/demo          # once (about 20 s to 2 min)
    .venv/bin/python bench/api_load.py --demo /tmp/demo

The demo folder is copied (it is left as it is); into the copy go a bench enterprise with a
100,000-value characteristic (the chart) and, unless ``--no-summaries``, the region's summaries
(``analyse_region`` on the local engine: what the regulator dashboard reads). uvicorn serves the
copy on 127.0.0.1 in a subprocess (one worker); httpx clients in threads are the load generator
(several concurrent connections).

Ingest: rounds alternate the API (``--concurrency`` connections posting JSON batches of
``--batch`` measurements each) and the store (``Store.ingest`` in this process, on a second
copy, of the same batches as Arrow tables: what the route hands to the store). Rates are
measurements per second; the ratio is API / store (goal >= 0.5).
Latency: ``--requests`` requests after warm-up, one connection and ``--concurrency``
connections; p50 and p99 (goals: chart p99 < 300 ms, dashboard p99 < 1 s). Charts are measured
twice: "new" asks each time for a chart never rendered before (a different ``limit`` just above
100,000, so all 100,000 values are plotted), "again" repeats one request (the service reuses a
rendered chart while its data, limits and the user's visibility are unchanged).
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import datetime as dt
import hashlib
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
import pyarrow as pa

PASSWORD = "bench-password-1234"
SERIES = 100_000


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare(demo: Path, work: Path, summaries: bool) -> None:
    """Copy the demo, add the bench tenant (user ``load``) with its 100,000-value series, set
    passwords, write the region's summaries."""
    from jingce.api.security import hash_password
    from jingce.model import Enterprise, Role, Site, Tenant, User
    from jingce.settings import Settings
    from jingce.store import Store

    shutil.copytree(demo, work)
    st = Store(Settings(data_dir=work))
    a = st.bootstrap()
    tn = st.add_tenant(a, Tenant(code="load", name="load", kind="enterprise"))
    st.add_user(a, User(tenant_id=tn.id, username="load", role=Role.ENTERPRISE_ADMIN))
    e = st.add_enterprise(a, Enterprise(tenant_id=tn.id, code="LOAD", name="Load test", industry_chain="bench"))
    st.add_site(a, Site(enterprise_id=e.id, code="P1", name="plant", timezone="UTC"))
    for user in ("load", "regulator", "admin"):
        st.set_password(a, user, hash_password(PASSWORD))
    rng = np.random.default_rng(1)
    t0 = np.datetime64("2025-01-01T00:00:00", "us")
    times = t0 + np.arange(SERIES).astype("timedelta64[m]")
    table = pa.table({
        "enterprise": ["LOAD"] * SERIES, "part_number": ["SERIES"] * SERIES,
        "serial": [f"S{i}" for i in range(SERIES)], "characteristic": ["K"] * SERIES,
        "value": 10 + 0.01 * rng.standard_normal(SERIES), "unit": ["mm"] * SERIES,
        "measured_at": pa.array(times.astype("datetime64[us]"), pa.timestamp("us")).cast(pa.timestamp("us", tz="UTC")),
        "nominal": [10.0] * SERIES, "lower_limit": [9.95] * SERIES, "upper_limit": [10.05] * SERIES,
        "position": pa.array(range(SERIES), pa.int64())})
    st.ingest(a, table, content_hash=hashlib.sha256(b"api-load-series").hexdigest(), source_format="bench")
    if summaries:
        from jingce.engine.local import LocalEngine
        from jingce.services.region import analyse_region

        t = time.perf_counter()
        analyse_region(st, a, LocalEngine())
        log(f"region summaries written in {time.perf_counter() - t:.1f} s")
    st.close()


def batches(n_batches: int, size: int, seed: int) -> list[list[dict]]:
    """Distinct batches of measurements of the bench enterprise (20 characteristics)."""
    rng = np.random.default_rng(seed)
    out = []
    base = dt.datetime(2026, 1, 1, tzinfo=dt.UTC) + dt.timedelta(days=seed)
    for b in range(n_batches):
        vals = 20 + 0.01 * rng.standard_normal(size)
        rows = []
        for i in range(size):
            k = i % 20
            rows.append({"enterprise": "LOAD", "part_number": "P", "serial": f"B{seed}-{b}-{i // 20}",
                         "characteristic": f"C{k:02d}", "value": float(vals[i]), "unit": "mm",
                         "time": (base + dt.timedelta(seconds=b * size + i)).isoformat(), "nominal": 20.0,
                         "lower_limit": 19.95, "upper_limit": 20.05, "stage": "in_process", "operator": "op1",
                         "machine": "M1"})
        out.append(rows)
    return out


def as_table(rows: list[dict]) -> pa.Table:
    """The Arrow table the route builds from a batch (see api/routes/measurements.py)."""
    from jingce.model.batch import TIME

    t = [dt.datetime.fromisoformat(r["time"]).astimezone(dt.UTC) for r in rows]
    names = ("enterprise", "part_number", "serial", "characteristic", "unit", "stage", "operator", "machine")
    return pa.table({
        **{k: pa.array([r[k] for r in rows], pa.string()) for k in names},
        **{k: pa.array([r[k] for r in rows], pa.float64()) for k in ("value", "nominal", "lower_limit", "upper_limit")},
        "measured_at": pa.array(t, TIME), "position": pa.array(range(len(rows)), pa.int64()),
    })


class Server:
    def __init__(self, data: Path, port: int, workers: int = 1, http: str = "auto"):
        env = dict(os.environ, JINGCE_DATA=str(data), JINGCE_DEMO="1")
        self.url = f"http://127.0.0.1:{port}"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--factory", "jingce.api:create_app", "--host", "127.0.0.1",
             "--port", str(port), "--workers", str(workers), "--http", http, "--log-level", "warning", "--no-access-log"], env=env)
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                if httpx.get(self.url + "/api/v1/openapi.json", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.3)
        self.stop()
        raise RuntimeError("the server did not start")

    def token(self, user: str) -> str:
        r = httpx.post(self.url + "/api/v1/auth/login", json={"username": user, "password": PASSWORD}, timeout=30)
        r.raise_for_status()
        return r.json()["token"]

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def post_all(url: str, token: str, bodies: list[bytes], concurrency: int) -> float:
    """Post the bodies over ``concurrency`` connections; returns the wall time."""
    clients = [httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}",
                                                   "content-type": "application/json"}, timeout=300)
               for _ in range(concurrency)]

    def one(i: int) -> None:
        r = clients[i % concurrency].post("/api/v1/measurements", content=bodies[i])
        if r.status_code != 200 or not r.json()["created"]:
            raise RuntimeError(f"batch {i}: {r.status_code} {r.text[:300]}")

    t = time.perf_counter()
    with cf.ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(one, range(len(bodies))))
    wall = time.perf_counter() - t
    for c in clients:
        c.close()
    return wall


def latencies(url: str, token: str, path: str, n: int, concurrency: int, warmup: int = 3,
              vary_limit: int | None = None) -> list[float]:
    """Latencies of ``n`` GETs of ``path`` over ``concurrency`` connections; with ``vary_limit``
    each request asks for a different ``limit`` just below it (a chart never rendered before)."""
    clients = [httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=300)
               for _ in range(concurrency)]
    for w in range(warmup):
        clients[0].get(path, params={"limit": vary_limit - w} if vary_limit else None).raise_for_status()

    def one(i: int) -> float:
        t = time.perf_counter()
        params = {"limit": vary_limit - i - warmup - 1} if vary_limit else None
        r = clients[i % concurrency].get(path, params=params)
        r.raise_for_status()
        _ = r.content
        return time.perf_counter() - t

    with cf.ThreadPoolExecutor(concurrency) as pool:
        out = list(pool.map(one, range(n)))
    for c in clients:
        c.close()
    return out


def pct(xs: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(xs) * 1e3, q))


def cold(url: str, token: str, path: str) -> float:
    t = time.perf_counter()
    httpx.get(url + path, headers={"Authorization": f"Bearer {token}"}, timeout=300).raise_for_status()
    return (time.perf_counter() - t) * 1e3


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--demo", type=Path, required=True, help="a data folder built by `jingce demo --data DIR`")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--batch", type=int, default=5000, help="measurements per POST")
    ap.add_argument("--batches", type=int, default=8, help="POSTs per round")
    ap.add_argument("--concurrency", type=int, default=4)
    ap.add_argument("--requests", type=int, default=100)
    ap.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    ap.add_argument("--http", default="auto", choices=("auto", "h11", "httptools"),
                    help="uvicorn's HTTP parser (auto: httptools when installed)")
    ap.add_argument("--no-summaries", action="store_true")
    ap.add_argument("--ingest-only", action="store_true", help="skip the latency measurements")
    args = ap.parse_args()
    from jingce.settings import Settings
    from jingce.store import Store

    tmp = Path(tempfile.mkdtemp(prefix="api-load-"))
    try:
        t = time.perf_counter()
        prepare(args.demo, tmp / "served", not args.no_summaries)
        shutil.copytree(tmp / "served", tmp / "floor")
        log(f"prepared in {time.perf_counter() - t:.1f} s")
        floor = Store(Settings(data_dir=tmp / "floor"))
        load_actor = floor.actor("load")
        server = Server(tmp / "served", free_port(), args.workers, args.http)
        try:
            report: dict = {"load_before": os.getloadavg(), "workers": args.workers,
                            "concurrency": args.concurrency, "http": args.http}
            api_rates, store_rates = [], []
            tok = server.token("load")
            for rnd in range(-1, args.rounds):  # round -1 warms both up and is not counted
                rows = batches(args.batches, args.batch, seed=rnd + 2)
                bodies = [json.dumps({"measurements": b}).encode() for b in rows]
                tables = [as_table(b) for b in rows]
                n = args.batches * args.batch
                order = ("api", "store") if rnd % 2 == 0 else ("store", "api")
                for who in order:
                    if who == "api":
                        api_rates.append(n / post_all(server.url, tok, bodies, args.concurrency))
                    else:
                        t = time.perf_counter()
                        for body, table in zip(bodies, tables, strict=True):
                            floor.ingest(load_actor, table, content_hash=hashlib.sha256(body).hexdigest(),
                                         source_format="api", source_name="bench")
                        store_rates.append(n / (time.perf_counter() - t))
                log(f"round {rnd}: api {api_rates[-1]:,.0f}/s, store {store_rates[-1]:,.0f}/s")
                if rnd < 0:
                    api_rates.clear()
                    store_rates.clear()
            ratios = [a / s for a, s in zip(api_rates, store_rates, strict=True)]
            report["ingest"] = {"api_per_s": statistics.median(api_rates), "store_per_s": statistics.median(store_rates),
                                "ratio_median": statistics.median(ratios), "ratios": ratios,
                                "batch": args.batch, "batches_per_round": args.batches}
            if args.ingest_only:
                print(json.dumps(report, indent=1))
                return
            # latency of the chart of the 100,000-value characteristic
            chart_id = floor.find_characteristic(floor.bootstrap(), "LOAD", "SERIES", "K").id
            path = f"/api/v1/characteristics/{chart_id}/chart"
            report["chart_cold_ms"] = cold(server.url, tok, path)
            for conc in (1, args.concurrency):
                for kind, vary in (("new", SERIES + 10_000 * conc), ("again", None)):
                    xs = latencies(server.url, tok, path, args.requests, conc, vary_limit=vary)
                    report[f"chart_{kind}_c{conc}"] = {"p50_ms": pct(xs, 50), "p99_ms": pct(xs, 99), "n": len(xs)}
                    log(f"chart ({kind}) c={conc}: p50 {pct(xs, 50):.0f} ms, p99 {pct(xs, 99):.0f} ms")
            reg = server.token("regulator")
            report["region_cold_ms"] = cold(server.url, reg, "/api/v1/dashboard/region")
            ent = floor.list_enterprises(floor.bootstrap())[0].id
            for name, p in (("region", "/api/v1/dashboard/region"),
                            ("region_enterprise", f"/api/v1/dashboard/region/enterprises/{ent}")):
                for conc in (1, args.concurrency):
                    xs = latencies(server.url, reg, p, args.requests, conc)
                    report[f"{name}_c{conc}"] = {"p50_ms": pct(xs, 50), "p99_ms": pct(xs, 99), "n": len(xs)}
                    log(f"{name} c={conc}: p50 {pct(xs, 50):.1f} ms, p99 {pct(xs, 99):.1f} ms")
            src = httpx.get(server.url + "/api/v1/dashboard/region", headers={"Authorization": f"Bearer {reg}"},
                            timeout=60).json()["source"]
            report["region_source"] = src
            report["load_after"] = os.getloadavg()
        finally:
            server.stop()
            floor.close()
        print(json.dumps(report, indent=1))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
