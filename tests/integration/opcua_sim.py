"""An in-process OPC UA server simulating a CMM (OPC 40001-101 result transfer: ResultManagement,
ResultReadyEventType, GetResultById) and an in-line gauge (a measurement variable)."""

from __future__ import annotations

import asyncio
import threading

from asyncua import Server, ua
from asyncua.common.structures104 import new_struct, new_struct_field

from jingce.collect.opcua import RESULT_NS


class Simulator:
    def __init__(self, port: int):
        self.url = f"opc.tcp://127.0.0.1:{port}/jingce-sim/"
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.results: dict[str, object] = {}
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> Simulator:
        self._thread.start()
        assert self.ready.wait(30), "OPC UA simulator did not start"
        return self

    def _run(self) -> None:
        self.loop.run_until_complete(self._serve())

    async def _serve(self) -> None:
        server = Server()
        await server.init()
        server.set_endpoint(self.url)
        idx = await server.register_namespace(RESULT_NS)
        meta, _ = await new_struct(server, idx, "ResultMetaDataType", [
            new_struct_field("ResultId", ua.VariantType.String),
            new_struct_field("FileFormat", ua.VariantType.String, array=True),
            new_struct_field("Name", ua.VariantType.String)])
        res, _ = await new_struct(server, idx, "ResultDataType", [
            new_struct_field("ResultMetaData", meta),
            new_struct_field("ResultContent", ua.VariantType.ByteString, array=True)])
        await server.load_data_type_definitions()
        etype = await server.create_custom_event_type(idx, "ResultReadyEventType", ua.ObjectIds.BaseEventType, [])
        prop = await etype.add_property(idx, "Result", ua.Variant(None, ua.VariantType.ExtensionObject),
                                        datatype=res.nodeid)
        await prop.set_modelling_rule(True)
        rm = await server.nodes.objects.add_object(idx, "ResultManagement")

        async def get_result_by_id(parent, result_id, timeout):
            r = self.results.get(result_id.Value)
            return [ua.Variant(1, ua.VariantType.UInt32), ua.Variant(r, ua.VariantType.ExtensionObject),
                    ua.Variant(0 if r is not None else 1, ua.VariantType.Int32)]

        await rm.add_method(idx, "GetResultById", get_result_by_id, [ua.VariantType.String, ua.VariantType.Int32],
                            [ua.VariantType.UInt32, ua.VariantType.ExtensionObject, ua.VariantType.Int32])
        gauge = await server.nodes.objects.add_object(idx, "Gauge")
        self.gauge_var = await gauge.add_variable(ua.NodeId("Gauge.D1", idx), "D1", 10.0)
        self.gauge_nodeid = self.gauge_var.nodeid.to_string()
        self.generator = await server.get_event_generator(etype, rm)
        self.ua = ua
        async with server:
            self.server = server
            self.ready.set()
            while True:
                await asyncio.sleep(0.1)

    def _call(self, coro):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(30)

    def publish_result(self, result_id: str, content: bytes, name: str, file_format: str, *,
                       inline: bool = True) -> None:
        """Raise a ResultReadyEvent; with ``inline=False`` the event carries only the metadata and
        the client has to call GetResultById."""
        meta = ua.ResultMetaDataType(ResultId=result_id, FileFormat=[file_format], Name=name)
        full = ua.ResultDataType(ResultMetaData=meta, ResultContent=[content])
        self.results[result_id] = full

        async def fire():
            self.generator.event.Result = full if inline else ua.ResultDataType(ResultMetaData=meta, ResultContent=[])
            self.generator.event.Message = ua.LocalizedText(f"result {result_id} ready")
            await self.generator.trigger()

        self._call(fire())

    def set_gauge(self, value: float) -> None:
        self._call(self.gauge_var.write_value(float(value)))
