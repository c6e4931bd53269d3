"""Enumerations of the data model (values are the stored and exchanged strings)."""

from __future__ import annotations

from enum import StrEnum


class LifecycleStage(StrEnum):
    """Where in a product's life a measurement was taken (mission point 1)."""

    INCOMING = "incoming"
    IN_PROCESS = "in_process"
    FINAL = "final"
    IN_SERVICE = "in_service"


class MeasurementStatus(StrEnum):
    VALID = "valid"
    INVALID = "invalid"


class CharacteristicKind(StrEnum):
    """Kind of characteristic; geometric kinds follow ISO 1101 / ASME Y14.5 names."""

    SIZE = "size"
    DIAMETER = "diameter"
    LENGTH = "length"
    DISTANCE = "distance"
    ANGLE = "angle"
    POSITION = "position"
    FLATNESS = "flatness"
    STRAIGHTNESS = "straightness"
    ROUNDNESS = "roundness"
    CYLINDRICITY = "cylindricity"
    PROFILE = "profile"
    PARALLELISM = "parallelism"
    PERPENDICULARITY = "perpendicularity"
    ANGULARITY = "angularity"
    RUNOUT = "runout"
    CONCENTRICITY = "concentricity"
    ROUGHNESS = "roughness"
    HARDNESS = "hardness"
    MASS = "mass"
    FORCE = "force"
    TORQUE = "torque"
    PRESSURE = "pressure"
    TEMPERATURE = "temperature"
    OTHER = "other"

    @property
    def dimension(self) -> str | None:
        """The pint dimensionality a unit of this kind must have (None: any)."""
        return _DIMENSION.get(self)


_LENGTH = "[length]"
_DIMENSION = {
    **{
        k: _LENGTH
        for k in (
            CharacteristicKind.SIZE,
            CharacteristicKind.DIAMETER,
            CharacteristicKind.LENGTH,
            CharacteristicKind.DISTANCE,
            CharacteristicKind.POSITION,
            CharacteristicKind.FLATNESS,
            CharacteristicKind.STRAIGHTNESS,
            CharacteristicKind.ROUNDNESS,
            CharacteristicKind.CYLINDRICITY,
            CharacteristicKind.PROFILE,
            CharacteristicKind.PARALLELISM,
            CharacteristicKind.PERPENDICULARITY,
            CharacteristicKind.ANGULARITY,
            CharacteristicKind.RUNOUT,
            CharacteristicKind.CONCENTRICITY,
            CharacteristicKind.ROUGHNESS,
        )
    },
    CharacteristicKind.ANGLE: "dimensionless",  # pint: radian is dimensionless
    CharacteristicKind.MASS: "[mass]",
    CharacteristicKind.FORCE: "[length] * [mass] / [time] ** 2",
    CharacteristicKind.TORQUE: "[length] ** 2 * [mass] / [time] ** 2",
    CharacteristicKind.PRESSURE: "[mass] / [length] / [time] ** 2",
    CharacteristicKind.TEMPERATURE: "[temperature]",
}


class Criticality(StrEnum):
    """Classification of characteristics (VDA / AIAG practice: critical, major, minor)."""

    CRITICAL = "critical"
    MAJOR = "major"
    MINOR = "minor"


class InstrumentKind(StrEnum):
    """Position of an instrument in the traceability hierarchy (JJF 1104 measurement traceability)."""

    WORKING = "working"  # gauge or CMM on the shop floor
    REFERENCE_STANDARD = "reference_standard"  # a lab's or enterprise's standard
    PROVINCIAL_STANDARD = "provincial_standard"  # held by a provincial metrology institute
    NATIONAL_STANDARD = "national_standard"  # held by the national metrology institute (e.g. NIM)


class CalibrationResult(StrEnum):
    """Outcome of a calibration (as found)."""

    PASS = "pass"
    ADJUSTED = "adjusted"  # out of tolerance as found, adjusted and passing as left
    OUT_OF_TOLERANCE = "out_of_tolerance"
    FAIL = "fail"


class LabLevel(StrEnum):
    NATIONAL = "national"
    PROVINCIAL = "provincial"
    LAB = "lab"  # calibration or testing service lab
    IN_HOUSE = "in_house"  # an enterprise's own metrology room


class QualificationState(StrEnum):
    """State of a lab's qualification by the regulator."""

    APPLIED = "applied"
    QUALIFIED = "qualified"
    SUSPENDED = "suspended"
    REVOKED = "revoked"


class Role(StrEnum):
    ENTERPRISE_USER = "enterprise_user"
    ENTERPRISE_ADMIN = "enterprise_admin"
    LAB = "lab"
    REGULATOR = "regulator"
    ADMIN = "admin"


class TenantKind(StrEnum):
    ENTERPRISE = "enterprise"
    LAB = "lab"
    REGULATOR = "regulator"
    PLATFORM = "platform"
