"""SIGKILL a writer at random moments during ingest, at least 50 times: after each kill no partial
batch is visible, nothing is duplicated, and re-sending completes the batch."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from jingce.model import Enterprise, Site, Tenant
from jingce.settings import Settings
from jingce.store import Store
from tests.integration.conftest import h

KILLS = int(os.environ.get("JINGCE_CRASH_KILLS", "50"))
WRITER = Path(__file__).with_name("ingest_writer.py")


def _batch(n_ent: int = 4, per: int = 15000) -> pa.Table:
    """Values over several enterprises and months: one batch writes many lake files."""
    rng = np.random.default_rng(0)
    n = n_ent * per
    ent = np.repeat([f"E{i}" for i in range(n_ent)], per)
    t0 = int(dt.datetime(2026, 1, 1, tzinfo=dt.UTC).timestamp() * 1e6)
    times = t0 + rng.integers(0, 180 * 86400 * 10**6, n)
    return pa.table({
        "enterprise": ent, "part_number": np.full(n, "P"), "serial": [f"S{i % 5000}" for i in range(n)],
        "characteristic": [f"K{i % 40}" for i in range(n)], "value": rng.normal(10, 0.01, n),
        "unit": np.full(n, "mm"), "measured_at": pa.array(times, pa.int64()).cast(pa.timestamp("us", tz="UTC")),
        "position": np.arange(n, dtype=np.int64)})


@pytest.mark.slow
def test_sigkill_during_ingest(tmp_path):
    data = tmp_path / "data"
    store = Store(Settings(data_dir=data))
    admin = store.bootstrap()
    for i in range(4):
        ten = store.add_tenant(admin, Tenant(code=f"t{i}", name="t", kind="enterprise"))
        e = store.add_enterprise(admin, Enterprise(tenant_id=ten.id, code=f"E{i}", name="e"))
        store.add_site(admin, Site(enterprise_id=e.id, code="S", name="s"))
    table = _batch()
    n = table.num_rows
    src = tmp_path / "batch.parquet"
    pq.write_table(table, src)
    env = os.environ | {"PYTHONPATH": os.pathsep.join(sys.path)}

    def run(digest: str, kill_after: float | None) -> bool:
        proc = subprocess.Popen([sys.executable, str(WRITER), str(data), str(src), digest], stdout=subprocess.PIPE,
                                text=True, env=env)
        assert proc.stdout.readline().strip() == "ready"
        t0 = time.perf_counter()
        if kill_after is None:
            assert proc.stdout.readline().strip() == "done"
            duration = time.perf_counter() - t0
            proc.wait(timeout=120)
            return duration
        time.sleep(kill_after)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        return proc.returncode == -signal.SIGKILL

    duration = run(h("timing"), None)  # how long one ingest takes here
    rng = np.random.default_rng(1)
    committed = [h("timing")]
    killed_mid = 0
    for k in range(KILLS):
        digest = h(f"crash-{k}")
        was_killed = run(digest, float(rng.uniform(0, duration * 1.1)))
        st = Store(Settings(data_dir=data))
        mine = st.measurements(admin, batch=digest, columns=("position",))
        if st.has_batch(digest):
            assert mine.num_rows == n, f"kill {k}: committed batch incomplete"
        else:
            assert mine.num_rows == 0, f"kill {k}: partial batch visible"
            killed_mid += bool(was_killed)
            result = st.ingest(admin, table, content_hash=digest, source_format="crash-test")  # re-send
            assert result.created and result.rows == n
        assert st.measurements(admin, batch=digest, columns=("position",)).num_rows == n
        assert st.verify_audit().ok
        committed.append(digest)
        st.close()
    final = Store(Settings(data_dir=data))
    visible = final.measurements(admin, columns=("batch", "position"))
    assert visible.num_rows == n * len(committed)  # nothing lost, nothing duplicated
    assert visible.group_by(["batch", "position"]).aggregate([]).num_rows == visible.num_rows
    assert set(visible.column("batch").to_pylist()) == set(committed)
    assert killed_mid >= KILLS // 5, f"only {killed_mid} of {KILLS} kills landed during an ingest"
    final.remove_orphans()
    assert final.orphan_files() == []
