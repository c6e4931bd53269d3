"""Traceability of measurements, out-of-tolerance impact, calibration management."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["metrology"])
