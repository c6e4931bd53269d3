"""MQTT collector (paho-mqtt, MQTT 5): QoS 1, a persistent session, acknowledgement after commit.

The collector subscribes with a fixed client id, ``clean_start=False`` and a session expiry, so
the broker keeps messages while it is down; it announces a large Receive Maximum, so the broker
keeps sending while earlier messages wait (unacknowledged) for their batch to commit; it
acknowledges each message only when the sink says its batch is committed. Redeliveries after a
crash carry the same message ids and are dropped by the store.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from urllib.parse import urlparse

from jingce.collect.messages import Message, parse
from jingce.errors import FormatError, require_extra

DEFAULT_TOPIC = "jingce/+/+/+/measurements"


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
        self._props = Properties(PacketTypes.CONNECT)
        self._props.ReceiveMaximum = 65535
        self._props.SessionExpiryInterval = session_expiry
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5,
                                  manual_ack=True)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = lambda *a: self.connected.clear()
        self.client.on_message = self._on_message
        self.client.reconnect_delay_set(min_delay=0.2, max_delay=5)
        # alarms are published with QoS 1: never hold one back waiting for the broker's PUBACKs
        self.client.max_inflight_messages_set(65535)

    def _on_connect(self, client, userdata, flags, reason_code, properties):
        if not reason_code.is_failure:
            for topic in self.topics:
                client.subscribe(topic, qos=1)
            self.connected.set()

    def _on_message(self, client, userdata, msg):
        self.received += 1
        mid, qos = msg.mid, msg.qos

        def ack() -> None:
            client.ack(mid, qos)

        received = dt.datetime.now(dt.UTC)
        try:
            message = parse(msg.payload, msg.topic)
            message.received_at = received
        except FormatError as exc:
            self.bad += 1
            if self.on_bad:
                self.on_bad(exc)
            ack()
            return
        self.sink_add(message, ack)

    def publish(self, topic: str, payload: bytes, qos: int = 1) -> None:
        self.client.publish(topic, payload, qos=qos)

    def start(self) -> MqttCollector:
        """Connect and process messages in paho's network thread."""
        self.client.connect(self.host, self.port, clean_start=False, properties=self._props)
        self.client.loop_start()
        return self

    def wait_connected(self, timeout: float = 10.0) -> bool:
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


def alarm_topic(enterprise: str, site: str | None) -> str:
    return f"jingce/{enterprise}/{site or '-'}/alarms"


__all__ = ["DEFAULT_TOPIC", "MqttCollector", "alarm_topic"]
