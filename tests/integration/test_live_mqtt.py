"""Live collection over MQTT into the store: real-time alarms, de-duplication, atomic batches,
a collector SIGKILLed mid-stream and a broker restarted mid-stream losing nothing."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from jingce.collect.messages import encode
from jingce.collect.mqtt import MqttCollector, MqttReceiverCollector
from jingce.services.collectors import live_sink
from jingce.settings import Settings
from jingce.store import Store
from tests.integration.conftest import T0, Region, h, rows
from tests.integration.mqtt_broker import Broker, available

pytestmark = [pytest.mark.mqtt, pytest.mark.skipif(not available(), reason="mosquitto is not installed")]

paho = pytest.importorskip("paho.mqtt.client")
from paho.mqtt.enums import CallbackAPIVersion  # noqa: E402


@pytest.fixture
def broker(tmp_path):
    b = Broker(tmp_path / "broker")
    b.start()
    yield b
    b.stop(signal.SIGKILL)


def publisher(broker: Broker, client_id: str):
    c = paho.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=paho.MQTTv5)
    c.max_queued_messages_set(0)
    c.connect("127.0.0.1", broker.port, clean_start=False)
    c.loop_start()
    return c


def message(i: int, value: float, part: str = "ASSY", chars=("D1",)) -> bytes:
    t = T0 + dt.timedelta(days=30, seconds=i)
    return encode({"id": f"g-{i}", "time": t.isoformat(), "part_number": part, "serial": f"L{i}",
                   "values": [{"characteristic": c, "value": value, "unit": "mm"} for c in chars]})


def history(region: Region) -> None:
    """120 in-control values of C/ASSY/D1 so that control limits can be estimated."""
    t = rows("C", "ASSY", ["D1"], [f"H{i}" for i in range(120)])
    vals = 10.0 + np.random.default_rng(0).normal(0, 0.002, 120)
    import pyarrow as pa

    region.store.ingest(region.admin, t.set_column(t.column_names.index("value"), "value", pa.array(vals)),
                        content_hash=h("history"), source_format="t")


def wait_for(cond, timeout=30.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if cond():
            return True
        time.sleep(0.05)
    return False


@pytest.mark.parametrize("kind", [MqttReceiverCollector, MqttCollector], ids=["receiver-process", "thread"])
def test_live_values_alarms_and_duplicates(region, broker, kind):
    history(region)
    st = region.store
    alarms_seen = []
    sub = paho.Client(CallbackAPIVersion.VERSION2, client_id="alarm-watcher", protocol=paho.MQTTv5)
    sub.on_message = lambda c, u, m: alarms_seen.extend((m.topic, a) for a in json.loads(m.payload))
    sub.connect("127.0.0.1", broker.port)
    sub.subscribe("jingce/+/+/alarms", qos=1)
    sub.loop_start()
    holder = {}
    sink = live_sink(st, region.c, source="test-broker", source_format="mqtt",
                     publish=lambda topic, payload: holder["c"].publish(topic, payload), max_delay=0.2)
    bad = []
    col = holder["c"] = kind(broker.url, sink.add, client_id="collector-1", on_bad=bad.append).start()
    assert col.wait_connected()
    pub = publisher(broker, "pub-1")
    for i in range(100):
        v = 10.2 if i == 50 else 10.0 + 0.001 * ((i * 7) % 5 - 2)  # one value beyond the USL 10.1
        pub.publish("jingce/C/P1/g/measurements", message(i, v), qos=1)
    pub.publish("jingce/C/P1/g/measurements", message(10, 10.0), qos=1)  # a duplicate id
    pub.publish("jingce/C/P1/g/measurements", b'{"id": "broken"}', qos=1)
    assert wait_for(lambda: sink.stats.duplicates >= 1 and not sink._buffer and sink.stats.committed >= 100)
    d1 = st.find_characteristic(region.admin, "C", "ASSY", "D1").id
    live = st.values(region.admin, d1, start=T0 + dt.timedelta(days=29))
    assert live.num_rows == 100  # the duplicate dropped, nothing lost
    assert len(set(live.column("serial").to_pylist())) == 100
    assert len(bad) == 1 and bad[0].details["field"] == "part_number"
    recorded = st.alarms(region.c, characteristic_id=d1)
    assert any(a.kind == "spec" and a.serial == "L50" for a in recorded)
    assert any(a.kind == "rule" and "nelson1" in (a.rule or "") and a.serial == "L50" for a in recorded)
    assert wait_for(lambda: any(p["serial"] == "L50" and p["kind"] == "spec" for _, p in alarms_seen), 5)
    assert alarms_seen[0][0] == "jingce/C/P1/alarms"
    assert st.frozen_limits(region.c, [d1])[d1].n == 120  # limits were estimated from the history, stored
    assert st.alarms(region.x) == []  # another tenant sees no alarms
    col.stop()
    sink.stop()
    pub.disconnect()
    sub.disconnect()


def receivers(client_id: str) -> list[int]:
    """Running receiver processes of that client id."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read()
            with open(f"/proc/{pid}/stat") as f:
                zombie = f.read().rsplit(")", 1)[1].split()[0] == "Z"
        except OSError:
            continue
        if b"jingce.collect.mqtt" in cmd and client_id.encode() in cmd and not zombie:
            found.append(int(pid))
    return found


def _collector_cmd(data, broker: Broker) -> list[str]:
    return [sys.executable, "-m", "jingce.cli.app", "collect", "mqtt", "--quiet", "--broker", broker.url,
            "--client-id", "killed-collector", "--batch-seconds", "0.3", "--data", str(data), "--as", "c"]


