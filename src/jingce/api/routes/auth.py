"""Log in and out; who am I."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field

from jingce.api.deps import get_actor, get_store
from jingce.api.security import SESSION_COOKIE, csrf_token, issue_token, verify_password
from jingce.errors import AuthenticationError, NotFoundError
from jingce.store import Actor, Store

router = APIRouter(tags=["auth"])
SESSION_TTL = 12 * 3600


class LoginIn(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class UserPublic(BaseModel):
    id: int | None
    username: str
    tenant_id: int
    role: str


class LoginOut(BaseModel):
    token: str
    csrf: str
    user: UserPublic


def _public(a: Actor) -> UserPublic:
    return UserPublic(id=a.user_id, username=a.username, tenant_id=a.tenant_id, role=a.role.value)


@router.post("/auth/login", response_model=LoginOut)
def login(body: LoginIn, request: Request, response: Response, store: Store = Depends(get_store)) -> LoginOut:
    """Check the password (rate-limited per user and per client); set the session cookie and
    return a bearer token and the CSRF token for forms."""
    limiter = request.app.state.login_limiter
    client = request.client.host if request.client else "-"
    limiter.check(body.username, client)
    try:
        actor = store.actor(body.username)
        ok = verify_password(store.password_hash(body.username), body.password)
    except NotFoundError:
        actor, ok = None, verify_password(None, body.password)
    if not ok or actor is None:
        limiter.failed(body.username, client)
        raise AuthenticationError("wrong user name or password", field="password")
    limiter.succeeded(body.username)
    key = request.app.state.secret
    token = issue_token(key, actor.user_id, actor.username, SESSION_TTL)
    response.set_cookie(SESSION_COOKIE, token, max_age=SESSION_TTL, httponly=True, samesite="lax",
                        secure=request.url.scheme == "https")
    return LoginOut(token=token, csrf=csrf_token(key, token), user=_public(actor))


@router.post("/auth/logout", status_code=204)
def logout(response: Response) -> Response:
    response.delete_cookie(SESSION_COOKIE)
    response.status_code = 204
    return response


@router.get("/auth/me", response_model=UserPublic)
def me(actor: Actor = Depends(get_actor)) -> UserPublic:
    return _public(actor)
