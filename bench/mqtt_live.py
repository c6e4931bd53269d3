"""MQTT end to end (issue 7): sustained values per second from a publisher process through the
broker and `jingce collect mqtt` (another process) into the lake, and the latency of real-time
alarms (publish of an out-of-specification value -> its alarm arriving on the alarm topic).

    python bench/mqtt_live.py [--seconds 20] [--rate 2500] [--values-per-message 10] [--warmup 2]
    python bench/mqtt_live.py --seconds 15 --rate 1000 --values-per-message 20 --alarm-every 20 --ab 3

A private Mosquitto broker is started (persistence on, unlimited queues). Results are printed;
bench/RESULTS.md records them.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from jingce.model import Enterprise, Role, Site, Tenant, User  # noqa: E402
from jingce.settings import Settings  # noqa: E402
from jingce.store import Store  # noqa: E402
from tests.integration.mqtt_broker import Broker  # noqa: E402

CHARS = [f"C{i:02d}" for i in range(10)]


def setup(data: Path) -> None:
    st = Store(Settings(data_dir=data))
    a = st.bootstrap()
    ten = st.add_tenant(a, Tenant(code="t1", name="t", kind="enterprise"))
    e = st.add_enterprise(a, Enterprise(tenant_id=ten.id, code="E1", name="E1"))
    st.add_site(a, Site(enterprise_id=e.id, code="P1", name="p"))
    st.add_user(a, User(tenant_id=ten.id, username="gauge", role=Role.ENTERPRISE_USER))
    n = 200  # history: control limits are estimated from it when the collector first sees a characteristic
    rng = np.random.default_rng(0)
    t0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    rows = {"enterprise": [], "part_number": [], "serial": [], "characteristic": [], "value": [], "unit": [],
            "measured_at": [], "nominal": [], "lower_limit": [], "upper_limit": [], "position": []}
    for i in range(n):
        for c in CHARS:
            rows["enterprise"].append("E1")
            rows["part_number"].append("P1")
            rows["serial"].append(f"H{i}")
            rows["characteristic"].append(c)
            rows["value"].append(float(10 + rng.normal(0, 0.002)))
            rows["unit"].append("mm")
            rows["measured_at"].append(t0 + dt.timedelta(minutes=i))
            rows["nominal"].append(10.0)
            rows["lower_limit"].append(9.99)
            rows["upper_limit"].append(10.01)
            rows["position"].append(len(rows["position"]))
    table = pa.table(rows).cast(pa.schema([(k, pa.timestamp("us", tz="UTC") if k == "measured_at" else
                                            (pa.float64() if k in ("value", "nominal", "lower_limit", "upper_limit")
                                             else pa.int64() if k == "position" else pa.string())) for k in rows]))
    st.ingest(a, table, content_hash="0" * 64, source_format="bench")
    st.close()


class _Broker(Broker):
    """The test broker, in a session of its own (see ``--shared-session``), able to save its state."""

    own_session = True

    def start(self) -> _Broker:
        # Saving works (the broker runs as root: before 2026-12-06 13:15 it could not write its
        # folder and saved nothing), but not after every change as in the tests (the whole state is
        # written each time: 2,400 values/s): every 10 s, and at shutdown, as a deployed broker
        # would (mosquitto's default is every 30 minutes).
        conf = self.conf.read_text().replace("autosave_interval 1\n", "autosave_interval 10\n")
        self.conf.write_text(conf.replace("autosave_on_changes true\n", "autosave_on_changes false\n"))
        return super().start()


def _own_session(yes: bool, nice: int = 0) -> None:
    if yes:
        os.setsid()
    if nice:
        _prioritise(os.getpid(), nice)


def _prioritise(pid: int, nice: int) -> None:
    """Niceness for the process and, with autogroup scheduling, for its session's group (a
    process's own nice only ranks it within its session)."""
    os.setpriority(os.PRIO_PROCESS, pid, nice)
    try:
        Path(f"/proc/{pid}/autogroup").write_text(str(nice))
    except OSError:
        pass


def _client(client_id: str):
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    return mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)


