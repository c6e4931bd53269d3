"""MQTT collector (paho-mqtt, MQTT 5): QoS 1, a persistent session, acknowledgement after commit.

The collector subscribes with a fixed client id, ``clean_start=False`` and a session expiry, so
the broker keeps messages while it is down; it announces a large Receive Maximum, so the broker
keeps sending while earlier messages wait (unacknowledged) for their batch to commit; it
acknowledges each message only when the sink says its batch is committed. Redeliveries after a
crash carry the same message ids and are dropped by the store.

Two forms with one interface: :class:`MqttCollector` runs paho's network loop in a thread of the
checking process; :class:`MqttReceiverCollector` runs it in a receiver process of its own (the
default of ``jingce collect mqtt``). In one interpreter the network thread gives up the GIL at
every socket call (several per message) and waits for it behind the checker and the committer, so
messages queue in the socket while a commit runs; the receiver process only reads, parses, forwards
``(delivery number, packet id, message, receive time)`` in batches through a socket pair, and
sends the acknowledgements and alarms the checking process hands back.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from multiprocessing.connection import Connection
from urllib.parse import urlparse

from jingce.collect.messages import Message, parse
from jingce.errors import FormatError, require_extra

DEFAULT_TOPIC = "jingce/+/+/+/measurements"
# seconds: the receiver forwards what it read at most this often (0: at once)
FORWARD_EVERY = float(os.environ.get("JINGCE_MQTT_FORWARD_EVERY", "0.004"))


def _broker(url: str) -> tuple[str, int]:
    u = urlparse(url if "://" in url else f"mqtt://{url}")
    if u.scheme not in ("mqtt", "tcp"):
        raise FormatError("must be mqtt://host:port", field="broker")
    return u.hostname or "127.0.0.1", u.port or 1883


class MqttCollector:
    """Receive measurement messages and hand them to ``sink_add(rows, ack)``.

    Parameters
    ----------
    url : str
        ``mqtt://host:port``.
    sink_add : callable
        Takes one parsed :class:`Message` and the callback that acknowledges it.
    topics : sequence of str
        Topic filters (default ``jingce/+/+/+/measurements``).
    client_id : str
        Fixed id of the persistent session.
    on_bad : callable, optional
        Called with each malformed message's :class:`FormatError` (the message is acknowledged:
        sending it again would not make it better).
    """

    def __init__(self, url: str, sink_add: Callable[[Message, Callable[[], None]], None], *,
                 topics=(DEFAULT_TOPIC,), client_id: str = "jingce-collector", session_expiry: int = 7 * 86400,
                 on_bad: Callable[[FormatError], None] | None = None):
        mqtt = require_extra("paho.mqtt.client", "live")
        from paho.mqtt.enums import CallbackAPIVersion
        from paho.mqtt.packettypes import PacketTypes
        from paho.mqtt.properties import Properties

        self.host, self.port = _broker(url)
        self.topics, self.sink_add, self.on_bad = tuple(topics), sink_add, on_bad
        self.received = 0
        self.bad = 0
        self.connected = threading.Event()
        self._subscription: int | None = None
        self._props = Properties(PacketTypes.CONNECT)
        self._props.ReceiveMaximum = 65535
        self._props.SessionExpiryInterval = session_expiry
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5,
                                  manual_ack=True)
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = self._on_subscribe
        self.client.on_disconnect = lambda *a: self.connected.clear()
        self.client.on_message = self._on_message
        self.client.reconnect_delay_set(min_delay=0.2, max_delay=5)
        # alarms are published with QoS 1: never hold one back waiting for the broker's PUBACKs
        self.client.max_inflight_messages_set(65535)

    def _on_connect(self, client, userdata, flags, reason_code, properties):
        if not reason_code.is_failure:
            self._subscription = client.subscribe([(topic, 1) for topic in self.topics])[1]

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties):
        if mid == self._subscription and not any(rc.is_failure for rc in reason_codes):
            self.connected.set()  # only now: what the broker takes in from here on is ours

    def _on_message(self, client, userdata, msg):
        mid, qos = msg.mid, msg.qos

        def ack() -> None:
            client.ack(mid, qos)

        _hand_over(self, msg.payload, msg.topic, dt.datetime.now(dt.UTC), ack)

    def publish(self, topic: str, payload: bytes, qos: int = 1) -> None:
        self.client.publish(topic, payload, qos=qos)

    def start(self) -> MqttCollector:
        """Connect and process messages in paho's network thread."""
        self.client.connect(self.host, self.port, clean_start=False, properties=self._props)
        self.client.loop_start()
        return self

    def wait_connected(self, timeout: float = 10.0) -> bool:
        """Wait until connected *and subscribed* (SUBACK): on a new session the broker keeps for
        the collector only what it takes in after the subscription."""
        return self.connected.wait(timeout)

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def run_forever(self, stop: threading.Event, tick: Callable[[], None] | None = None, every: float = 0.5) -> None:
        """Run until ``stop`` is set, calling ``tick`` (for a status display) every ``every`` seconds."""
        self.start()
        try:
            while not stop.wait(every):
                if tick:
                    tick()
        finally:
            self.stop()


