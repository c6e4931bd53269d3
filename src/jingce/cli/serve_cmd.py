"""``jingce serve`` (real use) and the service part of ``jingce demo --serve``; ``jingce user``."""

from __future__ import annotations

import getpass
from pathlib import Path

import typer
from rich.table import Table

from jingce.cli.common import AsOption, DataOption, acting, console, open_store, progress, settings_for
from jingce.cli.text import t
from jingce.errors import InvalidInputError
from jingce.settings import Settings

HostOption = typer.Option("127.0.0.1", "--host", help="address to listen on / 监听地址")
PortOption = typer.Option(8000, "--port", help="port / 端口")


def run_service(settings: Settings, host: str, port: int, store=None) -> None:
    """Serve the API and the web pages with uvicorn until interrupted."""
    import uvicorn

    from jingce.web import create_service

    app = create_service(settings, store=store)
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)


def serve(data: Path | None = DataOption, host: str = HostOption, port: int = PortOption) -> None:
    """Run the service from ``JINGCE_*`` settings (secret key required) / 按 JINGCE_* 配置运行服务."""
    from jingce.api.security import DEMO_SECRET, secret_key

    settings = settings_for(data)
    if settings.demo or settings.secret_key == DEMO_SECRET:
        raise InvalidInputError("demo mode and the demo secret are for `jingce demo --serve` only",
                                field="JINGCE_DEMO" if settings.demo else "JINGCE_SECRET_KEY")
    secret_key(settings)  # refuses a missing or short key before anything starts
    console.print(t(f"jingce serves on http://{host}:{port}/ (data {settings.data_dir}, registry "
                    f"{settings.db_url.split('@')[-1]})",
                    f"精测服务运行于 http://{host}:{port}/（数据 {settings.data_dir}）"))
    run_service(settings, host, port)


def serve_demo(settings: Settings, host: str, port: int) -> None:
    """Give the demo accounts their password, print them, and serve in demo mode."""
    from dataclasses import replace

    from jingce.api.security import hash_password
    from jingce.services.demo.accounts import DEMO_PASSWORD, demo_accounts
    from jingce.store import Store

    settings = replace(settings, demo=True)
    store = Store.open(settings)
    accounts = demo_accounts(store, hash_password(DEMO_PASSWORD))
    admin = store.bootstrap()
    if not store.analysis_runs(admin):  # the regulator's views read the region's summaries
        from jingce.engine.local import LocalEngine
        from jingce.services.region import analyse_region

        with progress() as bar:
            task = bar.add_task(t("region summaries", "地区汇总"), total=None)
            analyse_region(store, admin, LocalEngine(),
                           progress=lambda done, total: bar.update(task, completed=done, total=total))
    table = Table(title=t("Demo accounts (password: ", "示例账号（密码：") + DEMO_PASSWORD + t(")", "）"))
    for col in (t("role", "角色"), t("user", "用户名"), t("who", "身份")):
        table.add_column(col)
    for a in accounts:
        table.add_row(a.role.value, a.username, t(a.what_en, a.what_zh))
    console.print(table)
    console.print(t(f"jingce demo service: http://{host}:{port}/  (Ctrl+C stops it)",
                    f"精测示例服务：http://{host}:{port}/（Ctrl+C 停止）"), style="bold green")
    run_service(settings, host, port, store=store)


user_app = typer.Typer(help="accounts / 账号", no_args_is_help=True)


def _ask_password() -> str:
    first = getpass.getpass(t("password: ", "密码："))
    if first != getpass.getpass(t("again: ", "再输入一次：")):
        raise InvalidInputError("the two passwords differ", field="password")
    return first


@user_app.command("add")
def user_add(
    username: str = typer.Argument(..., help="user name / 用户名"),
    tenant: str = typer.Option(..., "--tenant", help="tenant code / 租户代码"),
    role: str = typer.Option("enterprise_user", "--role",
                             help="enterprise_user, enterprise_admin, lab, regulator or admin"),
    data: Path | None = DataOption,
    as_user: str = AsOption,
) -> None:
    """Create an account; the password is asked for / 新建账号（提示输入密码）."""
    from jingce.api.security import hash_password
    from jingce.model import Role, User

    store = open_store(data)
    actor = acting(store, as_user)
    try:
        role_ = Role(role)
    except ValueError:
        raise InvalidInputError(f"unknown role {role!r}", field="--role") from None
    ten = store.get_tenant(actor, tenant)
    store.add_user(actor, User(tenant_id=ten.id, username=username, role=role_), hash_password(_ask_password()))
    console.print(t(f"created {username} ({role_.value}) in {tenant}", f"已创建 {username}（{role_.value}，{tenant}）"))


@user_app.command("passwd")
def user_passwd(username: str = typer.Argument(...), data: Path | None = DataOption, as_user: str = AsOption) -> None:
    """Set an account's password / 设置账号密码."""
    from jingce.api.security import hash_password

    store = open_store(data)
    store.set_password(acting(store, as_user), username, hash_password(_ask_password()))
    console.print(t(f"password of {username} set", f"已设置 {username} 的密码"))
