"""Who is looking at a page: the session cookie, roles per page, and the login form's CSRF token.

The pages share the API's session cookie (HttpOnly, SameSite=Lax, signed token) and its CSRF
derivation. Before login there is no session to derive a CSRF token from, so the login form
carries one derived from a random nonce kept in a short-lived HttpOnly cookie (double submit,
signed with the app's key).
"""

from __future__ import annotations

import hmac
import secrets

from fastapi import Request

from jingce.api.security import SESSION_COOKIE, csrf_token, read_token
from jingce.errors import AuthenticationError, JingceError, NotFoundError, PermissionDeniedError
from jingce.model import Role
from jingce.store import Actor

LOGIN_NONCE_COOKIE = "jingce_login_nonce"

ENTERPRISE_ROLES = frozenset({Role.ENTERPRISE_USER, Role.ENTERPRISE_ADMIN})
ALL_ROLES = frozenset(Role)
PAGE_ROLES: dict[str, frozenset[Role]] = {
    "dashboard": ENTERPRISE_ROLES | {Role.ADMIN},
    "chart": ENTERPRISE_ROLES | {Role.ADMIN},
    "parts": ENTERPRISE_ROLES | {Role.ADMIN},
    "instruments": ALL_ROLES,
    "labs": ALL_ROLES,
    "region": frozenset({Role.REGULATOR, Role.ADMIN}),
    "supervision": frozenset({Role.REGULATOR, Role.LAB, Role.ADMIN}),
    "market": ENTERPRISE_ROLES | {Role.LAB, Role.REGULATOR, Role.ADMIN},
    "planner": ENTERPRISE_ROLES | {Role.ADMIN},
    "calibration": ALL_ROLES,
    "quality": ENTERPRISE_ROLES | {Role.REGULATOR, Role.ADMIN},
    "notifications": ALL_ROLES,
}
"""Which roles may open which page; the navigation shows exactly these."""

NAV: tuple[tuple[str, str, str], ...] = (
    ("dashboard", "/dashboard", "nav.dashboard"),
    ("region", "/region", "nav.region"),
    ("parts", "/parts", "nav.parts"),
    ("instruments", "/instruments", "nav.instruments"),
    ("labs", "/labs", "nav.labs"),
    ("supervision", "/supervision", "nav.supervision"),
    ("market", "/market", "nav.market"),
    ("planner", "/planner", "nav.planner"),
    ("calibration", "/calibration", "nav.calibration"),
    ("quality", "/quality", "nav.quality"),
    ("notifications", "/notifications", "nav.notifications"),
)


class LoginRequired(Exception):
    """No valid session: the page handler turns this into a redirect to the login form."""


def page_actor(request: Request) -> Actor:
    """The actor of the session cookie, or :class:`LoginRequired`."""
    token = request.cookies.get(SESSION_COOKIE, "")
    if not token:
        raise LoginRequired
    try:
        uid, name = read_token(request.app.state.secret, token)
        actor = request.app.state.store.actor(name)
    except (AuthenticationError, NotFoundError):
        raise LoginRequired from None
    if actor.user_id != uid:
        raise LoginRequired
    return actor


def require(request: Request, page: str) -> Actor:
    """The session's actor if its role may open ``page``; otherwise 403 (or the login redirect)."""
    actor = page_actor(request)
    if actor.role not in PAGE_ROLES[page]:
        raise PermissionDeniedError(f"the role {actor.role.value!r} may not open this page", field="role")
    return actor


def nav_for(actor: Actor) -> list[tuple[str, str, str]]:
    return [item for item in NAV if actor.role in PAGE_ROLES[item[0]]]


def home_for(actor: Actor) -> str:
    return {Role.REGULATOR: "/region", Role.ADMIN: "/region", Role.LAB: "/instruments"}.get(actor.role, "/dashboard")


def session_csrf(request: Request) -> str:
    """The CSRF token of the current session (for the logout form and the pages' scripts)."""
    return csrf_token(request.app.state.secret, request.cookies.get(SESSION_COOKIE, ""))


def login_nonce(request: Request) -> str:
    nonce = request.cookies.get(LOGIN_NONCE_COOKIE, "")
    return nonce if len(nonce) == 32 and nonce.isalnum() else secrets.token_hex(16)


def login_csrf(request: Request, nonce: str) -> str:
    return csrf_token(request.app.state.secret, "login:" + nonce)


def check_csrf(expected: str, sent: str | None) -> None:
    if not sent or not expected or not hmac.compare_digest(expected, sent):
        raise PermissionDeniedError("missing or wrong CSRF token", field="csrf")


def safe_next(target: str | None) -> str | None:
    """Only same-site paths may be redirected to after login (no open redirect)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return None


def message(exc: JingceError, lang: str) -> str:
    return exc.to_dict()["error"]["message_zh"] if lang == "zh" else str(exc)
