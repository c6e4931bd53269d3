"""Lab qualification and supervision: applications, qualification decisions, proficiency rounds, audit findings."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["labs"])
