"""Entry point of the ``jingce`` command."""

from __future__ import annotations

import sys

import typer
from rich.console import Console

from jingce.cli import calc, demo_cmd, store_cmds
from jingce.errors import JingceError

app = typer.Typer(
    help="精测 jingce — open industrial measurement system / 开放的工业测量体系",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(calc.app, name="calc")
app.command("init")(store_cmds.init)
app.command("ingest")(store_cmds.ingest)
app.add_typer(store_cmds.query_app, name="query")
app.add_typer(store_cmds.audit_app, name="audit")
app.command("demo")(demo_cmd.demo)


def main() -> None:
    """Run the CLI; a :class:`JingceError` prints in Chinese and English and exits with status 2."""
    try:
        app()
    except JingceError as exc:
        Console(stderr=True).print(f"[bold red]错误 / Error:[/] {exc.bilingual()}", highlight=False)
        sys.exit(2)


if __name__ == "__main__":
    main()