def _hand_over(collector, payload: bytes, topic: str, received: dt.datetime, ack: Callable[[], None]) -> None:
    collector.received += 1
    try:
        message = parse(payload, topic)
        message.received_at = received
    except FormatError as exc:
        collector.bad += 1
        if collector.on_bad:
            collector.on_bad(exc)
        ack()  # sending it again would not make it better
        return
    collector.sink_add(message, ack)


class MqttReceiverCollector:
    """:class:`MqttCollector`'s interface, with the MQTT client in a receiver process.

    The receiver (``python -m jingce.collect.mqtt``, started by :meth:`start`) owns the session:
    QoS 1, ``clean_start=False``, manual acknowledgement. It reads every message the broker has
    sent, parses them, forwards them in one batch per read (5 ms at most), and acknowledges a
    packet id only when this process sends it back (after the commit), and only if that delivery
    is of the message the broker still waits for under that packet id (:class:`_Acks`), so a late
    acknowledgement cannot confirm another message. The receiver exits at once, acknowledging nothing more, when this process dies
    (``PR_SET_PDEATHSIG`` and the closed socket pair).
    """

    def __init__(self, url: str, sink_add: Callable[[Message, Callable[[], None]], None], *,
                 topics=(DEFAULT_TOPIC,), client_id: str = "jingce-collector", session_expiry: int = 7 * 86400,
                 on_bad: Callable[[FormatError], None] | None = None, ack_delay: float = 0.002):
        require_extra("paho.mqtt.client", "live")
        self.host, self.port = _broker(url)
        self.topics, self.sink_add, self.on_bad = tuple(topics), sink_add, on_bad
        self.client_id, self.session_expiry, self.ack_delay = client_id, session_expiry, ack_delay
        self.received = 0
        self.bad = 0
        self.connected = threading.Event()
        self.proc: subprocess.Popen | None = None
        self._conn: Connection | None = None
        self._send_lock = threading.Lock()
        self._acks: deque[tuple[int, int, int]] = deque()
        self._ack_ready = threading.Event()
        self._stopping = threading.Event()

    def start(self) -> MqttReceiverCollector:
        mine, theirs = socket.socketpair()
        for end in (mine, theirs):  # neither side should wait for the other to read
            end.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
            end.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        config = {"host": self.host, "port": self.port, "topics": self.topics, "client_id": self.client_id,
                  "session_expiry": self.session_expiry, "parent": os.getpid(), "fd": theirs.fileno()}
        self.proc = subprocess.Popen([sys.executable, "-m", "jingce.collect.mqtt", json.dumps(config)],
                                     pass_fds=(theirs.fileno(),), env=os.environ | {"PYTHONPATH": os.pathsep.join(sys.path)})
        theirs.close()
        self._conn = Connection(mine.detach())
        self._threads = [threading.Thread(target=self._read_loop, name="jingce-mqtt-read", daemon=True),
                         threading.Thread(target=self._ack_loop, name="jingce-mqtt-ack", daemon=True)]
        for th in self._threads:
            th.start()
        return self

    def _send(self, item) -> None:
        with self._send_lock:
            try:
                self._conn.send(item)
            except (OSError, ValueError):  # the receiver is gone: the broker will send these again
                pass

    def _read_loop(self) -> None:
        while True:
            try:
                kind, body = self._conn.recv()
            except (EOFError, OSError):
                self.connected.clear()
                return
            if kind == "messages":
                for delivery, mid, qos, topic, parsed, at in body:
                    def ack(delivery=delivery, mid=mid, qos=qos) -> None:
                        self._acks.append((delivery, mid, qos))
                        self._ack_ready.set()
                    if isinstance(parsed, Message):
                        self.received += 1
                        self.sink_add(parsed, ack)
                    else:  # the receiver could not parse it: parse here, for the error
                        _hand_over(self, parsed, topic, dt.datetime.fromtimestamp(at, dt.UTC), ack)
            elif kind == "connected":
                (self.connected.set if body else self.connected.clear)()

    def _ack_loop(self) -> None:
        # the committer acknowledges a batch message by message: gather them and send one list
        while not self._stopping.is_set():
            if not self._ack_ready.wait(0.5):
                continue
            self._ack_ready.clear()
            time.sleep(self.ack_delay)
            self._flush_acks()

    def _flush_acks(self) -> None:
        acks = []
        while self._acks:
            acks.append(self._acks.popleft())
        if acks:
            self._send(("ack", acks))

    def publish(self, topic: str, payload: bytes, qos: int = 1) -> None:
        self._send(("publish", (topic, bytes(payload), qos)))

    def wait_connected(self, timeout: float = 10.0) -> bool:
        """Wait until connected *and subscribed* (SUBACK): on a new session the broker keeps for
        the collector only what it takes in after the subscription."""
        return self.connected.wait(timeout)

    def stop(self) -> None:
        """Send the acknowledgements due, disconnect the receiver and wait for it."""
        self._stopping.set()
        self._flush_acks()
        self._send(("stop", None))
        if self.proc is not None:
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self._conn is not None:
            self._conn.close()

    def run_forever(self, stop: threading.Event, tick: Callable[[], None] | None = None, every: float = 0.5) -> None:
        """Run until ``stop`` is set, calling ``tick`` (for a status display) every ``every`` seconds."""
        self.start()
        try:
            while not stop.wait(every):
                if tick:
                    tick()
                if self.proc.poll() is not None:
                    raise RuntimeError(f"the MQTT receiver process ended (exit code {self.proc.returncode})")
        finally:
            self.stop()


