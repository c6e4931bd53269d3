"""One measured value with its context and provenance."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from pydantic import Field, model_validator

from jingce.errors import InvalidInputError
from jingce.model.base import Entity, Invariant, TimeZoneName, UtcDatetime
from jingce.model.characteristic import Characteristic
from jingce.model.enums import LifecycleStage, MeasurementStatus
from jingce.model.units import UnitName, compatible


class Provenance(Entity):
    """Where a value came from: format, file hash, position in the file, ingest batch."""

    source_format: str = Field(min_length=1)
    source_hash: str = Field(min_length=8)
    position: int = Field(ge=0)
    batch: str = Field(min_length=8)


class Measurement(Entity):
    """A measured value of a characteristic on a part at a lifecycle stage.

    ``measured_at`` is UTC; ``zone`` is where it was taken, and :attr:`local_time` the wall-clock
    time there. ``nominal`` and the limits are the characteristic's at the time of measurement.
    """

    value: float
    unit: UnitName
    characteristic_id: int
    enterprise_id: int
    product_id: int
    part_serial: str | None = None
    stage: LifecycleStage = LifecycleStage.IN_PROCESS
    instrument_id: int | None = None
    operator: str | None = None
    machine: str | None = None
    measured_at: UtcDatetime
    zone: TimeZoneName
    status: MeasurementStatus = MeasurementStatus.VALID
    nominal: float | None = None
    lower_limit: float | None = None
    upper_limit: float | None = None
    provenance: Provenance | None = None

    @model_validator(mode="after")
    def _check(self):
        if self.value != self.value or self.value in (float("inf"), float("-inf")):
            raise Invariant("value", "must be a finite number")
        lo, hi = self.lower_limit, self.upper_limit
        if lo is not None and hi is not None and not lo < hi:
            raise Invariant("lower_limit", f"({lo}) must be < upper_limit ({hi})")
        return self

    def check_against(self, characteristic: Characteristic) -> Measurement:
        """Check that this value belongs to ``characteristic``: same id and a compatible unit
        (a value in µm for a characteristic in mm is fine; one in kg is not)."""
        if characteristic.id is not None and characteristic.id != self.characteristic_id:
            raise InvalidInputError(f"belongs to characteristic {self.characteristic_id}, not {characteristic.id}",
                                    field="characteristic_id")
        if not compatible(self.unit, characteristic.unit):
            raise InvalidInputError(f"unit {self.unit!r} is not compatible with the characteristic's "
                                    f"{characteristic.unit!r}", field="unit")
        return self

    @property
    def local_time(self) -> dt.datetime:
        """Wall-clock time where the value was taken (aware, in :attr:`zone`)."""
        return self.measured_at.astimezone(ZoneInfo(self.zone))

    @property
    def deviation(self) -> float | None:
        """Deviation from nominal (``value - nominal``), on which statistics are computed."""
        return None if self.nominal is None else self.value - self.nominal
