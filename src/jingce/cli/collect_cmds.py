"""``jingce collect mqtt|folder|opcua``: run a live collector with a status display."""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path

import typer
import yaml
from rich.live import Live
from rich.table import Table

from jingce.cli.common import AsOption, DataOption, acting, console, open_store
from jingce.cli.text import t
from jingce.errors import InvalidInputError

collect_app = typer.Typer(help="Live collection / 实时采集", no_args_is_help=True)


def _stop_event() -> threading.Event:
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    return stop


def _status(title: str, rows: dict) -> Table:
    table = Table(title=title)
    table.add_column(t("what", "项目"))
    table.add_column(t("count", "数量"), justify="right")
    for k, v in rows.items():
        table.add_row(k, str(v))
    return table


def _sink_rows(sink) -> dict:
    s = sink.stats
    return {t("values received", "收到测量值"): s.received, t("values committed", "已入库"): s.committed,
            t("batches", "批次"): s.batches, t("duplicates dropped", "重复已丢弃"): s.duplicates,
            t("alarms", "报警"): s.alarms, t("rejected", "拒收"): s.rejected}


@collect_app.command("mqtt")
def collect_mqtt(
    broker: str = typer.Option("mqtt://127.0.0.1:1883", "--broker", help="mqtt://host:port"),
    topic: list[str] = typer.Option(["jingce/+/+/+/measurements"], "--topic", help="topic filter(s)"),
    client_id: str = typer.Option("jingce-collector", "--client-id", help="persistent session id"),
    max_rows: int = typer.Option(20000, "--batch-rows", help="commit after this many values"),
    max_delay: float = typer.Option(1.0, "--batch-seconds", help="or after this many seconds"),
    receiver: str = typer.Option("process", "--receiver",
                                 help="process: the MQTT client in a receiver process of its own; "
                                      "thread: in a thread of the checking process"),
    quiet: bool = typer.Option(False, "--quiet", help="no status display"),
    data: Path | None = DataOption,
    as_user: str = AsOption,
) -> None:
    """Collect measurement messages from MQTT (QoS 1, acknowledged after commit) / 从 MQTT 采集."""
    from jingce.collect.mqtt import MqttCollector, MqttReceiverCollector
    from jingce.services.collectors import live_sink

    if receiver not in ("process", "thread"):
        raise InvalidInputError("must be process or thread", argument="--receiver")

    # the network and checking threads must not wait 5 ms (Python's default) for the interpreter
    # while a commit runs: alarms are due within 100 ms
    sys.setswitchinterval(0.0005)
    store = open_store(data)
    actor = acting(store, as_user)
    holder: dict = {}
    sink = live_sink(store, actor, source=f"{broker}/{client_id}", source_format="mqtt",
                     publish=lambda topic_, payload: holder["c"].publish(topic_, payload),
                     max_rows=max_rows, max_delay=max_delay)
    kind = MqttReceiverCollector if receiver == "process" else MqttCollector
    collector = holder["c"] = kind(broker, sink.add, topics=topic, client_id=client_id,
                                   on_bad=lambda e: console.print(f"[yellow]{e.bilingual()}"))
    stop = _stop_event()
    if quiet:
        collector.run_forever(stop)
    else:
        with Live(refresh_per_second=4) as live:
            def tick() -> None:
                live.update(_status(f"MQTT {broker} " + ("●" if collector.connected.is_set() else "○"),
                                    {t("messages", "消息"): collector.received, t("bad messages", "坏消息"): collector.bad}
                                    | _sink_rows(sink)))
            collector.run_forever(stop, tick=tick)
    sink.stop()


@collect_app.command("folder")
def collect_folder(
    path: Path = typer.Argument(..., help="the folder CMMs write result files into"),
    enterprise: str | None = typer.Option(None, "--enterprise", help="for files without that field"),
    part_number: str | None = typer.Option(None, "--part-number"),
    settle: float = typer.Option(1.0, "--settle", help="seconds a file must stay unchanged"),
    once: bool = typer.Option(False, "--once", help="take what is there and stop"),
    data: Path | None = DataOption,
    as_user: str = AsOption,
) -> None:
    """Ingest each complete file once; keep originals in done/, bad files in failed/ / 监视文件夹."""
    from jingce.collect.folder import FolderCollector
    from jingce.services.ingest import ingest_bytes

    store = open_store(data)
    actor = acting(store, as_user)
    defaults = {k: v for k, v in (("enterprise", enterprise), ("part_number", part_number)) if v}

    def ingest(content: bytes, name: str):
        options = {"defaults": defaults} if defaults else {}
        return ingest_bytes(store, actor, content, name, **options)

    folder = FolderCollector(path, ingest, settle=0.0 if once else settle)
    if once:
        folder.poll()
        console.print(_status(str(path), {t("ingested", "已导入"): folder.stats.ingested,
                                          t("already in", "已存在"): folder.stats.repeated,
                                          t("failed", "失败"): folder.stats.failed}))
        for e in folder.stats.errors:
            console.print(f"[red]{e}")
        raise typer.Exit(1 if folder.stats.failed else 0)
    stop = _stop_event()
    with Live(refresh_per_second=2) as live:
        folder.run_forever(stop, tick=lambda: live.update(_status(str(path), {
            t("ingested", "已导入"): folder.stats.ingested, t("already in", "已存在"): folder.stats.repeated,
            t("failed", "失败"): folder.stats.failed, t("last", "最近"): folder.stats.last})))


@collect_app.command("opcua")
def collect_opcua(
    url: str = typer.Argument(..., help="opc.tcp://host:port/path"),
    results: bool = typer.Option(True, "--results/--no-results", help="OPC 40001-101 result events"),
    variables: Path | None = typer.Option(None, "--variables", help="YAML {node id: {enterprise, part_number, "
                                                                    "characteristic, unit}} of gauge variables"),
    enterprise: str | None = typer.Option(None, "--enterprise", help="for result files without that field"),
    data: Path | None = DataOption,
    as_user: str = AsOption,
) -> None:
    """Collect results and gauge values from an OPC UA server / 从 OPC UA 采集."""
    from jingce.collect.opcua import OpcUaCollector, VariableMap
    from jingce.services.collectors import live_sink, result_reader

    store = open_store(data)
    actor = acting(store, as_user)
    mapping = {}
    if variables is not None:
        try:
            doc = yaml.safe_load(variables.read_text(encoding="utf-8")) or {}
            mapping = {str(k): VariableMap(**v) for k, v in doc.items()}
        except (OSError, yaml.YAMLError, TypeError) as exc:
            raise InvalidInputError(f"expected a mapping of node ids to variable maps ({exc})",
                                    file=str(variables)) from None
    sink = live_sink(store, actor, source=url, source_format="opcua")
    collector = OpcUaCollector(url, sink.add, variables=mapping,
                               read_result=result_reader({"enterprise": enterprise} if enterprise else None)
                               if results else None,
                               on_error=lambda e: console.print(f"[yellow]{e.bilingual()}"))
    collector.start()
    stop = _stop_event()
    with Live(refresh_per_second=2) as live:
        while not stop.wait(0.5):
            live.update(_status(f"OPC UA {url} " + ("●" if collector.connected.is_set() else "○"),
                                {t("results", "结果"): collector.results, t("gauge values", "量仪数值"): collector.values,
                                 t("errors", "错误"): collector.errors} | _sink_rows(sink)))
    collector.stop()
    sink.stop()
