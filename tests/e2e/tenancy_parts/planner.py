"""Precision planner and gage studies: X's study and plan; nobody else may read or add to them."""

from __future__ import annotations

from sqlalchemy import select

from jingce.services import planner
from jingce.services.calculations.msa import _AIAG_GRR
from jingce.store import tables as t


def setup(w) -> dict:
    x = w.store.actor("x")
    char = w.store.find_characteristic(w.admin, "X", "OTHER", "L")
    planner.record_gage_study(w.store, x, char.id, w.gauge_x.id, "grr", {"readings": _AIAG_GRR})
    return {}


def state(w) -> tuple:
    with w.store._read() as conn:
        return tuple(conn.execute(select(t.gage_study.c.id, t.gage_study.c.pct_grr).order_by(t.gage_study.c.id)))
