"""Parameters and checks shared by the routers: bounded ids, role checks, request-model base."""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated

from fastapi import Path, Query
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from jingce.errors import PermissionDeniedError
from jingce.model import Role
from jingce.model.units import parse_unit
from jingce.store import Actor

MAX_ID = 2_147_483_647
"""Ids are 32-bit database integers; larger ones cannot exist (and must not reach the driver)."""

Id = Annotated[int, Path(ge=1, le=MAX_ID)]
OptionalId = Annotated[int | None, Query(ge=1, le=MAX_ID)]


class RequestModel(BaseModel):
    """A request body: unknown fields are refused, numbers must be finite, strings are stripped."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, str_strip_whitespace=True)


def require_role(actor: Actor, *roles: Role) -> None:
    """The admin may do anything; others need one of ``roles`` (else 403, before any id is read,
    so the answer says nothing about other tenants' ids)."""
    if not actor.is_admin and actor.role not in roles:
        allowed = ", ".join(r.value for r in (*roles, Role.ADMIN))
        raise PermissionDeniedError(f"role {actor.role.value} may not do this (needs {allowed})", field="role")


@lru_cache(maxsize=4096)
def check_unit(v: str) -> str:
    try:
        parse_unit(v)
    except Exception:  # noqa: BLE001 - pint raises more than ValueError (tokenize errors) on odd strings
        raise ValueError(f"unknown unit {v!r}") from None
    return v


UnitStr = Annotated[str, Field(min_length=1, max_length=32), AfterValidator(check_unit)]
"""A unit pint knows (``mm``, ``µm``, ``N·m``); anything else is a 422 naming the field."""
