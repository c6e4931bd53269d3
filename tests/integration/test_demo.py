"""The demo region: deterministic, at the sizes the foundation promises, reused on a second run."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from jingce.cli.app import app
from jingce.services.demo.build import build_demo
from jingce.services.summary import quality_summary
from jingce.settings import Settings
from jingce.store import Store


def _fingerprint(store: Store) -> list:
    admin = store.bootstrap()
    t = store.measurements(admin, columns=("characteristic", "part_number", "serial", "measured_at", "value"))
    return t.sort_by([("part_number", "ascending"), ("characteristic", "ascending"), ("measured_at", "ascending"),
                      ("serial", "ascending")]).slice(0, 5000).to_pylist()


def test_same_seed_same_region(tmp_path):
    a = Store(Settings(data_dir=tmp_path / "a"))
    b = Store(Settings(data_dir=tmp_path / "b"))
    sa = build_demo(a, seed=7, scale=0.02)
    sb = build_demo(b, seed=7, scale=0.02)
    assert sa == sb
    assert _fingerprint(a) == _fingerprint(b)
    assert a.lake_stats()["rows"] == b.lake_stats()["rows"]


@pytest.mark.slow
def test_full_demo_region(tmp_path):
    data = tmp_path / "jingce-data"
    runner = CliRunner()
    r = runner.invoke(app, ["demo", "--data", str(data)])
    assert r.exit_code == 0, r.output
    store = Store(Settings(data_dir=data))
    admin = store.bootstrap()
    ents = store.list_enterprises(admin)
    assert len(ents) >= 50
    assert len({e.industry_chain for e in ents}) == 3
    assert len(store.list_characteristics(admin)) >= 2000
    stats = store.lake_stats()
    assert stats["rows"] >= 2_000_000
    assert stats["bytes_per_value"] <= 15.0
    assert len(store.list_labs(admin)) >= 10
    assert {"expired", "out_of_tolerance"} <= _chain_statuses(store, admin)
    stages = set(store.measurements(admin, columns=("stage",), limit=None).column("stage").unique().to_pylist())
    assert stages == {"in_process", "final", "in_service"} or stages >= {"in_process", "final", "in_service"}
    summary = quality_summary(store, admin)
    assert summary.per_characteristic.num_rows >= 2000
    again = runner.invoke(app, ["demo", "--data", str(data)])
    assert again.exit_code == 0 and "reused" in again.output
    assert store.lake_stats()["rows"] == stats["rows"]
    assert store.verify_audit().ok


def _chain_statuses(store, admin) -> set[str]:
    import datetime as dt

    out = set()
    for inst in store.list_instruments(admin):
        if inst.kind != "working":
            continue
        chain = store.calibration_chain(admin, inst.id, dt.datetime(2026, 10, 1, tzinfo=dt.UTC))
        out |= {link.status for link in chain.links}
    return out
