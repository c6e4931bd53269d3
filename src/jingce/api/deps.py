"""Request dependencies: the store, the settings, and the acting user (session cookie or bearer)."""

from __future__ import annotations

from fastapi import Depends, Request

from jingce.api.security import SESSION_COOKIE, csrf_token, read_token
from jingce.errors import AuthenticationError, NotFoundError, PermissionDeniedError
from jingce.store import Actor, Store

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def get_store(request: Request) -> Store:
    return request.app.state.store


def get_actor(request: Request, store: Store = Depends(get_store)) -> Actor:
    """The user of a bearer token, or of the session cookie (then state-changing requests need the
    CSRF token). Unknown or deleted users are refused."""
    key = request.app.state.secret
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        token, via_cookie = auth[7:].strip(), False
    else:
        token, via_cookie = request.cookies.get(SESSION_COOKIE, ""), True
    if not token:
        raise AuthenticationError("log in first (session cookie or bearer token)", field="authorization")
    uid, name = read_token(key, token)
    if via_cookie and request.method not in SAFE_METHODS:
        sent = request.headers.get("x-csrf-token") or request.state.__dict__.get("csrf_form")
        if sent != csrf_token(key, token):
            raise PermissionDeniedError("missing or wrong CSRF token", field="x-csrf-token")
    try:
        actor = store.actor(name)
    except NotFoundError:
        raise AuthenticationError("the account no longer exists", field="token") from None
    if actor.user_id != uid:
        raise AuthenticationError("invalid token", field="token")
    return actor
