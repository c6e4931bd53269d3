"""The measurement service market: a manufacturer's need (service request) and its order to a lab."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field, model_validator

from jingce.model.base import Entity, Invariant, UtcDatetime
from jingce.model.units import UnitName

DECISION_RULES = ("simple", "guarded_acceptance", "guarded_rejection", "iso14253", "non_binary")
"""Decision rules a need may ask the result to support (ILAC-G8:2019 4.2, ISO 14253-1:2017 5;
the same names as :data:`jingce.kernels.conformity.RULES`)."""


class ServiceKind(StrEnum):
    CALIBRATION = "calibration"  # of one of the manufacturer's instruments
    MEASUREMENT = "measurement"  # of a characteristic on given part serials


class RequestStatus(StrEnum):
    OPEN = "open"
    ORDERED = "ordered"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"


class OrderStatus(StrEnum):
    ORDERED = "ordered"
    ACCEPTED = "accepted"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"


class ServiceRequest(Entity):
    """A need posted by a manufacturer.

    The result must reach either an expanded uncertainty ``required_uncertainty`` (U, k = 2, in
    ``unit``) or support the tolerance ``lower_limit``..``upper_limit`` under ``decision_rule``.
    """

    id: int | None = None
    enterprise_id: int
    title: str = Field(min_length=1, max_length=256)
    kind: ServiceKind
    quantity: str = Field(min_length=1, max_length=64)
    unit: UnitName
    range_min: float
    range_max: float
    characteristic_id: int | None = None
    instrument_id: int | None = None
    required_uncertainty: float | None = Field(default=None, gt=0)
    lower_limit: float | None = None
    upper_limit: float | None = None
    decision_rule: str | None = None
    serials: tuple[str, ...] = ()
    deadline: UtcDatetime
    location: str | None = Field(default=None, max_length=256)
    status: RequestStatus = RequestStatus.OPEN
    created_at: UtcDatetime | None = None
    created_by: str = Field(default="", max_length=64)

    @model_validator(mode="after")
    def _check(self):
        if not self.range_min < self.range_max:
            raise Invariant("range_min", f"({self.range_min}) must be < range_max ({self.range_max})")
        has_tol = self.lower_limit is not None or self.upper_limit is not None
        if self.required_uncertainty is not None and has_tol:
            raise Invariant("required_uncertainty", "give either the required uncertainty or the tolerance, not both")
        if self.required_uncertainty is None:
            if self.lower_limit is None:
                raise Invariant("lower_limit", "the required uncertainty or both tolerance limits are needed")
            if self.upper_limit is None:
                raise Invariant("upper_limit", "the required uncertainty or both tolerance limits are needed")
            if not self.lower_limit < self.upper_limit:
                raise Invariant("lower_limit", f"({self.lower_limit}) must be < upper_limit ({self.upper_limit})")
            if self.decision_rule is None:
                raise Invariant("decision_rule", f"a tolerance needs a decision rule ({', '.join(DECISION_RULES)})")
        if self.decision_rule is not None and self.decision_rule not in DECISION_RULES:
            raise Invariant("decision_rule", f"must be one of {', '.join(DECISION_RULES)}")
        if self.kind is ServiceKind.CALIBRATION and self.instrument_id is None:
            raise Invariant("instrument_id", "a calibration request names the instrument to calibrate")
        if self.kind is ServiceKind.MEASUREMENT:
            if self.characteristic_id is None:
                raise Invariant("characteristic_id", "a measurement request names the characteristic to measure")
            if not self.serials:
                raise Invariant("serials", "a measurement request names the part serials to measure")
            if len(set(self.serials)) != len(self.serials):
                raise Invariant("serials", "a serial is named twice")
            if any(not s or len(s) > 128 for s in self.serials):
                raise Invariant("serials", "each serial has 1..128 characters")
        return self

    @property
    def tolerance(self) -> float | None:
        if self.lower_limit is None or self.upper_limit is None:
            return None
        return self.upper_limit - self.lower_limit


class ServiceOrder(Entity):
    """An order of a need from a ranked lab, and what the lab delivered."""

    id: int | None = None
    request_id: int
    lab_id: int
    scope_index: int | None = None
    price: float | None = Field(default=None, ge=0)
    status: OrderStatus = OrderStatus.ORDERED
    ordered_at: UtcDatetime
    ordered_by: str
    accepted_at: UtcDatetime | None = None
    delivered_at: UtcDatetime | None = None
    certificate_no: str | None = None
    batch_id: int | None = None
    calibration_id: int | None = None
