"""Machine tools, their axes, and the records of the measure -> model -> compensate -> verify loop."""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from jingce.model.base import Entity, Invariant, UtcDatetime
from jingce.model.organisation import Code
from jingce.model.units import UnitName


class Machine(Entity):
    """A numerically controlled machine of an enterprise."""

    id: int | None = None
    enterprise_id: int
    code: str = Code
    name: str = Field(min_length=1)
    controller: str | None = None  # e.g. "SINUMERIK 840D sl"


class MachineAxis(Entity):
    """One axis of a machine (ISO 841 names: X, Y, Z linear; A, B, C rotary)."""

    id: int | None = None
    machine_id: int
    name: str = Field(pattern=r"^[A-Z][A-Z0-9_]{0,15}$")
    kind: str = Field(default="linear", pattern=r"^(linear|rotary)$")
    unit: UnitName = "mm"
    travel_min: float | None = None
    travel_max: float | None = None

    @model_validator(mode="after")
    def _travel(self):
        if self.travel_min is not None and self.travel_max is not None and not self.travel_min < self.travel_max:
            raise Invariant("travel_min", f"({self.travel_min}) must be < travel_max ({self.travel_max})")
        return self


class PositioningTest(Entity):
    """A positioning test of an axis (ISO 230-2): the actual positions and their evaluation.

    ``compensation_id`` is the table that was active in the controller during the test (None:
    uncompensated); ``uncertainty`` is the expanded uncertainty U (k = 2) of the test's E.
    """

    id: int | None = None
    axis_id: int
    iteration: int = Field(ge=0)
    measured_at: UtcDatetime
    compensation_id: int | None = None
    instrument_id: int | None = None
    uncertainty: float = Field(ge=0)
    data: dict[str, Any]
    result: dict[str, float]


class Compensation(Entity):
    """A compensation table built in iteration ``iteration`` from test ``test_id``."""

    id: int | None = None
    axis_id: int
    iteration: int = Field(ge=1)
    test_id: int
    created_at: UtcDatetime
    table_json: str = Field(min_length=2)
