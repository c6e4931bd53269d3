"""``jingce demo``: build the demo region and print the region's quality summary."""

from __future__ import annotations

import time
from pathlib import Path

import typer
from rich.table import Table

from jingce.cli.common import DataOption, console, open_store, progress
from jingce.cli.serve_cmd import HostOption, PortOption, serve_demo
from jingce.cli.text import t


def demo(
    data: Path | None = DataOption,
    seed: int = typer.Option(20261128, "--seed", help="same seed, same region"),
    scale: float = typer.Option(1.0, "--scale", help="fraction of the full demo (1.0: ~2.5 million values)"),
    serve: bool = typer.Option(False, "--serve", help="then run the service in demo mode / 然后以示例模式运行服务"),
    host: str = HostOption,
    port: int = PortOption,
) -> None:
    """Build the demo region (reused if there), print its quality summary and, with --serve, run the
    service / 构建示例地区、打印质量概况，加 --serve 则运行服务."""
    from jingce.services.demo.build import build_demo  # heavy imports only for this command
    from jingce.services.summary import quality_summary

    store = open_store(data)
    t0 = time.perf_counter()
    with progress() as bar:
        task = bar.add_task(t("demo region", "示例地区"), total=100)

        def step(msg: str, frac: float) -> None:
            bar.update(task, completed=int(frac * 100), description=msg)

        info = build_demo(store, seed=seed, scale=scale, progress=step)
        bar.update(task, completed=100)
    console.print(t(
        f"{'built' if info.created else 'reused'} the demo region in {store.settings.data_dir}: {info.enterprises} "
        f"enterprises, {info.characteristics} characteristics, {info.measurements:,} measurements, {info.labs} labs, "
        f"{info.instruments} instruments ({time.perf_counter() - t0:.0f} s)",
        f"示例地区{'已构建' if info.created else '已存在'}（{store.settings.data_dir}）：{info.enterprises} 家企业，"
        f"{info.characteristics} 个特性，{info.measurements:,} 个测量值，{info.labs} 个实验室，{info.instruments} 台器具"))
    admin = store.bootstrap()
    with progress() as bar:
        task = bar.add_task(t("quality summary", "质量概况"), total=info.enterprises)
        summary = quality_summary(store, admin, progress=lambda _e: bar.advance(task))
    print_summary(summary)
    if serve:
        store.close()
        serve_demo(store.settings, host, port)


def print_summary(summary) -> None:
    from jingce.services.summary import CPK_CLASSES

    classes = "/".join(c[0] for c in CPK_CLASSES)
    for chain, rows in summary.chains().items():
        table = Table(title=f"{t('industry chain', '产业链')}: {chain}")
        for col in (t("enterprise", "企业"), t("chars", "特性"), t("values", "测量值"), t("ppm out", "超差ppm"),
                    f"Cpk {classes}", t("alarms", "报警")):
            table.add_column(col, justify="right", overflow="fold")
        for r in rows:
            table.add_row(f"{r.code} {r.name}", str(r.characteristics), f"{r.values:,}", f"{r.out_of_spec_ppm:,.0f}",
                          " / ".join(str(c) for c in r.cpk_classes), str(r.with_alarms))
        console.print(table)
    worst = summary.worst(10)
    table = Table(title=t("Least capable characteristics", "能力最差的特性"))
    for col in (t("characteristic", "特性"), "n", "LSL", "USL", "Cpk [95% CI]", t("alarms", "报警")):
        table.add_column(col, justify="right", overflow="fold")
    for r in worst.to_pylist():
        table.add_row(r["characteristic"], str(r["n_values"]), f"{r['lower_limit']:.6g}", f"{r['upper_limit']:.6g}",
                      f"{r['cpk']:.2f} [{r['cpk_lo']:.2f}, {r['cpk_hi']:.2f}]", str(r["alarms"]))
    console.print(table)