@pytest.mark.slow
def test_collector_sigkilled_mid_stream_loses_and_duplicates_nothing(tmp_path, broker):
    data = tmp_path / "data"
    st = Store(Settings(data_dir=data))
    Region(st)
    st.close()
    env = os.environ | {"PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen(_collector_cmd(data, broker), env=env)
    pub = publisher(broker, "pub-kill")
    watcher = Store(Settings(data_dir=data))
    admin = watcher.bootstrap()

    def probe_landed() -> bool:  # the collector's session exists once a probe message lands
        pub.publish("jingce/C/P1/g/measurements", message(-1, 10.0, chars=("D1", "D2")), qos=1)
        return watcher.measurements(admin, columns=("serial",)).num_rows >= 2

    assert wait_for(probe_landed, timeout=60)
    assert len(receivers("killed-collector")) == 1  # the MQTT client runs in a receiver process
    n = 1500
    rng = np.random.default_rng(3)

    def publish_all():
        for i in range(n):
            pub.publish("jingce/C/P1/g/measurements", message(i, 10.0, chars=("D1", "D2")), qos=1)
            time.sleep(0.002)

    th = threading.Thread(target=publish_all)
    th.start()
    for _kill in range(3):
        time.sleep(float(rng.uniform(0.3, 0.9)))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert wait_for(lambda: not receivers("killed-collector"), timeout=5)  # it dies with its parent
        time.sleep(0.3)
        proc = subprocess.Popen(_collector_cmd(data, broker), env=env)
    th.join()
    st = watcher
    try:
        total = 2 * (n + 1)  # with the probe
        assert wait_for(lambda: st.measurements(admin, columns=("serial",)).num_rows >= total, timeout=90)
        time.sleep(1.0)  # anything more would be a duplicate
        got = st.measurements(admin, columns=("serial", "characteristic"))
        assert got.num_rows == total
        assert got.group_by(["serial", "characteristic"]).aggregate([]).num_rows == total
        assert st.verify_audit().ok
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)
        pub.disconnect()


@pytest.mark.slow
@pytest.mark.parametrize("kind", [MqttReceiverCollector, MqttCollector], ids=["receiver-process", "thread"])
def test_broker_restarted_mid_stream_loses_nothing(region, broker, kind):
    st = region.store
    sink = live_sink(st, region.c, source="restart", source_format="mqtt", monitor=False, max_delay=0.2)
    col = kind(broker.url, sink.add, client_id="collector-restart").start()
    assert col.wait_connected()
    pub = publisher(broker, "pub-restart")
    n = 600
    for i in range(n):
        pub.publish("jingce/C/P1/g/measurements", message(i, 10.0), qos=1)
        if i == n // 2:
            broker.restart()  # persistence on; sessions and queued messages survive
            assert (broker.folder / "mosquitto.db").exists()  # it could save them
        time.sleep(0.003)
    d1 = lambda: st.find_characteristic(region.admin, "C", "ASSY", "D1").id  # noqa: E731
    assert wait_for(lambda: st.lake_stats()["rows"] >= n, timeout=60)
    time.sleep(1.0)
    got = st.values(region.admin, d1(), columns=("serial",))
    missing = sorted({f"L{i}" for i in range(n)} - set(got.column("serial").to_pylist()), key=lambda x: int(x[1:]))
    assert not missing and got.num_rows == n, f"missing {missing}, {got.num_rows} rows"
    col.stop()
    sink.stop()
    pub.disconnect()


@pytest.mark.parametrize("kind", [MqttReceiverCollector, MqttCollector], ids=["receiver-process", "thread"])
def test_connected_means_subscribed(broker, kind):
    """``wait_connected`` returns once the broker has acknowledged the subscription, so a message
    published right after it is the collector's (it returned at CONNACK before: the first message
    of a new session was sometimes published before the SUBSCRIBE, and lost, 4 runs in 80)."""
    pub = publisher(broker, "pub-first")
    for i in range(15):
        got: list[str] = []
        col = kind(broker.url, lambda m, ack, got=got: (got.append(m.message_id), ack()),
                   client_id=f"first-{i}").start()
        assert col.wait_connected()
        pub.publish("jingce/C/P1/g/measurements", message(i, 10.0), qos=1)
        assert wait_for(lambda got=got: got, timeout=5), f"session {i}: the first message did not arrive"
        col.stop()
    pub.disconnect()


def test_receiver_acknowledges_only_the_delivery_the_broker_waits_for():
    from jingce.collect.mqtt import _Acks

    acks = _Acks()
    acks.connected(session_present=False)
    a1 = acks.received(5, 1)  # message A under packet id 5
    acks.up = False  # the connection drops; the broker keeps the session and sends A again
    assert not acks.due(a1, 5)  # no acknowledgement while disconnected: A stays unacknowledged
    acks.connected(session_present=True)
    a2 = acks.received(5, 1)  # A again, same packet id
    assert acks.due(a1, 5)  # either delivery's commit acknowledges A, once
    b = acks.received(5, 1)  # the broker reuses 5 for message B
    assert not acks.due(a2, 5)  # A's second acknowledgement must not confirm B
    assert acks.due(b, 5)
    c = acks.received(7, 1)
    acks.up = False
    acks.connected(session_present=False)  # the broker lost the session: 7 means nothing now
    assert not acks.due(c, 7)
    assert not acks.due(acks.received(8, 0), 8)  # QoS 0 needs no acknowledgement
