"""The demo's sign-in accounts: one per role, all with the printed demo password.

Only for demo mode: ``jingce demo --serve`` sets these passwords so that a visitor can look at the
platform as each kind of user; ``jingce serve`` never does.
"""

from __future__ import annotations

from dataclasses import dataclass

from jingce.errors import NotFoundError
from jingce.model import Role, User
from jingce.services.demo.build import REGULATOR
from jingce.store import Store

DEMO_PASSWORD = "jingce-demo"
"""The password of every demo account (printed by ``make demo``)."""


@dataclass(frozen=True, slots=True)
class DemoAccount:
    role: Role
    username: str
    what_en: str
    what_zh: str


ACCOUNTS = (
    DemoAccount(Role.ADMIN, "admin", "platform administrator", "平台管理员"),
    DemoAccount(Role.REGULATOR, REGULATOR, "the region's market regulator", "市场监管部门"),
    DemoAccount(Role.ENTERPRISE_ADMIN, "ae-oem01", "aero-engine assembler (sees its suppliers' shared parts)",
                "航发总装厂（可见供应商共享的零件）"),
    DemoAccount(Role.ENTERPRISE_USER, "ae-oem01.engineer", "quality engineer at the aero-engine assembler",
                "航发总装厂质量工程师"),
    DemoAccount(Role.LAB, "lab01", "a calibration and testing lab", "计量检测实验室"),
)


def demo_accounts(store: Store, password_hash: str) -> tuple[DemoAccount, ...]:
    """Give each demo account ``password_hash`` (creating the engineer's account when missing)."""
    admin = store.bootstrap()
    names = {u.username: u for u in store.list_users(admin)}
    oem = names.get("ae-oem01")
    if oem is None:
        raise NotFoundError("the demo region is not built (no account ae-oem01)", field="username")
    for acc in ACCOUNTS:
        if acc.username not in names:
            store.add_user(admin, User(tenant_id=oem.tenant_id, username=acc.username, role=acc.role,
                                       display_name=acc.what_en), password_hash)
        else:
            store.set_password(admin, acc.username, password_hash)
    return ACCOUNTS
