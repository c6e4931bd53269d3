"""``jingce calc``: run any registered kernel calculation on JSON or YAML input."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer
import yaml
from rich.console import Console
from rich.table import Table

from jingce.cli.text import t
from jingce.errors import InvalidInputError
from jingce.services import calculations
from jingce.services.calculations.serialize import to_jsonable

app = typer.Typer(help="Run a calculation on JSON/YAML input / 对 JSON/YAML 输入运行计算", no_args_is_help=True)


def _read_input(path: str) -> dict:
    text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    try:
        data = yaml.safe_load(text)  # YAML is a superset of JSON
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise InvalidInputError(
            f"not valid JSON or YAML: {getattr(exc, 'problem', exc)}",
            file=path,
            line=(mark.line + 1) if mark else None,
        ) from None
    if not isinstance(data, dict):
        raise InvalidInputError("the input must be a mapping of argument names to values", file=path)
    return data


@app.command("list")
def list_() -> None:
    """List the calculations / 列出所有计算."""
    table = Table(title=t("Calculations", "计算"))
    table.add_column(t("name", "名称"))
    table.add_column(t("what it does", "说明"))
    for name, calc in sorted(calculations.load_all().items()):
        table.add_row(name, t(calc.summary_en, calc.summary_zh))
    Console().print(table)


@app.command("run")
def run(
    name: str = typer.Argument(..., help="calculation name, e.g. spc.xbar_r"),
    input: str = typer.Argument("-", help="JSON or YAML file with the inputs ('-' for stdin)"),
    output: Path | None = typer.Option(None, "--out", "-o", help="write the result here (.json or .yaml)"),
    fmt: str = typer.Option("json", "--format", "-f", help="json or yaml"),
    plot: Path | None = typer.Option(None, "--plot", help="draw the result as PNG or SVG"),
    example: bool = typer.Option(False, "--example", help="print an example input and stop"),
) -> None:
    """Run one calculation / 运行一个计算."""
    calc = calculations.get(name)
    if example:
        typer.echo(json.dumps(to_jsonable(calc.example or {}), indent=2, ensure_ascii=False))
        return
    result = calc(_read_input(input))
    data = to_jsonable(result)
    if fmt == "yaml" or (output and output.suffix in (".yaml", ".yml")):
        text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    else:
        text = json.dumps(data, indent=2, ensure_ascii=False)
    if output:
        output.write_text(text, encoding="utf-8")
    else:
        typer.echo(text)
    if plot:
        if calc.plot is None:
            raise InvalidInputError(f"calculation {name} has no picture", argument="--plot")
        calc.plot(result, str(plot))