def publisher(port: int, seconds: float, rate: float, per_msg: int, alarm_every: int, warmup: float, out,
              own_session: bool = True, nice: int = 0) -> None:
    """The gauge: its own process, and no network thread. ``publish`` writes to the socket at once,
    so the time stamped just before it is when the message leaves; the broker's PUBACKs are read
    while waiting for the next send."""
    _own_session(own_session, nice)
    pub = _client("bench-pub")
    pub.max_queued_messages_set(0)
    pub.max_inflight_messages_set(65535)
    pub.connect("127.0.0.1", port)
    while not pub.is_connected():
        pub.loop(0.05)
    sent_at: dict[str, float] = {}
    rng = np.random.default_rng(1)
    t0 = time.time()
    i = 0
    base = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    while time.time() - t0 < warmup + seconds:
        mid = f"m{i}"
        vals = 10 + rng.normal(0, 0.002, per_msg)
        if alarm_every and i % alarm_every == 0:
            vals[0] = 10.05  # beyond the USL: a spec alarm
        msg = {"id": mid, "time": (base + dt.timedelta(milliseconds=i)).isoformat(), "part_number": "P1",
               "serial": f"S{i}", "values": [{"characteristic": CHARS[k % len(CHARS)], "value": float(v), "unit": "mm"}
                                            for k, v in enumerate(vals)]}
        payload = json.dumps(msg)
        target = t0 + i / rate
        while (delay := target - time.time()) > 0:
            pub.loop(delay)
        now = time.time()
        if now - t0 >= warmup and alarm_every and i % alarm_every == 0:  # the first sight of each characteristic is not timed
            sent_at[mid] = now
        pub.publish("jingce/E1/P1/gauge/measurements", payload, qos=1)
        i += 1
    end = time.time() + 3
    while time.time() < end:
        pub.loop(0.1)
    pub.disconnect()
    out.send((i, sent_at, t0))


def subscriber(port: int, out, own_session: bool = True, nice: int = 0) -> None:
    """The alarm display: its own process, one thread; stamps each alarm as it arrives."""
    _own_session(own_session, nice)
    sub = _client("bench-alarms")
    got: dict[str, tuple[float, float, float]] = {}

    def on_alarm(c, u, m):
        now = time.time()
        for a in json.loads(m.payload):  # the alarms of one check
            if a.get("kind") == "spec":
                got[a["message_id"]] = (now, dt.datetime.fromisoformat(a["raised_at"]).timestamp(),
                                        dt.datetime.fromisoformat(a["received_at"]).timestamp())

    sub.on_message = on_alarm
    sub.on_subscribe = lambda *a: out.send("ready")
    sub.connect("127.0.0.1", port)
    sub.subscribe("jingce/+/+/alarms", qos=1)
    while not out.poll():
        sub.loop(0.05)
    sub.disconnect()
    out.send(got)


