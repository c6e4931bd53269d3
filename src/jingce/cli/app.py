"""Entry point of the ``jingce`` command."""

from __future__ import annotations

import typer
from rich.console import Console
from typer.core import TyperGroup

from jingce.cli import analyse_cmd, calc, cert_cmds, collect_cmds, demo_cmd, loop_cmds, serve_cmd, store_cmds
from jingce.errors import JingceError


class _Group(TyperGroup):
    """Reports a :class:`JingceError` in Chinese and English and exits with status 2."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except JingceError as exc:
            Console(stderr=True).print(f"[bold red]错误 / Error:[/] {exc.bilingual()}", highlight=False)
            ctx.exit(2)


app = typer.Typer(
    cls=_Group,
    help="精测 jingce — open industrial measurement system / 开放的工业测量体系",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(calc.app, name="calc")
app.command("init")(store_cmds.init)
app.command("ingest")(store_cmds.ingest)
app.command("export")(store_cmds.export)
app.add_typer(store_cmds.query_app, name="query")
app.add_typer(store_cmds.audit_app, name="audit")
app.command("demo")(demo_cmd.demo)
app.command("serve")(serve_cmd.serve)
app.add_typer(serve_cmd.user_app, name="user")
app.add_typer(loop_cmds.machine_app, name="machine")
app.add_typer(loop_cmds.loop_app, name="loop")
app.add_typer(collect_cmds.collect_app, name="collect")
app.add_typer(cert_cmds.cert_app, name="cert")
app.add_typer(analyse_cmd.analyse_app, name="analyse")


def main() -> None:
    """Run the CLI."""
    app()


if __name__ == "__main__":
    main()
