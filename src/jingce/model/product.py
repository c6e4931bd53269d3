"""Products, serialised parts and bills of materials across enterprises."""

from __future__ import annotations

from pydantic import Field, model_validator

from jingce.model.base import Entity, Invariant
from jingce.model.organisation import Code


class Product(Entity):
    """A part number (drawing) of an enterprise: a finished product or a component it makes."""

    id: int | None = None
    enterprise_id: int
    part_number: str = Code
    name: str = Field(min_length=1)
    revision: str | None = None


class Part(Entity):
    """One serialised item of a product."""

    id: int | None = None
    product_id: int
    serial: str = Field(min_length=1, max_length=128)


class BomLine(Entity):
    """Bill of materials: ``quantity`` of ``child_product_id`` go into one ``parent_product_id``.

    The child may belong to another enterprise (a supplier's part in a customer's assembly).
    """

    id: int | None = None
    parent_product_id: int
    child_product_id: int
    quantity: int = Field(default=1, ge=1)
    position: str | None = None

    @model_validator(mode="after")
    def _no_self_loop(self):
        if self.parent_product_id == self.child_product_id:
            raise Invariant("child_product_id", "a product cannot contain itself")
        return self


class Assembly(Entity):
    """As-built record: the serialised ``child_part_id`` was built into ``parent_part_id``."""

    parent_part_id: int
    child_part_id: int
    position: str | None = None

    @model_validator(mode="after")
    def _no_self_loop(self):
        if self.parent_part_id == self.child_part_id:
            raise Invariant("child_part_id", "a part cannot contain itself")
        return self
