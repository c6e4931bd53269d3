"""``jingce init``, ``ingest``, ``query`` and ``audit``: the store from the command line."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import typer
from rich.table import Table
from rich.tree import Tree

from jingce.cli.common import AsOption, DataOption, acting, console, open_store, progress
from jingce.cli.text import t
from jingce.errors import InvalidInputError
from jingce.services.ingest import ingest_files

query_app = typer.Typer(help="Query the store / 查询", no_args_is_help=True)
audit_app = typer.Typer(help="The audit chain / 审计链", no_args_is_help=True)


def init(data: Path | None = DataOption) -> None:
    """Create (or migrate) the data folder: registry, lake, audit chain / 初始化数据目录."""
    store = open_store(data)
    store.bootstrap()
    console.print(t(f"ready: {store.settings.data_dir} (registry {store.settings.db_url})",
                    f"已就绪：{store.settings.data_dir}（注册库 {store.settings.db_url}）"))


def ingest(
    files: list[Path] = typer.Argument(..., help="files to ingest / 要导入的文件"),
    format: str | None = typer.Option(None, "--format", "-f", help="format name (default: detected) / 格式"),
    enterprise: str | None = typer.Option(None, "--enterprise", help="enterprise code for files without that column"),
    part_number: str | None = typer.Option(None, "--part-number", help="part number for files without that column"),
    site: str | None = typer.Option(None, "--site", help="site code for files without that column"),
    zone: str | None = typer.Option(None, "--zone", help="IANA zone of wall-clock times (default: the site's)"),
    decimal: str = typer.Option(".", "--decimal", help="decimal separator of numbers: '.' or ','"),
    skip_bad: bool = typer.Option(False, "--skip-bad", help="skip bad records (each is reported) / 跳过坏记录"),
    option: list[str] = typer.Option([], "--option", "-O", help="reader option key=value (e.g. profile=calypso, "
                                                                "encoding=gb18030, serial=K0014)"),
    data: Path | None = DataOption,
    as_user: str = AsOption,
) -> None:
    """Ingest measurement files; each file lands whole or not at all, and only once / 导入测量文件."""
    store = open_store(data)
    actor = acting(store, as_user)
    defaults = {k: v for k, v in (("enterprise", enterprise), ("part_number", part_number), ("site", site),
                                  ("zone", zone)) if v}
    options: dict = {"defaults": defaults, "decimal": decimal, "skip_bad": skip_bad}
    explicit = set()
    for item in option:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise InvalidInputError(f"expected key=value, got {item!r}", field="--option")
        options[key.strip()] = {"true": True, "false": False}.get(value.strip().lower(), value.strip())
        explicit.add(key.strip())
    options["explicit"] = frozenset(explicit)
    with progress() as bar:
        task = bar.add_task(t("ingesting", "导入中"), total=len(files))
        results = ingest_files(store, actor, files, format=format, progress=lambda _p: bar.advance(task), **options)
    table = Table(title=t("Ingest", "导入"))
    for col in (t("file", "文件"), t("format", "格式"), t("values", "测量值"), t("result", "结果")):
        table.add_column(col)
    for r in results:
        table.add_row(r.path, r.format, str(r.result.rows), r.result.message())
        for s in r.skipped:
            console.print(f"[yellow]{t('skipped', '已跳过')}:[/] {s.bilingual()}")
    console.print(table)


def _parse_time(text: str | None, field: str) -> dt.datetime | None:
    if text is None:
        return None
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInputError(f"expected an ISO 8601 time, got {text!r}", field=field) from None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


@query_app.command("values")
def values(
    characteristic: str = typer.Argument(..., help="ENTERPRISE/PART_NUMBER/KEY"),
    start: str | None = typer.Option(None, "--from", help="ISO time (inclusive; UTC if no offset)"),
    end: str | None = typer.Option(None, "--to", help="ISO time (exclusive)"),
    stage: str | None = typer.Option(None, "--stage", help="incoming | in_process | final | in_service"),
    serial: str | None = typer.Option(None, "--serial"),
    limit: int = typer.Option(20, "--limit", help="rows to show (the --out file gets all)"),
    out: Path | None = typer.Option(None, "--out", "-o", help="write all rows to .csv or .parquet"),
    data: Path | None = DataOption,
    as_user: str = AsOption,
) -> None:
    """Time-ordered values of one characteristic / 特性的测量值（按时间）."""
    parts = characteristic.split("/")
    if len(parts) != 3:
        raise InvalidInputError("expected ENTERPRISE/PART_NUMBER/KEY", field="characteristic")
    store = open_store(data)
    actor = acting(store, as_user)
    char = store.find_characteristic(actor, *parts)
    rows = store.values(actor, char.id, start=_parse_time(start, "--from"), end=_parse_time(end, "--to"),
                        stage=stage, serial=serial)
    if out is not None:
        if out.suffix == ".parquet":
            pq.write_table(rows, out)
        else:
            pacsv.write_csv(rows, out)
    table = Table(title=f"{characteristic}  [{char.lower_limit}, {char.upper_limit}] {char.unit}  n={rows.num_rows}")
    for col in ("local_time", "zone", "value", "stage", "serial", "status"):
        table.add_column(col)
    for r in rows.slice(max(0, rows.num_rows - limit)).to_pylist():
        table.add_row(str(r["local_time"]), r["zone"], f"{r['value']:g}", r["stage"], r["serial"] or "", r["status"])
    console.print(table)


@query_app.command("lineage")
def lineage(
    serial: str = typer.Argument(...),
    part_number: str | None = typer.Option(None, "--part-number"),
    data: Path | None = DataOption,
    as_user: str = AsOption,
) -> None:
    """A serial's parts tree across suppliers with its measurements / 序列号的装配谱系."""
    store = open_store(data)
    actor = acting(store, as_user)
    lin = store.lineage(actor, serial, part_number=part_number)
    m = lin.measurements
    pid = m.column("part_id").to_pylist()
    counts = {p: pid.count(p) for p in set(pid)}
    value = m.column("value").to_pylist()
    lo, hi = m.column("lower_limit").to_pylist(), m.column("upper_limit").to_pylist()
    bad: dict[int, int] = {}
    for p, v, a, b in zip(pid, value, lo, hi, strict=True):
        if (a is not None and v < a) or (b is not None and v > b):
            bad[p] = bad.get(p, 0) + 1
    trees = {}
    for n in lin.nodes:
        label = (f"{n.serial} [{n.enterprise}/{n.part_number}] — {counts.get(n.part_id, 0)} "
                 f"{t('values', '测量值')}, {bad.get(n.part_id, 0)} {t('out of spec', '超差')}")
        trees[n.part_id] = (trees[n.parent_part_id].add(label) if n.parent_part_id in trees else Tree(label))
    console.print(trees[lin.root.part_id])
    if lin.hidden_components:
        console.print(t(f"{lin.hidden_components} component(s) not shared with you",
                        f"{lin.hidden_components} 个零部件未向您共享"))


