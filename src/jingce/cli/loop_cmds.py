"""``jingce machine`` and ``jingce loop``: machines, axes and the error-compensation loop."""

from __future__ import annotations

from pathlib import Path

import typer
import yaml
from rich.table import Table

from jingce.cli.common import AsOption, DataOption, acting, console, open_store
from jingce.cli.text import t
from jingce.errors import InvalidInputError
from jingce.model.machine import Machine, MachineAxis

machine_app = typer.Typer(help="Machines and axes / 机床与轴", no_args_is_help=True)
loop_app = typer.Typer(help="Measure -> compensate -> verify loop of an axis (ISO 230-2) / 误差补偿迭代",
                       no_args_is_help=True)


@machine_app.command("add")
def machine_add(
    enterprise: str = typer.Argument(..., help="enterprise code"),
    code: str = typer.Argument(..., help="machine code"),
    name: str = typer.Option(..., "--name"),
    controller: str | None = typer.Option(None, "--controller", help="e.g. 'SINUMERIK 840D sl'"),
    axes: str = typer.Option("X,Y,Z", "--axes", help="axis names; rotary axes A, B, C are rotary"),
    data: Path | None = DataOption,
    as_user: str = AsOption,
) -> None:
    """Register a machine and its axes / 登记机床及其轴."""
    store = open_store(data)
    actor = acting(store, as_user)
    ent = store.get_enterprise(actor, code=enterprise)
    m = store.add_machine(actor, Machine(enterprise_id=ent.id, code=code, name=name, controller=controller))
    for ax in [a.strip() for a in axes.split(",") if a.strip()]:
        rotary = ax[0] in "ABC"
        store.add_axis(actor, MachineAxis(machine_id=m.id, name=ax, kind="rotary" if rotary else "linear",
                                          unit="degree" if rotary else "mm"))
    console.print(t(f"machine {code} with axes {axes}", f"机床 {code}，轴 {axes}"))


def _axis(store, actor, ref: str):
    parts = ref.split("/")
    if len(parts) != 3:
        raise InvalidInputError("expected ENTERPRISE/MACHINE/AXIS", field="axis")
    return store.find_axis(actor, *parts)


def _print(it) -> None:
    colour = "green" if it.decision == "compensate" else "yellow"
    console.print(f"[bold]#{it.iteration}[/] E={it.E:.6g} M={it.M:.6g} A={it.A:.6g} U={it.uncertainty:.3g}  "
                  f"[{colour}]{it.decision}[/]: {t(it.reason_en, it.reason_zh)}")


@loop_app.command("test")
def loop_test(
    axis: str = typer.Argument(..., help="ENTERPRISE/MACHINE/AXIS"),
    input: Path = typer.Argument(..., help="YAML/JSON with targets, up, down (actual positions, runs x targets)"),
    uncertainty: float = typer.Option(..., "--uncertainty", "-U", help="expanded uncertainty U (k=2) of E"),
    compensated: bool = typer.Option(False, "--compensated", help="the latest table was loaded during the test"),
    spacing: float | None = typer.Option(None, "--spacing", help="interpolation spacing of a new table"),
    data: Path | None = DataOption,
    as_user: str = AsOption,
) -> None:
    """Submit a positioning test; get the next table or the reason to stop / 提交定位测试."""
    from jingce.services.compensation_loop import submit_test

    store = open_store(data)
    actor = acting(store, as_user)
    ax = _axis(store, actor, axis)
    try:
        doc = yaml.safe_load(input.read_text(encoding="utf-8"))
        targets, up, down = doc["targets"], doc["up"], doc["down"]
    except (OSError, yaml.YAMLError, KeyError, TypeError) as exc:
        raise InvalidInputError(f"needs targets, up and down ({exc})", file=str(input)) from None
    it = submit_test(store, actor, ax.id, targets, up, down, uncertainty=uncertainty, compensated=compensated,
                     spacing=spacing)
    _print(it)


@loop_app.command("status")
def loop_status(
    axis: str = typer.Argument(..., help="ENTERPRISE/MACHINE/AXIS"),
    plot: Path | None = typer.Option(None, "--plot", help="draw the error per iteration (.png/.svg)"),
    data: Path | None = DataOption,
    as_user: str = AsOption,
) -> None:
    """Every iteration of an axis's loop with its error and decision / 迭代历史."""
    from jingce.services.compensation_loop import history

    store = open_store(data)
    actor = acting(store, as_user)
    ax = _axis(store, actor, axis)
    its = history(store, actor, ax.id)
    table = Table(title=f"{axis} ({ax.unit})")
    for col in ("#", t("table loaded", "已加载补偿表"), "E", "M", "A", "U", t("decision", "决定")):
        table.add_column(col, justify="right")
    for i in its:
        table.add_row(str(i.iteration), "-" if i.compensated_with is None else str(i.compensated_with),
                      f"{i.E:.6g}", f"{i.M:.6g}", f"{i.A:.6g}", f"{i.uncertainty:.3g}", i.decision)
    console.print(table)
    if its:
        console.print(t(its[-1].reason_en, its[-1].reason_zh))
    if plot and its:
        from jingce.charts.loop import plot_iterations

        plot_iterations(its, str(plot), unit=ax.unit, title=axis)


@loop_app.command("table")
def loop_table(
    axis: str = typer.Argument(..., help="ENTERPRISE/MACHINE/AXIS"),
    fmt: str = typer.Option("sinumerik", "--format", "-f", help="sinumerik | csv | json"),
    out: Path | None = typer.Option(None, "--out", "-o"),
    data: Path | None = DataOption,
    as_user: str = AsOption,
) -> None:
    """The latest compensation table, for the controller / 当前补偿表."""
    from jingce.services.compensation_loop import current_table

    store = open_store(data)
    actor = acting(store, as_user)
    text = current_table(store, actor, _axis(store, actor, axis).id, fmt)
    if out:
        out.write_text(text, encoding="utf-8")
    else:
        typer.echo(text)

