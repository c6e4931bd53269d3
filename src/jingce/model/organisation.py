"""Tenants, enterprises, sites, users and shares."""

from __future__ import annotations

from pydantic import Field, model_validator

from jingce.model.base import Entity, Invariant, TimeZoneName
from jingce.model.enums import Role, TenantKind

Code = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")


class Tenant(Entity):
    """Who owns data: an enterprise group, a lab, the regulator or the platform operator."""

    id: int | None = None
    code: str = Code
    name: str = Field(min_length=1)
    kind: TenantKind


class Enterprise(Entity):
    """A manufacturer (or a lab's legal entity) in the region."""

    id: int | None = None
    tenant_id: int
    code: str = Code
    name: str = Field(min_length=1)
    name_en: str | None = None
    industry_chain: str | None = None  # e.g. aero-engine, automotive powertrain, precision bearings
    district: str | None = None


class Site(Entity):
    """A plant of an enterprise, with the time zone its local times are taken in."""

    id: int | None = None
    enterprise_id: int
    code: str = Code
    name: str = Field(min_length=1)
    timezone: TimeZoneName = "Asia/Shanghai"


class User(Entity):
    """An account; its role and tenant decide what it may see and do."""

    id: int | None = None
    tenant_id: int
    username: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.@\-]+$")
    role: Role
    display_name: str | None = None


class Share(Entity):
    """A grant by an owner tenant to another tenant: read access to an enterprise's measurements.

    ``product_id`` narrows the grant to one product (for example the part a supplier delivers to
    its customer); ``None`` shares every product of the enterprise.
    """

    id: int | None = None
    owner_tenant_id: int
    grantee_tenant_id: int
    enterprise_id: int
    product_id: int | None = None

    @model_validator(mode="after")
    def _not_self(self):
        if self.owner_tenant_id == self.grantee_tenant_id:
            raise Invariant("grantee_tenant_id", "a tenant cannot share with itself")
        return self
