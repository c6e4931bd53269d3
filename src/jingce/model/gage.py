"""Gage studies recorded per characteristic and instrument: what a study found about a measurement.

A study (a type-1 study, a gage R&R or a VDA 5 uncertainty budget) is run by the MSA kernels on
the study data; the figures the precision planner needs are kept as columns (``pct_grr``,
``ndc``, ``cg``, ``cgk``, ``q_mp``, ``u_ms``), the kernel's result in ``result``.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import Field

from jingce.model.base import Entity, UtcDatetime


class GageStudyKind(StrEnum):
    """Kinds of gage study (AIAG MSA 4th ed.; VDA 5 2010; ISO 22514-7)."""

    TYPE1 = "type1"  # repeated readings of one reference part: Cg, Cgk
    GRR = "grr"  # gage R&R by ANOVA: %GRR of the tolerance, ndc
    VDA5 = "vda5"  # VDA 5 / ISO 22514-7 uncertainty budget: U_MP, Q_MP


class GageStudy(Entity):
    """A gage study of ``instrument_id`` on ``characteristic_id``.

    ``u_ms`` is the standard uncertainty the study found for the measurement: the repeatability
    ``s`` of a type-1 study, the GRR standard deviation of a gage R&R, ``u_MP`` of a VDA 5 budget.
    """

    id: int | None = None
    characteristic_id: int
    instrument_id: int
    kind: GageStudyKind
    studied_at: UtcDatetime
    pct_grr: float | None = None  # %GRR of the tolerance (6 sigma_GRR / T), AIAG MSA 4th ed.
    ndc: float | None = None
    cg: float | None = None
    cgk: float | None = None
    q_mp: float | None = None  # percent, VDA 5
    u_ms: float | None = Field(default=None, ge=0)
    result: dict[str, Any] = Field(default_factory=dict)
    created_by: str = Field(default="", max_length=64)
