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
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from jingce.errors import FormatError

TOPIC_PREFIX = "jingce"


@dataclass(frozen=True, slots=True)
class Row:
    """One measured value of a message, in the reader's input form (codes, not ids)."""

    message_id: str
    enterprise: str
    site: str | None
    part_number: str
    serial: str | None
    characteristic: str
    value: float
    unit: str | None
    measured_at: dt.datetime | None
    local_time: dt.datetime | None
    zone: str | None
    stage: str | None
    operator: str | None
    machine: str | None
    instrument: str | None
    status: str | None
    position: int


def topic_parts(topic: str) -> tuple[str, str | None]:
    """Enterprise and site from ``jingce/<enterprise>/<site>/...``."""
    parts = topic.split("/")
    if len(parts) < 2 or parts[0] != TOPIC_PREFIX:
        raise FormatError(f"topic {topic!r} is not jingce/<enterprise>/<site>/...", element=topic, field="topic")
    return parts[1], (parts[2] if len(parts) > 2 else None)


def _str(doc: dict, key: str, where: str, required: bool = False) -> str | None:
    v = doc.get(key)
    if v is None:
        if required:
            raise FormatError("is required", element=where, field=key)
        return None
    if not isinstance(v, str | int) or isinstance(v, bool) or str(v) == "":
        raise FormatError(f"must be a non-empty string, got {v!r}", element=where, field=key)
    return str(v)


def parse(payload: bytes, topic: str, position: int = 0) -> list[Row]:
    """Parse one message into rows; a bad message raises :class:`FormatError` naming the field."""
    where = topic
    try:
        doc: Any = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FormatError(f"not JSON: {exc}", element=where, field="payload") from None
    if not isinstance(doc, dict):
        raise FormatError("must be a JSON object", element=where, field="payload")
    enterprise, site = topic_parts(topic)
    msg_id = _str(doc, "id", where, required=True)
    where = f"{topic}#{msg_id}"
    enterprise = _str(doc, "enterprise", where) or enterprise
    site = _str(doc, "site", where) or site
    measured_at = local = None
    zone = _str(doc, "zone", where)
    if "time" in doc:
        text = _str(doc, "time", where)
        try:
            t = dt.datetime.fromisoformat(text)
        except ValueError:
            raise FormatError(f"expected ISO 8601 with an offset, got {text!r}", element=where, field="time") from None
        if t.tzinfo is None:
            local = t
        else:
            measured_at = t.astimezone(dt.UTC)
    elif "local_time" in doc:
        text = _str(doc, "local_time", where)
        try:
            local = dt.datetime.fromisoformat(text).replace(tzinfo=None)
        except ValueError:
            raise FormatError(f"expected ISO 8601, got {text!r}", element=where, field="local_time") from None
    else:
        raise FormatError("is required", element=where, field="time")
    values = doc.get("values")
    if not isinstance(values, list) or not values:
        raise FormatError("must be a non-empty list", element=where, field="values")
    common = dict(message_id=msg_id, enterprise=enterprise, site=site,
                  part_number=_str(doc, "part_number", where, required=True), serial=_str(doc, "serial", where),
                  measured_at=measured_at, local_time=local, zone=zone, stage=_str(doc, "stage", where),
                  operator=_str(doc, "operator", where), machine=_str(doc, "machine", where),
                  instrument=_str(doc, "instrument", where))
    rows = []
    for i, v in enumerate(values):
        w = f"{where}/values[{i}]"
        if not isinstance(v, dict):
            raise FormatError("must be an object", element=w, field="values")
        x = v.get("value")
        if isinstance(x, bool) or not isinstance(x, int | float) or x != x or x in (float("inf"), float("-inf")):
            raise FormatError(f"must be a finite number, got {x!r}", element=w, field="value")
        rows.append(Row(characteristic=_str(v, "characteristic", w, required=True), value=float(x),
                        unit=_str(v, "unit", w), status=_str(v, "status", w), position=position + i, **common))
    return rows


def encode(message: dict) -> bytes:
    """Serialise a message dict (for publishers and tests)."""
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode()