class _Acks:
    """Which acknowledgements the receiver may send. Every message forwarded gets a delivery number;
    a packet id is acknowledged once, for a delivery of the message the broker waits for under that
    id (a redelivery of it after a reconnection included), only while connected and only in the
    broker session it arrived in: a late acknowledgement of an earlier message under a reused
    packet id, or of a session the broker has since lost, is never sent."""

    def __init__(self) -> None:
        self.up = False
        self._deliveries = 0
        self._waiting: dict[int, set[int]] = {}  # packet id -> deliveries of the message under it

    def connected(self, session_present: bool) -> None:
        if not session_present:  # a new session: old packet ids mean nothing now
            self._waiting.clear()
        self.up = True

    def received(self, mid: int, qos: int) -> int:
        """Note a message; returns its delivery number, sent back with its acknowledgement."""
        self._deliveries += 1
        if qos:
            self._waiting.setdefault(mid, set()).add(self._deliveries)
        return self._deliveries

    def due(self, delivery: int, mid: int) -> bool:
        if self.up and delivery in self._waiting.get(mid, ()):
            del self._waiting[mid]
            return True
        return False


def _die_with_parent(parent: int) -> None:
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:  # died before prctl took effect
        os._exit(1)


def _receive(config: dict) -> None:
    """The receiver process: see :class:`MqttReceiverCollector`. One thread, one ``select``."""
    _die_with_parent(config["parent"])
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the parent decides
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion
    from paho.mqtt.packettypes import PacketTypes
    from paho.mqtt.properties import Properties

    conn = Connection(config["fd"])
    props = Properties(PacketTypes.CONNECT)
    props.ReceiveMaximum = 65535
    props.SessionExpiryInterval = config["session_expiry"]
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=config["client_id"], protocol=mqtt.MQTTv5,
                         manual_ack=True)
    client.max_inflight_messages_set(65535)  # alarms never wait for the broker's PUBACKs
    client.on_socket_register_write = lambda *a: None  # written below, once per round, not per packet
    acks = _Acks()
    batch: list = []

    def tell(item) -> None:
        try:
            conn.send(item)
        except OSError:
            os._exit(0)  # the parent is gone: acknowledge nothing more

    subscription = {}

    def on_connect(c, userdata, flags, reason_code, properties):
        if reason_code.is_failure:
            return
        acks.connected(flags.session_present)
        subscription["mid"] = c.subscribe([(topic, 1) for topic in config["topics"]])[1]

    def on_subscribe(c, userdata, mid, reason_codes, properties):
        if mid == subscription.get("mid") and not any(rc.is_failure for rc in reason_codes):
            tell(("connected", True))  # subscribed: what the broker takes in from here on is ours

    def on_disconnect(*_):
        if acks.up:
            acks.up = False
            tell(("connected", False))

    def on_message(c, userdata, msg):
        at = time.time()
        delivery = acks.received(msg.mid, msg.qos)
        try:  # parsed here, on the receiver's core, not the checker's
            parsed = parse(msg.payload, msg.topic)
            parsed.received_at = dt.datetime.fromtimestamp(at, dt.UTC)
        except FormatError:
            parsed = msg.payload
        batch.append((delivery, msg.mid, msg.qos, msg.topic, parsed, at))

    client.on_connect, client.on_disconnect, client.on_message = on_connect, on_disconnect, on_message
    client.on_subscribe = on_subscribe
    delay, retry_at, stopping, flush_at = 0.2, 0.0, False, 0.0
    while True:
        sock = client.socket()
        if sock is None:
            if stopping:
                os._exit(0)
            if time.monotonic() >= retry_at:
                try:
                    client.connect(config["host"], config["port"], clean_start=False, properties=props)
                    delay = 0.2
                    continue
                except OSError:
                    retry_at, delay = time.monotonic() + delay, min(delay * 2, 5.0)
            ready, _, _ = select.select([conn], [], [], max(0.0, retry_at - time.monotonic()))
            writable = []
        else:
            wait = max(0.0, flush_at - time.monotonic()) if batch else 1.0
            ready, writable, _ = select.select([sock, conn], [sock] if client.want_write() else [], [], wait)
        if sock is not None and sock in ready:
            # what is waiting, one packet per loop_read, but for 5 ms at most: then forward them and
            # send the acknowledgements and alarms due (the socket is still readable next round)
            until = time.monotonic() + 0.005
            while client.loop_read() == mqtt.MQTT_ERR_SUCCESS and client.socket() is not None:
                if time.monotonic() > until or not select.select([sock], [], [], 0)[0]:
                    break
            if conn not in ready and conn.poll():
                ready = [conn]
        if batch and (time.monotonic() >= flush_at or len(batch) >= 500 or client.socket() is None):
            # forwarded every few ms, not message by message: each batch wakes the checking
            # process's reading thread, which then waits for its interpreter
            tell(("messages", batch))
            batch = []
            flush_at = time.monotonic() + FORWARD_EVERY
        if conn in ready:
            while True:
                try:
                    kind, body = conn.recv()
                except (EOFError, OSError):
                    os._exit(0)
                if kind == "ack":
                    for delivery, mid, qos in body:
                        if acks.due(delivery, mid):
                            client.ack(mid, qos)
                elif kind == "publish":
                    client.publish(body[0], body[1], qos=body[2])
                elif kind == "stop":
                    stopping = True
                    client.disconnect()
                if not conn.poll():
                    break
        if client.socket() is not None:
            if client.want_write() or writable:
                client.loop_write()
            client.loop_misc()
        elif stopping:
            os._exit(0)


def alarm_topic(enterprise: str, site: str | None) -> str:
    return f"jingce/{enterprise}/{site or '-'}/alarms"


__all__ = ["DEFAULT_TOPIC", "MqttCollector", "MqttReceiverCollector", "alarm_topic"]


if __name__ == "__main__":
    _receive(json.loads(sys.argv[1]))