@query_app.command("chain")
def chain(
    instrument: str = typer.Argument(..., help="instrument code"),
    at: str | None = typer.Option(None, "--at", help="ISO time (default now)"),
    data: Path | None = DataOption,
    as_user: str = AsOption,
) -> None:
    """The calibration chain behind an instrument, up to the national standard / 溯源链."""
    store = open_store(data)
    actor = acting(store, as_user)
    inst = store.get_instrument(actor, code=instrument)
    ch = store.calibration_chain(actor, inst.id, _parse_time(at, "--at"))
    nodes = {n.instrument_id: n for n in ch.nodes}
    tree = Tree(f"{inst.code} {inst.name}")
    branches = {inst.id: tree}
    colours = {"ok": "green", "expired": "yellow", "out_of_tolerance": "red", "missing": "red", "cycle": "red"}
    for link in ch.links:
        parent = branches.get(link.instrument_id, tree)
        if link.standard_id is None:
            parent.add(f"[{colours[link.status]}]{link.status}[/] {link.certificate_no or ''}")
            continue
        std = nodes.get(link.standard_id)
        label = (f"[{colours[link.status]}]{link.status}[/] {link.certificate_no} "
                 f"U={link.expanded_uncertainty:g} {link.unit} (k={link.coverage_factor:g}) → "
                 f"{std.code if std else link.standard_id} {std.name if std else ''} ({std.kind if std else ''})")
        branches[link.standard_id] = parent.add(label)
    console.print(tree)
    console.print(t("chain unbroken to the national standard" if ch.unbroken else "chain BROKEN",
                    "溯源链完整至国家基准" if ch.unbroken else "溯源链断裂"))


