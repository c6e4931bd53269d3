"""What the CLI commands share: settings, the store, the acting user, Rich output."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from jingce.settings import Settings
from jingce.store import Actor, Store


class _Console:
    """Rich console made when first printed to, per command, so it sees the terminal (or the
    ``COLUMNS`` of a test runner) of the command being run."""

    def __getattr__(self, name):
        return getattr(Console(), name)


console = _Console()

DataOption = typer.Option(None, "--data", "-d", help="data folder (default $JINGCE_DATA or ./jingce-data) / 数据目录")
AsOption = typer.Option("admin", "--as", help="act as this user (default: the local admin) / 以该用户身份")


def settings_for(data: Path | None) -> Settings:
    return Settings.from_env(data_dir=data) if data is not None else Settings.from_env()


def open_store(data: Path | None) -> Store:
    return Store.open(settings_for(data))


def acting(store: Store, username: str) -> Actor:
    admin = store.bootstrap()
    return admin if username == "admin" else store.actor(username)


def progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=Console(), transient=False)
