"""Domain entities and their invariants (pydantic v2), shared by every layer above.

Entities are immutable; construction checks the invariants and raises
:class:`jingce.errors.InvalidInputError` naming the field.
"""

from jingce.model.characteristic import Characteristic, MeasurementPlan, PlanItem
from jingce.model.enums import (
    CalibrationResult,
    CharacteristicKind,
    Criticality,
    InstrumentKind,
    LabLevel,
    LifecycleStage,
    MeasurementStatus,
    QualificationState,
    Role,
    TenantKind,
)
from jingce.model.measurement import Measurement, Provenance
from jingce.model.metrology import Calibration, Instrument, Lab, ScopeEntry
from jingce.model.organisation import Enterprise, Share, Site, Tenant, User
from jingce.model.product import Assembly, BomLine, Part, Product

__all__ = [
    "Assembly",
    "BomLine",
    "Calibration",
    "CalibrationResult",
    "Characteristic",
    "CharacteristicKind",
    "Criticality",
    "Enterprise",
    "Instrument",
    "InstrumentKind",
    "Lab",
    "LabLevel",
    "LifecycleStage",
    "Measurement",
    "MeasurementPlan",
    "MeasurementStatus",
    "Part",
    "PlanItem",
    "Product",
    "Provenance",
    "QualificationState",
    "Role",
    "ScopeEntry",
    "Share",
    "Site",
    "Tenant",
    "TenantKind",
    "User",
]
