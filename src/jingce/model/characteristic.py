"""Characteristics (what is measured, against which tolerance) and measurement plans."""

from __future__ import annotations

from pydantic import Field, model_validator

from jingce.model.base import Entity, Invariant
from jingce.model.enums import CharacteristicKind, Criticality, LifecycleStage
from jingce.model.units import UnitName, has_dimension, parse_unit

KeyField = Field(min_length=1, max_length=128, pattern=r"^[^/\s][^/]*$")


class Characteristic(Entity):
    """A product characteristic with its specification (nominal and limits, ISO 22514-1 3.1).

    Invariants: ``lower_limit < upper_limit`` when both are given; the nominal lies within the
    limits; the unit is known to pint and fits the kind (a diameter in a length unit).
    """

    id: int | None = None
    product_id: int
    key: str = KeyField
    name: str | None = None
    nominal: float | None = None
    lower_limit: float | None = None
    upper_limit: float | None = None
    unit: UnitName = "mm"
    kind: CharacteristicKind = CharacteristicKind.SIZE
    criticality: Criticality = Criticality.MAJOR
    revision: int = Field(default=1, ge=1)

    @model_validator(mode="after")
    def _spec(self):
        lo, hi, nom = self.lower_limit, self.upper_limit, self.nominal
        for name, x in (("nominal", nom), ("lower_limit", lo), ("upper_limit", hi)):
            if x is not None and x != x:
                raise Invariant(name, "must be a number, not NaN")
        if lo is not None and hi is not None and not lo < hi:
            raise Invariant("lower_limit", f"({lo}) must be < upper_limit ({hi})")
        if nom is not None and ((lo is not None and nom < lo) or (hi is not None and nom > hi)):
            raise Invariant("nominal", f"({nom}) must lie within [lower_limit, upper_limit] = [{lo}, {hi}]")
        want = self.kind.dimension
        if want is not None and not has_dimension(self.unit, want):
            got = str(parse_unit(self.unit).dimensionality)
            raise Invariant("unit", f"{self.unit!r} ({got}) does not fit kind {self.kind.value!r} ({want})")
        return self

    @property
    def tolerance(self) -> float | None:
        """Width of the tolerance interval ``upper - lower`` (None if one-sided)."""
        if self.lower_limit is None or self.upper_limit is None:
            return None
        return self.upper_limit - self.lower_limit


class PlanItem(Entity):
    """One line of a measurement plan: which characteristic, where, how often, how."""

    characteristic_id: int
    stage: LifecycleStage = LifecycleStage.IN_PROCESS
    sample_size: int = Field(default=5, ge=1)
    frequency: str = Field(default="1/h", min_length=1)  # e.g. "5 parts per hour", "every part"
    method: str | None = None
    instrument_id: int | None = None


class MeasurementPlan(Entity):
    """A measurement plan (control plan) for a product."""

    id: int | None = None
    product_id: int
    name: str = Field(min_length=1)
    items: tuple[PlanItem, ...] = ()
