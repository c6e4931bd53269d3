"""Wiring the live collectors to the store: the sink, the monitor, alarm publication, result files."""

from __future__ import annotations

import pyarrow as pa

from jingce import formats
from jingce.collect.messages import Message
from jingce.services.live import LiveMonitor, LiveSink
from jingce.store import Actor, Store


def messages_from_table(table: pa.Table, message_id: str) -> list[Message]:
    """One message per row of a reader's measurement table (ids ``<message_id>#<row>``), so a
    result file seen twice lands once."""
    cols = {c: table.column(c).to_pylist() for c in table.column_names}

    def get(name: str, i: int):
        return cols[name][i] if name in cols else None

    return [Message(f"{message_id}#{i}", get("enterprise", i), get("site", i), get("part_number", i),
                    get("serial", i), get("measured_at", i), get("local_time", i), get("zone", i), get("stage", i),
                    get("operator", i), get("machine", i), get("instrument", i), [get("characteristic", i)],
                    [get("value", i)], [get("unit", i)], [get("status", i)]) for i in range(table.num_rows)]


def result_reader(defaults: dict[str, str] | None = None):
    """``read_result`` for the OPC UA collector: any registered format, by name or detected."""
    def read(content: bytes, name: str, file_format: str | None, result_id: str) -> list[Message]:
        wanted = (file_format or "").lower()
        fmt = next((f for f in (formats.get(n) for n in formats.names()) if wanted and f.name == wanted), None)
        fmt = fmt or formats.detect(content, name)
        options = {"defaults": dict(defaults)} if defaults else {}
        try:
            result = fmt.read(content, name, **options)
        except TypeError:  # a reader without the defaults option
            result = fmt.read(content, name)
        return messages_from_table(result.table, f"opcua:{result_id}")
    return read


def live_sink(store: Store, actor: Actor, *, source: str, source_format: str, publish=None, monitor: bool = True,
              rules: str = "nelson", max_rows: int = 20000, max_delay: float = 1.0) -> LiveSink:
    """A started :class:`LiveSink` with a :class:`LiveMonitor`; ``publish(topic, payload)`` sends alarms."""
    from jingce.collect.mqtt import alarm_topic
    from jingce.services.live import alarm_payload

    def publish_alarms(alarms: list[dict]) -> None:
        if publish is None:
            return
        by_topic: dict[str, list[dict]] = {}
        for a in alarms:
            by_topic.setdefault(alarm_topic(a["characteristic"].split("/", 1)[0], a.get("site")), []).append(a)
        for topic, group in by_topic.items():
            publish(topic, alarm_payload(group))

    mon = LiveMonitor(store, actor, rules=rules) if monitor else None
    return LiveSink(store, actor, source=source, source_format=source_format, monitor=mon,
                    publish_alarms=publish_alarms, max_rows=max_rows, max_delay=max_delay).start()


__all__ = ["live_sink", "messages_from_table", "result_reader"]
