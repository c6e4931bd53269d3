"""OPC UA (a simulated CMM and gauge served in-process by asyncua) and the watched folder, both
feeding the same ingest path."""

from __future__ import annotations

import time

import pytest

from jingce.collect.folder import FolderCollector
from jingce.services.collectors import live_sink, result_reader
from jingce.services.ingest import ingest_bytes
from tests.integration.mqtt_broker import free_port

CSV = ("enterprise,part_number,serial,characteristic,value,unit,time\n"
       "C,ASSY,{s},D1,10.002,mm,2026-03-05T08:00:00+08:00\nC,ASSY,{s},D2,5.001,mm,2026-03-05T08:00:05+08:00\n")


def wait_for(cond, timeout=30.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if cond():
            return True
        time.sleep(0.05)
    return False


def test_opcua_results_and_gauge_variables(region):
    pytest.importorskip("asyncua")
    from jingce.collect.opcua import OpcUaCollector, VariableMap
    from tests.integration.opcua_sim import Simulator

    sim = Simulator(free_port()).start()
    st = region.store
    sink = live_sink(st, region.c, source=sim.url, source_format="opcua", monitor=False, max_delay=0.2)
    col = OpcUaCollector(sim.url, sink.add, read_result=result_reader(),
                         variables={sim.gauge_nodeid: VariableMap("C", "ASSY", "GAUGE_D1", unit="mm")}).start()
    assert col.wait_connected(30)
    time.sleep(0.5)
    sim.publish_result("run-1", CSV.format(s="A1").encode(), "run-1.csv", "csv")
    sim.publish_result("run-2", CSV.format(s="A2").encode(), "run-2.csv", "csv", inline=False)  # GetResultById
    sim.publish_result("run-1", CSV.format(s="A1").encode(), "run-1.csv", "csv")  # seen twice: lands once
    for v in (10.001, 10.003, 9.998):
        sim.set_gauge(v)
        time.sleep(0.15)
    assert wait_for(lambda: col.results >= 3 and sink.stats.committed >= 8 and not sink._buffer)
    d1 = st.find_characteristic(region.admin, "C", "ASSY", "D1").id
    assert sorted(st.values(region.admin, d1).column("serial").to_pylist()) == ["A1", "A2"]
    gauge = st.find_characteristic(region.admin, "C", "ASSY", "GAUGE_D1").id
    # the subscription's initial notification is the gauge's current value (a reconnect repeats it
    # with the same source timestamp, which de-duplication drops)
    assert st.values(region.admin, gauge).column("value").to_pylist() == [10.0, 10.001, 10.003, 9.998]
    sim.publish_result("run-3", b"not a measurement file", "run-3.bin", "bin")
    assert wait_for(lambda: col.errors >= 1)
    col.stop()
    sink.stop()


def test_watched_folder(region, tmp_path):
    st = region.store
    inbox = tmp_path / "inbox"
    seen = []
    folder = FolderCollector(inbox, lambda data, name: seen.append(name) or ingest_bytes(st, region.c, data, name),
                             settle=0.0)
    (inbox / "run1.csv").write_text(CSV.format(s="F1"), encoding="utf-8")
    (inbox / "bad.csv").write_text(CSV.format(s="F2").replace("10.002", "ten"), encoding="utf-8")
    (inbox / "copy-of-run1.csv").write_text(CSV.format(s="F1"), encoding="utf-8")  # same content
    (inbox / "half.csv.part").write_text("enterprise,", encoding="utf-8")  # still being written
    assert folder.poll() == 3
    assert folder.stats.ingested == 1 and folder.stats.repeated == 1 and folder.stats.failed == 1
    assert sorted(p.name for p in (inbox / "done").iterdir()) == ["copy-of-run1.csv", "run1.csv"]
    report = (inbox / "failed" / "bad.csv.error.txt").read_text(encoding="utf-8")
    assert "line 2" in report and "第 2 行" in report and "'value'" in report
    assert (inbox / "half.csv.part").exists()
    d1 = st.find_characteristic(region.admin, "C", "ASSY", "D1").id
    assert st.values(region.admin, d1).column("serial").to_pylist() == ["F1"]
    # a file still being written is taken only once it has stopped changing
    slow = FolderCollector(inbox, lambda data, name: ingest_bytes(st, region.c, data, name), settle=0.3)
    (inbox / "run3.csv").write_text(CSV.format(s="F3"), encoding="utf-8")
    assert slow.poll() == 0
    time.sleep(0.35)
    assert slow.poll() == 1
