"""The JSON measurement message of jingce's live interface (version 1).

A gauge, CMM or line controller publishes one message per measured part (or per value)::

    topic:   jingce/<enterprise>/<site>/<gauge>/measurements
    payload: {
      "id": "gauge7-000123",                     # unique per source: redeliveries are dropped by it
      "time": "2026-03-01T08:15:00.250+08:00",   # ISO 8601 with offset (or "local_time" + "zone")
      "part_number": "SHAFT-100", "serial": "S-000123",          # serial optional
      "stage": "in_process", "operator": "OP7", "machine": "M12", "instrument": "G7",  # optional
      "values": [
        {"characteristic": "D1", "value": 25.003, "unit": "mm"},
        {"characteristic": "RA", "value": 0.21, "unit": "µm", "status": "valid"}
      ]
    }

``enterprise`` and ``site`` come from the topic unless the payload names them. Alarms are
published on ``jingce/<enterprise>/<site>/alarms`` (see :mod:`jingce.services.live`).

A message is parsed into one :class:`Message` (the part's fields once, the values as lists):
live data arrives at tens of thousands of values a second, so nothing is made per value that
need not be.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from jingce.errors import FormatError

TOPIC_PREFIX = "jingce"
_FIELDS = ("part_number", "serial", "stage", "operator", "machine", "instrument", "zone", "enterprise", "site")


@dataclass(slots=True)
class Message:
    """One measured part: common fields, and its values as parallel lists."""

    message_id: str
    enterprise: str
    site: str | None
    part_number: str
    serial: str | None
    measured_at: dt.datetime | None
    local_time: dt.datetime | None
    zone: str | None
    stage: str | None
    operator: str | None
    machine: str | None
    instrument: str | None
    characteristics: list[str]
    values: list[float]
    units: list[str | None]
    statuses: list[str | None]
    received_at: dt.datetime | None = None
    """When the collector received it (UTC; set by the collector, not part of the payload)."""

    def __len__(self) -> int:
        return len(self.values)


def topic_parts(topic: str) -> tuple[str, str | None]:
    """Enterprise and site from ``jingce/<enterprise>/<site>/...``."""
    parts = topic.split("/")
    if len(parts) < 2 or parts[0] != TOPIC_PREFIX or not parts[1]:
        raise FormatError(f"topic {topic!r} is not jingce/<enterprise>/<site>/...", element=topic, field="topic")
    return parts[1], (parts[2] or None if len(parts) > 2 else None)


def _bad_str(v: Any) -> bool:
    return not (isinstance(v, str) and v) and not (isinstance(v, int) and not isinstance(v, bool))


def parse(payload: bytes, topic: str) -> Message:
    """Parse one message; a bad message raises :class:`FormatError` naming the element and field."""
    try:
        doc: Any = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise FormatError(f"not JSON: {exc}", element=topic, field="payload") from None
    if not isinstance(doc, dict):
        raise FormatError("must be a JSON object", element=topic, field="payload")
    enterprise, site = topic_parts(topic)
    msg_id = doc.get("id")
    if msg_id is None or _bad_str(msg_id):
        raise FormatError(f"must be a non-empty string, got {msg_id!r}", element=topic, field="id")
    msg_id = str(msg_id)
    where = f"{topic}#{msg_id}"
    f = {}
    for key in _FIELDS:
        v = doc.get(key)
        if v is not None and _bad_str(v):
            raise FormatError(f"must be a non-empty string, got {v!r}", element=where, field=key)
        f[key] = None if v is None else str(v)
    if f["part_number"] is None:
        raise FormatError("is required", element=where, field="part_number")
    measured_at = local = None
    text = doc.get("time", doc.get("local_time"))
    field = "time" if "time" in doc else "local_time"
    if not isinstance(text, str):
        raise FormatError(f"is required as ISO 8601 text, got {text!r}", element=where, field="time")
    try:
        t = dt.datetime.fromisoformat(text)
    except ValueError:
        raise FormatError(f"expected ISO 8601 with an offset, got {text!r}", element=where, field=field) from None
    if t.tzinfo is None or field == "local_time":
        local = t.replace(tzinfo=None)
    else:
        measured_at = t.astimezone(dt.UTC)
    items = doc.get("values")
    if not isinstance(items, list) or not items:
        raise FormatError("must be a non-empty list", element=where, field="values")
    chars, values, units, statuses = [], [], [], []
    for i, v in enumerate(items):
        if not isinstance(v, dict):
            raise FormatError("must be an object", element=f"{where}/values[{i}]", field="values")
        c, x, u, s = v.get("characteristic"), v.get("value"), v.get("unit"), v.get("status")
        if c is None or _bad_str(c):
            raise FormatError(f"must be a non-empty string, got {c!r}", element=f"{where}/values[{i}]",
                              field="characteristic")
        if isinstance(x, bool) or not isinstance(x, int | float) or x != x or x in (float("inf"), float("-inf")):
            raise FormatError(f"must be a finite number, got {x!r}", element=f"{where}/values[{i}]", field="value")
        if (u is not None and _bad_str(u)) or (s is not None and _bad_str(s)):
            raise FormatError("unit and status must be strings", element=f"{where}/values[{i}]", field="unit")
        chars.append(str(c))
        values.append(float(x))
        units.append(u)
        statuses.append(s)
    return Message(msg_id, f["enterprise"] or enterprise, f["site"] or site, f["part_number"], f["serial"],
                   measured_at, local, f["zone"], f["stage"], f["operator"], f["machine"], f["instrument"],
                   chars, values, units, statuses)


def encode(message: dict) -> bytes:
    """Serialise a message dict (for publishers and tests)."""
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode()