def side_by_side(rounds: int, argv: list[str]) -> None:
    """Alternate the two receivers (the machine's load varies from minute to minute)."""
    import re

    pattern = {"values/s": r"-> ([\d,]+) values/s", "p50": r"alarm latency .*?p50 ([\d.]+) ms",
               "p99": r"alarm latency .*?p99 ([\d.]+) ms", "p99 way in": r"received by the collector: .*?p99 ([\d.]+)",
               "p99 inside": r"received -> alarm raised: .*?p99 ([\d.]+)", "load": r"load average \(([\d.]+)"}
    runs: dict[str, list[dict]] = {"process": [], "thread": []}
    for r in range(rounds):
        for receiver in runs:
            out = subprocess.run([sys.executable, __file__, *argv, "--receiver", receiver], capture_output=True,
                                 text=True).stdout
            got = {k: float(m.group(1).replace(",", "")) for k, p in pattern.items() if (m := re.search(p, out))}
            got["all landed"] = bool(re.search(r"values expected (\d+), committed \1 ", out))
            runs[receiver].append(got)
            print(f"round {r + 1} {receiver}: {got}", flush=True)
    for receiver, xs in runs.items():
        med = {k: statistics.median(x[k] for x in xs if k in x) for k in pattern if any(k in x for x in xs)}
        print(f"{receiver} (median of {len(xs)}): " + ", ".join(f"{k} {v:,.1f}" for k, v in med.items())
              + f", every value landed in {sum(x['all landed'] for x in xs)} of {len(xs)} runs")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--rate", type=float, default=2500, help="messages per second")
    ap.add_argument("--values-per-message", type=int, default=10)
    ap.add_argument("--alarm-every", type=int, default=200)
    ap.add_argument("--warmup", type=float, default=2.0, help="seconds published before latencies are timed")
    ap.add_argument("--batch-seconds", type=float, default=0.5, help="the collector's commit interval")
    ap.add_argument("--receiver", choices=("process", "thread"), default="process",
                    help="the collector's MQTT client: in a receiver process, or a thread of the checking process")
    ap.add_argument("--shared-session", action="store_true",
                    help="run broker, collector, publisher and subscriber in this script's session (before "
                         "2026-12-06 13:00). By default each has a session of its own, like separate services: "
                         "Linux's autogroup scheduling gives each session one equal share of the CPU, so on a "
                         "machine shared with other sessions the whole benchmark in one session got one share")
    ap.add_argument("--nice", type=int, default=0,
                    help="run broker, collector, publisher and subscriber at this niceness, and their sessions' "
                         "autogroups too (negative: priority over the machine's other work)")
    ap.add_argument("--ab", type=int, default=0, metavar="N",
                    help="N rounds alternating --receiver process and thread (each run as above, in turn), "
                         "then the medians side by side")
    args = ap.parse_args()
    if args.ab:
        return side_by_side(args.ab, [f"--{k.replace('_', '-')}={v}" for k, v in vars(args).items()
                                      if k not in ("ab", "receiver", "shared_session")]
                            + (["--shared-session"] if args.shared_session else []))
    work = Path(tempfile.mkdtemp(prefix="jingce-mqtt-bench-"))
    _Broker.own_session = not args.shared_session
    broker = _Broker(work / "broker").start()
    data = work / "data"
    setup(data)
    collector = subprocess.Popen([sys.executable, "-m", "jingce.cli.app", "collect", "mqtt", "--quiet", "--broker",
                                  broker.url, "--client-id", "bench-collector", "--batch-seconds", str(args.batch_seconds),
                                  "--receiver", args.receiver, "--data", str(data), "--as", "gauge"],
                                 env=os.environ | {"JINGCE_LANG": "en"}, start_new_session=not args.shared_session)
    if args.nice:  # before the collector starts its receiver process, which inherits it
        for pid in (broker.proc.pid, collector.pid):
            _prioritise(pid, args.nice)
    time.sleep(6)  # start-up
    store = Store(Settings(data_dir=data))
    admin = store.bootstrap()
    base_rows = store.lake_stats()["rows"]
    mp = multiprocessing.get_context("spawn")
    sub_end, sub_child = mp.Pipe()
    pub_end, pub_child = mp.Pipe()
    sub = mp.Process(target=subscriber, args=(broker.port, sub_child, not args.shared_session, args.nice))
    sub.start()
    assert sub_end.recv() == "ready"
    pub = mp.Process(target=publisher, args=(broker.port, args.seconds, args.rate, args.values_per_message,
                                              args.alarm_every, args.warmup, pub_child,
                                              not args.shared_session, args.nice))
    t_start = time.time()
    pub.start()
    expected = None
    last = (t_start, 0)
    n_msgs, sent_at = 0, {}
    while True:
        time.sleep(0.25)
        rows = store.lake_stats()["rows"] - base_rows
        if rows != last[1]:
            last = (time.time(), rows)
        if expected is None and pub_end.poll():
            n_msgs, sent_at, t_start = pub_end.recv()
            expected = n_msgs * args.values_per_message
        if expected is not None and (rows >= expected or time.time() - last[0] > 15):
            break
    pub.join()
    time.sleep(1)  # the last alarms
    sub_end.send("stop")
    arrived = sub_end.recv()
    sub.join()
    elapsed = last[0] - t_start
    rows = last[1]
    collector.send_signal(signal.SIGTERM)
    collector.wait(timeout=30)
    broker.stop()
    # publish -> alarm received, publish -> raised, raised -> received, publish -> collector, collector -> raised
    latencies = [((now - t) * 1000, (raised - t) * 1000, (now - raised) * 1000, (got - t) * 1000, (raised - got) * 1000)
                 for m, t in sent_at.items() if m in arrived for now, raised, got in [arrived[m]]]
    missing = len(sent_at) - len(latencies)
    lat = sorted(x[0] for x in latencies)
    to_check = sorted(x[1] for x in latencies)
    to_sub = sorted(x[2] for x in latencies)
    to_collector = sorted(x[3] for x in latencies)
    in_collector = sorted(x[4] for x in latencies)
    print(f"messages {n_msgs}, values expected {expected}, committed {rows} in {elapsed:.1f} s "
          f"-> {rows / elapsed:,.0f} values/s ({rows / elapsed / args.values_per_message:,.0f} messages/s)")
    if lat:
        p = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))]  # noqa: E731
        print(f"alarm latency over {len(lat)} alarms: p50 {statistics.median(lat):.1f} ms, p99 {p(0.99):.1f} ms, "
              f"max {lat[-1]:.1f} ms")
        for name, xs in (("publish -> alarm raised by the collector", to_check),
                         ("  publish -> message received by the collector", to_collector),
                         ("  received -> alarm raised", in_collector),
                         ("alarm raised -> received by the subscriber", to_sub)):
            print(f"  {name}: p50 {statistics.median(xs):.1f} ms, p99 {xs[min(len(xs) - 1, int(0.99 * len(xs)))]:.1f} ms")
    if missing:
        print(f"{missing} timed alarms never arrived")
    print(f"load average {os.getloadavg()}")
    shutil.rmtree(work, ignore_errors=True)
    _ = admin


if __name__ == "__main__":
    main()
