"""OPC UA collector (asyncua).

Two ways machines offer results over OPC UA, both supported:

* **Result transfer** (OPC 40001-101 Machinery Result, used by OPC 40210 Geometric Measurement
  Systems for CMMs): the server's ``ResultManagement`` object emits ``ResultReadyEventType``
  events whose ``Result`` (``ResultDataType``: ``ResultMetaData`` with ``ResultId``,
  ``FileFormat``, ``Name``; ``ResultContent``) carries or identifies the result file. On each
  event the collector takes the file from ``ResultContent`` or, when the event carries only the
  metadata, fetches it with ``GetResultById``; the file is read by jingce's format readers
  (QIF, AQDEF, CSV ...). Not implemented: the temporary file transfer (``ResultTransfer``,
  OPC 10000-20) for results too large for a method call.
* **Plain subscriptions** to measurement variables of in-line gauges: each data change of a
  mapped variable is one value of a characteristic.

Messages are identified (``opcua:<ResultId>``, or the variable and its source timestamp), so a
result seen twice lands once. OPC UA has no acknowledgement to give back, so ``ack`` is a no-op.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
from collections.abc import Callable
from dataclasses import dataclass

from jingce.collect.messages import Message
from jingce.errors import FormatError, JingceError, require_extra

RESULT_NS = "http://opcfoundation.org/UA/Machinery/Result/"


@dataclass(frozen=True, slots=True)
class VariableMap:
    """What a gauge variable measures."""

    enterprise: str
    part_number: str
    characteristic: str
    unit: str | None = None
    site: str | None = None
    instrument: str | None = None


def _noop() -> None:
    return None


class OpcUaCollector:
    """Subscribe to an OPC UA server's result events and/or variables (see module docstring).

    Parameters
    ----------
    url : str
        ``opc.tcp://host:port/path``.
    sink_add : callable
        ``sink_add(message, ack)`` as for the other collectors.
    read_result : callable, optional
        ``read_result(content, name, file_format, result_id) -> list[Message]``: turns a result
        file into messages (the service passes jingce's format readers). None: no result transfer.
    variables : mapping, optional
        ``{node id string: VariableMap}`` of gauge variables to subscribe to.
    on_error : callable, optional
        Called with each :class:`JingceError` (a result file that does not read, for example).
    """

    def __init__(self, url: str, sink_add: Callable[[Message, Callable[[], None]], None], *,
                 read_result: Callable[[bytes, str, str | None, str], list[Message]] | None = None,
                 variables: dict[str, VariableMap] | None = None, publishing_interval_ms: int = 50,
                 on_error: Callable[[JingceError], None] | None = None):
        require_extra("asyncua", "live")
        self.url, self.sink_add, self.read_result = url, sink_add, read_result
        self.variables = dict(variables or {})
        self.interval = publishing_interval_ms
        self.on_error = on_error
        self.results = 0
        self.values = 0
        self.errors = 0
        self.connected = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    # -- event and data-change handlers (called by asyncua in its loop) ------------------------

    def event_notification(self, event) -> None:
        result = getattr(event, "Result", None)
        if result is None:
            return
        meta = result.ResultMetaData
        content = list(getattr(result, "ResultContent", None) or [])
        asyncio.ensure_future(self._take_result(meta, content))

    async def _take_result(self, meta, content) -> None:
        try:
            if not content:
                content = await self._get_result_by_id(meta.ResultId)
            data = content[0] if content else b""
            if not isinstance(data, bytes | bytearray) or not data:
                raise FormatError("the result carries no file content", element=f"result {meta.ResultId}",
                                  field="ResultContent")
            fmt = (list(meta.FileFormat or []) or [None])[0]
            messages = self.read_result(bytes(data), meta.Name or meta.ResultId, fmt, meta.ResultId)
            self.results += 1
            for m in messages:
                self.sink_add(m, _noop)
        except JingceError as exc:
            self.errors += 1
            if self.on_error:
                self.on_error(exc)

    async def _get_result_by_id(self, result_id: str) -> list:
        _handle, result, error = await self._rm.call_method(self._get_by_id, result_id, 10000)
        if error:
            raise FormatError(f"GetResultById returned error {error}", element=f"result {result_id}",
                              field="Error")
        return list(result.ResultContent or [])

    def datachange_notification(self, node, value, data) -> None:
        m = self.variables.get(node.nodeid.to_string())
        if m is None or value is None:
            return
        ts = data.monitored_item.Value.SourceTimestamp or dt.datetime.now(dt.UTC)
        ts = ts if ts.tzinfo else ts.replace(tzinfo=dt.UTC)
        self.values += 1
        message = Message(f"{node.nodeid.to_string()}@{ts.isoformat()}", m.enterprise, m.site, m.part_number, None,
                          ts, None, None, "in_process", None, None, m.instrument, [m.characteristic], [float(value)],
                          [m.unit], ["valid"])
        self.sink_add(message, _noop)

    # -- connection ---------------------------------------------------------------------------

    async def _main(self) -> None:
        from asyncua import Client

        while not self._stop.is_set():
            try:
                async with Client(self.url) as client:
                    sub = await client.create_subscription(self.interval, self)
                    if self.read_result is not None:
                        await client.load_data_type_definitions()
                        idx = await client.get_namespace_index(RESULT_NS)
                        self._rm = await client.nodes.objects.get_child(f"{idx}:ResultManagement")
                        self._get_by_id = f"{idx}:GetResultById"
                        etype = await client.nodes.base_event_type.get_child(f"{idx}:ResultReadyEventType")
                        await sub.subscribe_events(self._rm, etype)
                    if self.variables:
                        await sub.subscribe_data_change([client.get_node(n) for n in self.variables])
                    self.connected.set()
                    while not self._stop.is_set():
                        await asyncio.sleep(0.1)
                        await client.check_connection()
            except (TimeoutError, OSError, ConnectionError) as exc:
                self.connected.clear()
                if self.on_error:
                    self.on_error(FormatError(f"OPC UA connection: {exc}", element=self.url, field="url"))
                await asyncio.sleep(1.0)
        self.connected.clear()

    def start(self) -> OpcUaCollector:
        def run() -> None:
            self._loop = asyncio.new_event_loop()
            self._loop.run_until_complete(self._main())

        self._thread = threading.Thread(target=run, name="jingce-opcua", daemon=True)
        self._thread.start()
        return self

    def wait_connected(self, timeout: float = 10.0) -> bool:
        return self.connected.wait(timeout)

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=10)
