"""The jingce command line on a fresh data folder: init, ingest, query, audit."""

from __future__ import annotations

import datetime as dt

import pytest
from typer.testing import CliRunner

from jingce.cli.app import app
from jingce.model import Calibration, Enterprise, Instrument, Lab, Site, Tenant
from jingce.settings import Settings
from jingce.store import Store

runner = CliRunner(env={"COLUMNS": "240", "JINGCE_LANG": "both"})

CSV = """enterprise,part_number,serial,characteristic,value,unit,time,stage,instrument,nominal,lower_limit,upper_limit
E1,SHAFT-1,S001,D1,25.003,mm,2026-03-02T08:00:00+08:00,final,E1-MIC,25,24.99,25.01
E1,SHAFT-1,S001,D2,12.001,mm,2026-03-02T08:00:10+08:00,final,E1-MIC,12,11.99,12.01
E1,SHAFT-1,S002,D1,25.012,mm,2026-03-02T08:05:00+08:00,final,E1-MIC,25,24.99,25.01
E1,SHAFT-1,S002,D2,11.998,mm,2026-03-02T08:05:10+08:00,final,E1-MIC,12,11.99,12.01
"""


@pytest.fixture
def data(tmp_path):
    d = tmp_path / "data"
    assert runner.invoke(app, ["init", "--data", str(d)]).exit_code == 0
    st = Store(Settings(data_dir=d))
    a = st.bootstrap()
    ten = st.add_tenant(a, Tenant(code="t1", name="t", kind="enterprise"))
    e = st.add_enterprise(a, Enterprise(tenant_id=ten.id, code="E1", name="E1 Ltd"))
    st.add_site(a, Site(enterprise_id=e.id, code="P1", name="plant"))
    lt = st.add_tenant(a, Tenant(code="nmi", name="nmi", kind="lab"))
    lab = st.add_lab(a, Lab(tenant_id=lt.id, code="NMI", name="NMI", level="national", qualification="qualified"))
    nat = st.add_instrument(a, Instrument(tenant_id=lt.id, code="NAT", name="national length", kind="national_standard"))
    mic = st.add_instrument(a, Instrument(tenant_id=ten.id, code="E1-MIC", name="micrometer", enterprise_id=e.id))
    st.add_calibration(a, Calibration(instrument_id=mic.id, lab_id=lab.id, certificate_no="C1",
                                      calibrated_at=dt.datetime(2026, 1, 5, tzinfo=dt.UTC),
                                      valid_until=dt.datetime(2027, 1, 5, tzinfo=dt.UTC), expanded_uncertainty=0.001,
                                      standard_ids=(nat.id,)))
    st.close()
    return d


def test_ingest_query_and_repeat(data, tmp_path):
    f = tmp_path / "shaft.csv"
    f.write_text(CSV, encoding="utf-8")
    r = runner.invoke(app, ["ingest", str(f), "--data", str(data)])
    assert r.exit_code == 0, r.output
    assert "ingested 4 values" in r.output
    again = runner.invoke(app, ["ingest", str(f), "--data", str(data)])
    assert again.exit_code == 0 and "already ingested" in again.output
    out = tmp_path / "d1.csv"
    q = runner.invoke(app, ["query", "values", "E1/SHAFT-1/D1", "--data", str(data), "--out", str(out)])
    assert q.exit_code == 0, q.output
    assert "25.012" in q.output and "n=2" in q.output
    assert out.read_text().count("\n") == 3
    chain = runner.invoke(app, ["query", "chain", "E1-MIC", "--at", "2026-03-02T00:00:00Z", "--data", str(data)])
    assert chain.exit_code == 0 and "unbroken" in chain.output
    lin = runner.invoke(app, ["query", "lineage", "S001", "--data", str(data)])
    assert lin.exit_code == 0 and "2 values" in lin.output.replace("测量值", "values")


@pytest.mark.parametrize("replace, field", [("11.998", "11.99x8"), ("11.998", "11,998")])
def test_a_malformed_row_refuses_the_file(data, tmp_path, replace, field):
    bad = tmp_path / "bad.csv"
    bad.write_text(CSV.replace(replace, field), encoding="utf-8")
    r = runner.invoke(app, ["ingest", str(bad), "--data", str(data)])
    assert r.exit_code == 2
    text = " ".join(r.output.split())
    assert "bad.csv" in text and "line 5" in text
    assert ("field 'value'" in text) if "x" in field else ("13 fields" in text)
    st = Store(Settings(data_dir=data))
    assert st.lake_stats()["rows"] == 0
    assert st.list_characteristics(st.bootstrap()) == []


def test_unknown_characteristic_and_errors_are_bilingual(data):
    r = runner.invoke(app, ["query", "values", "E1/NOPE/D1", "--data", str(data)])
    assert r.exit_code == 2 and "未找到" in r.output and "not found" in r.output


def test_export_csv_round_trip(data, tmp_path):
    f = tmp_path / "shaft.csv"
    f.write_text(CSV, encoding="utf-8")
    assert runner.invoke(app, ["ingest", str(f), "--data", str(data)]).exit_code == 0
    out = tmp_path / "out.csv"
    r = runner.invoke(app, ["export", "--enterprise", "E1", "--format", "csv", "--out", str(out), "--data", str(data)])
    assert r.exit_code == 0, r.output
    from jingce.formats import csv as jcsv

    back = jcsv.read(out.read_bytes(), "out.csv").table
    assert sorted(back.column("value").to_pylist()) == [11.998, 12.001, 25.003, 25.012]
    assert set(back.column("instrument").to_pylist()) == {"E1-MIC"}
    assert set(back.column("enterprise").to_pylist()) == {"E1"}
    r = runner.invoke(app, ["export", "--enterprise", "E9", "--out", str(out), "--data", str(data)])
    assert r.exit_code == 2  # unknown enterprise: not found, bilingual


def test_ingest_options_reach_every_reader(data, tmp_path):
    from pathlib import Path

    dfq = Path(__file__).parents[1] / "data" / "aqdef" / "shaft_kfield.dfq"
    r = runner.invoke(app, ["ingest", str(dfq), "--format", "aqdef", "--enterprise", "E1", "--data", str(data)])
    assert r.exit_code == 0, r.output
    assert "ingested 10 values" in " ".join(r.output.split())
    bad = runner.invoke(app, ["ingest", str(dfq), "--format", "aqdef", "--enterprise", "E1", "-O", "colour=blue",
                              "--data", str(data)])
    assert bad.exit_code == 2 and "colour" in bad.output