@query_app.command("alarms")
def alarms(
    enterprise: str | None = typer.Option(None, "--enterprise"),
    open_only: bool = typer.Option(False, "--open", help="only alarms nobody acknowledged"),
    limit: int = typer.Option(50, "--limit"),
    data: Path | None = DataOption,
    as_user: str = AsOption,
) -> None:
    """Real-time SPC alarms, newest first / 实时 SPC 报警."""
    store = open_store(data)
    actor = acting(store, as_user)
    ent_id = store.get_enterprise(actor, code=enterprise).id if enterprise else None
    rows = store.alarms(actor, enterprise_id=ent_id, open_only=open_only, limit=limit)
    keys = {}
    table = Table(title=t("Alarms", "报警"))
    for col in ("#", t("raised", "时间"), t("characteristic", "特性"), t("serial", "序列号"), t("value", "测量值"),
                t("kind", "类型"), t("rule / detail", "准则 / 说明")):
        table.add_column(col)
    for a in rows:
        if a.characteristic_id not in keys:
            c = store.get_characteristic(actor, a.characteristic_id)
            keys[a.characteristic_id] = f"{store.get_product(actor, c.product_id).part_number}/{c.key}"
        table.add_row(str(a.id), a.raised_at.strftime("%Y-%m-%d %H:%M:%S"), keys[a.characteristic_id], a.serial or "",
                      f"{a.value:g}", a.kind, a.rule or a.detail or "")
    console.print(table)


@audit_app.command("verify")
def audit_verify(data: Path | None = DataOption) -> None:
    """Verify the hash-chained audit log; exit 1 if an entry was edited, inserted or deleted / 校验审计链."""
    store = open_store(data)
    report = store.verify_audit()
    if report.ok:
        console.print(t(f"audit chain intact: {report.entries} entries, head {report.head_hash[:16]}",
                        f"审计链完好：{report.entries} 条，链头 {report.head_hash[:16]}"))
        return
    for p in report.problems:
        console.print(f"[red]{p.kind}[/] #{p.seq}: {p.detail}")
    console.print(t("audit chain BROKEN", "审计链已被篡改"))
    raise typer.Exit(1)


def export(
    fmt: str = typer.Option("csv", "--format", "-f", help="csv, aqdef, qif ... (jingce calc list formats: see README)"),
    out: Path = typer.Option(..., "--out", "-o", help="file to write"),
    characteristic: str | None = typer.Option(None, "--characteristic", help="ENTERPRISE/PART_NUMBER/KEY"),
    enterprise: str | None = typer.Option(None, "--enterprise", help="enterprise code"),
    serial: str | None = typer.Option(None, "--serial"),
    start: str | None = typer.Option(None, "--from", help="ISO time (inclusive; UTC if no offset)"),
    end: str | None = typer.Option(None, "--to", help="ISO time (exclusive)"),
    data: Path | None = DataOption,
    as_user: str = AsOption,
) -> None:
    """Export measurements in any format with a writer / 导出测量数据."""
    from jingce.services.export import export_bytes

    store = open_store(data)
    actor = acting(store, as_user)
    filters: dict = {"start": _parse_time(start, "--from"), "end": _parse_time(end, "--to"), "serial": serial}
    if characteristic:
        parts = characteristic.split("/")
        if len(parts) != 3:
            raise InvalidInputError("expected ENTERPRISE/PART_NUMBER/KEY", field="--characteristic")
        filters["characteristic_id"] = store.find_characteristic(actor, *parts).id
    if enterprise:
        filters["enterprise_id"] = store.get_enterprise(actor, code=enterprise).id
    data_out = export_bytes(store, actor, fmt, **filters)
    out.write_bytes(data_out)
    console.print(t(f"wrote {out} ({len(data_out):,} bytes, {fmt})", f"已写入 {out}（{len(data_out):,} 字节，{fmt}）"))
