"""The audit chain detects an edited, inserted or deleted entry (each tested), on both backends."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import delete, insert, select, update
from typer.testing import CliRunner

from jingce.cli.app import app
from jingce.store import audit
from jingce.store import tables as t
from tests.integration.conftest import h, rows


@pytest.fixture
def chained(region):
    st, a = region.store, region.admin
    for i in range(5):
        st.ingest(a, rows("C", "ASSY", ["D"], [f"S{i}"]), content_hash=h(f"b{i}"), source_format="t")
    report = st.verify_audit()
    assert report.ok and report.entries == 5
    return st


def _kinds(st):
    return [p.kind for p in st.verify_audit().problems]


def test_every_batch_and_calibration_is_in_the_chain(chained):
    with chained.engine.connect() as conn:
        entries = conn.execute(select(t.audit_entry).order_by(t.audit_entry.c.seq)).all()
    assert [e.kind for e in entries] == ["ingest_batch"] * 5
    assert json.loads(entries[0].payload)["rows"] == 1
    assert [e.prev_hash for e in entries[1:]] == [e.hash for e in entries[:-1]]


def test_edited_entry_is_detected(chained):
    with chained.engine.begin() as conn:
        payload = conn.execute(select(t.audit_entry.c.payload).where(t.audit_entry.c.seq == 3)).scalar()
        conn.execute(update(t.audit_entry).where(t.audit_entry.c.seq == 3)
                     .values(payload=payload.replace('"rows":1', '"rows":1000')))
    assert _kinds(chained) == ["edited"]


def test_inserted_entry_is_detected(chained):
    with chained.engine.begin() as conn:
        rows_ = conn.execute(select(t.audit_entry).order_by(t.audit_entry.c.seq)).mappings().all()
        # shift entries 3.. up by one and forge a plausible entry 3 linked to entry 2
        for r in reversed(rows_[2:]):
            conn.execute(update(t.audit_entry).where(t.audit_entry.c.seq == r["seq"]).values(seq=r["seq"] + 1))
        forged = audit.entry_hash(rows_[1]["hash"], 3, rows_[1]["recorded_at"], "ingest_batch", "forged", "admin", "{}")
        conn.execute(insert(t.audit_entry).values(seq=3, recorded_at=rows_[1]["recorded_at"], kind="ingest_batch",
                                                  subject="forged", actor="admin", payload="{}",
                                                  prev_hash=rows_[1]["hash"], hash=forged))
    kinds = _kinds(chained)
    assert "broken_link" in kinds or "edited" in kinds
    assert kinds  # entry 4 (the old 3) no longer follows its predecessor


def test_deleted_entry_in_the_middle_is_detected(chained):
    with chained.engine.begin() as conn:
        conn.execute(delete(t.audit_entry).where(t.audit_entry.c.seq == 2))
    assert set(_kinds(chained)) >= {"inserted_or_deleted", "broken_link"}


def test_deleted_last_entry_is_detected_by_the_anchor(chained):
    with chained.engine.begin() as conn:
        conn.execute(delete(t.audit_entry).where(t.audit_entry.c.seq == 5))
    assert _kinds(chained) == ["truncated"]


def test_cli_audit_verify(tmp_path):
    data = tmp_path / "d"
    runner = CliRunner()
    csv = tmp_path / "m.csv"
    csv.write_text("enterprise,part_number,characteristic,value,unit,time\nE1,P,K,1.5,mm,2026-01-01T00:00:00Z\n")
    from jingce.model import Enterprise, Site, Tenant
    from jingce.settings import Settings
    from jingce.store import Store

    st = Store(Settings(data_dir=data))
    a = st.bootstrap()
    ten = st.add_tenant(a, Tenant(code="t1", name="t", kind="enterprise"))
    e = st.add_enterprise(a, Enterprise(tenant_id=ten.id, code="E1", name="e"))
    st.add_site(a, Site(enterprise_id=e.id, code="S", name="s"))
    assert runner.invoke(app, ["ingest", str(csv), "--data", str(data)]).exit_code == 0
    ok = runner.invoke(app, ["audit", "verify", "--data", str(data)])
    assert ok.exit_code == 0 and "intact" in ok.output
    with st.engine.begin() as conn:
        conn.execute(update(t.audit_entry).values(subject="tampered"))
    bad = runner.invoke(app, ["audit", "verify", "--data", str(data)])
    assert bad.exit_code == 1 and "edited" in bad.output


def test_anchor_never_moves_back_under_concurrent_writers(tmp_path):
    """Threads committing at once (the API serves requests in threads) each write the anchor; it
    ends at the highest sequence and no writer fails on another's temporary file."""
    from concurrent.futures import ThreadPoolExecutor

    path = tmp_path / "audit-head.json"
    seqs = list(range(1, 401))
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda s: audit.write_anchor(path, s, f"{s:064x}"), reversed(seqs)))
    assert json.loads(path.read_text()) == {"seq": 400, "hash": f"{400:064x}"}
    assert not list(tmp_path.glob("*.tmp-*"))
