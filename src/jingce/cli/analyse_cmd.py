"""``jingce analyse``: the region's batch analyses on the local or the Spark engine, and the region
quality view read from the summaries they keep."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import typer
from rich.table import Table

from jingce.cli.common import AsOption, DataOption, acting, console, open_store, progress, settings_for
from jingce.cli.text import t
from jingce.errors import InvalidInputError

analyse_app = typer.Typer(help="region batch analyses and summaries / 地区批量分析与汇总", no_args_is_help=True)

EngineOption = typer.Option(None, "--engine", "-e",
                            help="local | local[N] | spark://host:7077 | yarn | k8s://... (default $JINGCE_ENGINE or "
                                 "local) / 计算引擎")


def _engine(spec: str | None, data: Path | None, conf: list[str], partitions: int | None, plan: str | None = None):
    from jingce.engine import engine_kind, open_engine

    spec = spec or settings_for(data).engine
    options = {}
    if engine_kind(spec) == "spark":
        pairs = {}
        for item in conf:
            key, sep, value = item.partition("=")
            if not sep or not key:
                raise InvalidInputError(f"expected KEY=VALUE, got {item!r}", field="--conf")
            pairs[key.strip()] = value.strip()
        options = {"conf": pairs, "partitions": partitions} | ({"plan": plan} if plan else {})
    elif conf or partitions or plan:
        raise InvalidInputError("--conf, --partitions and --plan apply to the Spark engine only", field="--engine")
    return open_engine(spec, **options)


def _enterprise_ids(store, actor, codes: list[str]) -> list[int] | None:
    if not codes:
        return None
    return [store.get_enterprise(actor, code=c).id for c in codes]


@analyse_app.command("region")
def region(
    data: Path | None = DataOption,
    engine: str | None = EngineOption,
    enterprise: list[str] = typer.Option([], "--enterprise", help="only these enterprises (codes) / 仅这些企业"),
    subgroup_size: int = typer.Option(5, "--subgroup-size", help="values per subgroup (1: individuals) / 子组大小"),
    rules: str = typer.Option("nelson", "--rules", help="nelson | western_electric | none / 判异规则"),
    partitions: int | None = typer.Option(None, "--partitions", help="Spark shuffle partitions / Spark 分区数"),
    conf: list[str] = typer.Option([], "--conf", help="Spark setting KEY=VALUE (repeatable) / Spark 配置"),
    plan: str | None = typer.Option(None, "--plan", help="Spark plan: files (default: no shuffle; the lake at the same path on "
                                    "every executor), packed or rows (shuffled through Spark) / Spark 执行方式"),
    username: str = AsOption,
    show: bool = typer.Option(True, "--show/--no-show", help="print the region view afterwards / 完成后打印地区概况"),
) -> None:
    """Run the region's batch analyses and write results beside the lake / 运行地区批量分析并写回数据湖与登记库."""
    from jingce.engine import AnalysisParams
    from jingce.services.region import analyse_region, region_view

    store = open_store(data)
    actor = acting(store, username)
    ids = _enterprise_ids(store, actor, enterprise)
    params = AnalysisParams(subgroup_size=subgroup_size, rules=rules)
    eng = _engine(engine, data, conf, partitions, plan)
    t0 = time.perf_counter()
    try:
        with progress() as bar:
            unit = t("enterprises", "企业") if eng.supports("enterprise_progress") else t("tasks", "任务")
            task = bar.add_task(f"{t('batch analyses', '批量分析')} ({eng!r}, {unit})", total=None)

            def step(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            run = analyse_region(store, actor, eng, params=params, enterprise_ids=ids, progress=step)
    finally:
        eng.close()
    n_files = len(store.summary_files(actor, "daily")) + len(store.summary_files(actor, "subgroup")) + len(
        store.summary_files(actor, "characteristic"))
    console.print(t(
        f"analysis run {run.id} ({run.engine}): {run.n_values or 0:,} values summarised in "
        f"{time.perf_counter() - t0:.1f} s; {n_files} summary files active",
        f"分析批次 {run.id}（{run.engine}）：汇总 {run.n_values or 0:,} 个测量值，用时 {time.perf_counter() - t0:.1f} 秒；"
        f"有效汇总文件 {n_files} 个"))
    if show:
        from jingce.cli.demo_cmd import print_summary

        print_summary(region_view(store, actor))


@analyse_app.command("view")
def view(
    data: Path | None = DataOption,
    start: str | None = typer.Option(None, "--from", help="first local day YYYY-MM-DD / 起始日期"),
    end: str | None = typer.Option(None, "--to", help="day after the last YYYY-MM-DD / 截止日期（不含）"),
    username: str = AsOption,
) -> None:
    """The region's quality for a period, from the summaries / 由汇总读取某期间的地区质量概况."""
    from jingce.cli.demo_cmd import print_summary
    from jingce.services.region import region_view

    def day(text: str | None, name: str) -> dt.date | None:
        if text is None:
            return None
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            raise InvalidInputError(f"expected a date YYYY-MM-DD, got {text!r}", field=name) from None

    store = open_store(data)
    actor = acting(store, username)
    v = region_view(store, actor, start=day(start, "--from"), end=day(end, "--to"))
    if v.per_characteristic.num_rows == 0:
        console.print(t("no summaries yet: run `jingce analyse region` first",
                        "尚无汇总：请先运行 `jingce analyse region`"))
        return
    print_summary(v)


@analyse_app.command("impact")
def impact(
    data: Path | None = DataOption,
    engine: str | None = EngineOption,
    username: str = AsOption,
    limit: int = typer.Option(20, "--limit", help="rows to print / 打印行数"),
    calibration: int | None = typer.Option(None, "--calibration", min=1,
                                           help="report the impact of this out-of-tolerance calibration (stored, "
                                                "tenants notified) / 评估该次超差校准的影响（保存报告并通知）"),
) -> None:
    """Values measured with instruments found out of tolerance or used after their calibration
    expired; with --calibration, the full out-of-tolerance impact report of one calibration /
    查找使用超差或过期器具测得的测量值；指定 --calibration 时生成该次超差校准的影响报告."""
    from jingce.services.impact import impact_report, impact_scan

    store = open_store(data)
    actor = acting(store, username)
    eng = _engine(engine, data, [], None)
    try:
        if calibration is not None:
            rep = impact_report(store, actor, eng, calibration)
            _print_impact_report(rep, limit)
            return
        hits = impact_scan(store, actor, eng)
    finally:
        eng.close()
    if hits.num_rows == 0:
        console.print(t("no values measured with suspect instruments", "没有使用可疑器具测得的测量值"))
        return
    table = Table(title=t("Values measured with suspect instruments", "可疑器具测得的测量值"))
    for col in (t("reason", "原因"), t("instrument", "器具"), t("characteristic", "特性"), t("values", "测量值"),
                t("at risk", "存疑"), t("out of spec", "超差"), t("serials", "序列号")):
        table.add_column(col, overflow="fold")
    for r in hits.sort_by([("n_at_risk", "descending"), ("n_values", "descending")]).slice(0, limit).to_pylist():
        table.add_row(t(r["reason"], {"out_of_tolerance": "器具超差", "expired": "校准过期"}[r["reason"]]),
                      r["instrument"], str(r["characteristic_id"]), str(r["n_values"]), str(r["n_at_risk"]),
                      str(r["n_out_of_spec"]), str(len(r["serials"])))
    console.print(table)
    console.print(t(f"{hits.num_rows} (window, characteristic) pairs, {sum(hits.column('n_values').to_pylist()):,} "
                    "values in all", f"共 {hits.num_rows} 组（时段、特性），{sum(hits.column('n_values').to_pylist()):,} 个测量值"))


def _print_impact_report(rep, limit: int) -> None:
    s = rep.summary
    tot = s["totals"]
    console.print(t(f"Impact report {rep.id}: {s['instrument']} certificate {s['certificate_no']} ({s['result']}, "
                    f"error as found {s['error_as_found']} {s['unit']}), suspect since {s['window_start'][:10]}",
                    f"影响报告 {rep.id}：{s['instrument']} 证书 {s['certificate_no']}（{s['result']}，校准前误差 "
                    f"{s['error_as_found']} {s['unit']}），可疑时段自 {s['window_start'][:10]}"))
    table = Table(title=t("Affected enterprises", "受影响企业"))
    for col in (t("enterprise", "企业"), t("values", "测量值"), t("parts", "零件"), t("assemblies", "装配件"),
                t("accepted", "原判合格"), t("doubtful", "存疑"), t("max PFA", "最大误判接受概率")):
        table.add_column(col)
    for e in s["enterprises"][:limit]:
        table.add_row(e["code"], str(e["measurements"]), str(e["parts"]), str(e["assemblies"]), str(e["accepted"]),
                      str(e["doubtful"]), "—" if e["max_pfa"] is None else f"{e['max_pfa']:.4f}")
    console.print(table)
    console.print(t(f"{tot['instruments']} instruments, {tot['measurements']:,} values, {tot['parts']:,} parts, "
                    f"{tot['assemblies']:,} assemblies, {tot['doubtful']:,} decisions now doubtful (PFA > "
                    f"{s['pfa_threshold']:.0%}); {len(s['tenants'])} tenants notified",
                    f"{tot['instruments']} 台器具，{tot['measurements']:,} 个测量值，{tot['parts']:,} 个零件，"
                    f"{tot['assemblies']:,} 个装配件，{tot['doubtful']:,} 个结论存疑（误判接受概率 > "
                    f"{s['pfa_threshold']:.0%}）；已通知 {len(s['tenants'])} 个租户"))


@analyse_app.command("runs")
def runs(data: Path | None = DataOption, username: str = AsOption,
         limit: int = typer.Option(20, "--limit")) -> None:
    """The latest analysis runs / 最近的分析批次."""
    store = open_store(data)
    actor = acting(store, username)
    table = Table(title=t("Analysis runs", "分析批次"))
    for col in ("id", t("engine", "引擎"), t("status", "状态"), t("values", "测量值"), t("started", "开始"),
                t("seconds", "秒")):
        table.add_column(col)
    for r in store.analysis_runs(actor, limit=limit):
        secs = (r.finished_at - r.started_at).total_seconds() if r.finished_at else float("nan")
        table.add_row(str(r.id), r.engine, r.status, f"{r.n_values or 0:,}", r.started_at.isoformat(timespec="seconds"),
                      f"{secs:.1f}")
    console.print(table)
