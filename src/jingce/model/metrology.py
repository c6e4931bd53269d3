"""Instruments, reference standards, calibrations and labs: the traceability graph."""

from __future__ import annotations

import datetime as dt

from pydantic import Field, model_validator

from jingce.model.base import Entity, Invariant, UtcDatetime
from jingce.model.enums import CalibrationResult, InstrumentKind, LabLevel, QualificationState
from jingce.model.organisation import Code
from jingce.model.units import UnitName


class Instrument(Entity):
    """A measuring instrument or a reference standard (JJF 1001 / VIM 3.1, 5.1)."""

    id: int | None = None
    tenant_id: int
    code: str = Code
    name: str = Field(min_length=1)
    kind: InstrumentKind = InstrumentKind.WORKING
    quantity: str = Field(default="length", min_length=1)
    unit: UnitName = "mm"
    range_min: float | None = None
    range_max: float | None = None
    resolution: float | None = Field(default=None, gt=0)
    mpe: float | None = Field(default=None, gt=0)  # maximum permissible error, in `unit`
    uncertainty: float | None = Field(default=None, gt=0)  # standard uncertainty in use, in `unit`
    lab_id: int | None = None  # the lab holding it, for standards
    enterprise_id: int | None = None  # the enterprise using it, for working instruments
    calibration_interval_days: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _range(self):
        if self.range_min is not None and self.range_max is not None and not self.range_min < self.range_max:
            raise Invariant("range_min", f"({self.range_min}) must be < range_max ({self.range_max})")
        return self


class Calibration(Entity):
    """A calibration of ``instrument_id`` by ``lab_id`` against the standards ``standard_ids``.

    ``expanded_uncertainty`` is U = k u (JCGM 100 6.2) in ``unit``; ``error_as_found`` is the
    largest error found before adjustment; ``result`` says whether it was within the MPE.
    """

    id: int | None = None
    instrument_id: int
    lab_id: int
    certificate_no: str = Field(min_length=1)
    calibrated_at: UtcDatetime
    valid_until: UtcDatetime
    result: CalibrationResult = CalibrationResult.PASS
    error_as_found: float | None = None
    error_as_left: float | None = None
    expanded_uncertainty: float = Field(gt=0)
    coverage_factor: float = Field(default=2.0, gt=0)
    coverage_probability: float | None = Field(default=0.95, gt=0, lt=1)
    unit: UnitName = "mm"
    standard_ids: tuple[int, ...] = ()

    @model_validator(mode="after")
    def _dates(self):
        if not self.valid_until > self.calibrated_at:
            raise Invariant("valid_until", "must be after calibrated_at")
        if self.instrument_id in self.standard_ids:
            raise Invariant("standard_ids", "an instrument cannot be calibrated against itself")
        return self

    def is_valid_at(self, when: dt.datetime) -> bool:
        return self.calibrated_at <= when <= self.valid_until and self.result in (
            CalibrationResult.PASS,
            CalibrationResult.ADJUSTED,
        )

    @property
    def standard_uncertainty(self) -> float:
        """u = U / k."""
        return self.expanded_uncertainty / self.coverage_factor


class ScopeEntry(Entity):
    """One line of a lab's accredited scope: quantity, range and calibration and measurement capability.

    ``cmc`` is the smallest expanded uncertainty (k = 2, about 95 %) the lab can claim in the range,
    as ``cmc_absolute + cmc_relative * |x|`` in ``unit`` (ILAC-P14 expression of CMC).
    """

    quantity: str = Field(min_length=1)
    range_min: float
    range_max: float
    unit: UnitName = "mm"
    cmc_absolute: float = Field(ge=0)
    cmc_relative: float = Field(default=0.0, ge=0)
    method: str | None = None
    price: float | None = Field(default=None, ge=0, allow_inf_nan=False)  # CNY per item, for the market

    @model_validator(mode="after")
    def _ordered(self):
        if not self.range_min < self.range_max:
            raise Invariant("range_min", f"({self.range_min}) must be < range_max ({self.range_max})")
        if self.cmc_absolute == 0 and self.cmc_relative == 0:
            raise Invariant("cmc_absolute", "a CMC must be positive (cmc_absolute or cmc_relative)")
        return self

    def cmc_at(self, x: float) -> float:
        return self.cmc_absolute + self.cmc_relative * abs(x)


class Lab(Entity):
    """A calibration or testing lab (or a metrology institute), with its qualification and scope."""

    id: int | None = None
    tenant_id: int
    code: str = Code
    name: str = Field(min_length=1)
    level: LabLevel = LabLevel.LAB
    qualification: QualificationState = QualificationState.APPLIED
    accreditation_no: str | None = None
    scope: tuple[ScopeEntry, ...] = ()
