"""Traceability of a measurement: the value, the instrument it was measured with, and the
calibration chain behind that instrument at the time of measurement up to the national
standard(s), with which link breaks it and why, and the uncertainty contributed along the chain.

The uncertainty along the chain (an assumption, stated)
-------------------------------------------------------
Each link is one calibration; its certificate states ``U`` and ``k``, so the link contributes
the standard uncertainty ``u = U / k`` (JCGM 100:2008 6.2.1), converted to the measurement's unit.
The links of one path are taken as uncorrelated inputs with sensitivity coefficient 1 (each
calibration transfers the value of its standard), so the uncertainty accumulated from the
national standard down to an instrument is the root sum of squares of the ``u`` on the way
(JCGM 100 5.1.2); where an instrument was calibrated against several standards, the largest of
the paths is kept (conservative). If a lab's ``U`` already includes its standard's uncertainty
(as a complete budget does), the sum counts the upper links twice and is an upper bound; the
instrument's own link ``u`` is then the figure to use. A national standard contributes nothing
here (its realisation uncertainty is in the first calibration it gave). A link without a known
uncertainty (missing) makes the accumulated uncertainty unknown (NaN).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from jingce.errors import InvalidInputError, NotFoundError
from jingce.model.units import conversion_factor
from jingce.store import Actor, CalibrationChain, ChainLink, Store

REASONS = {
    "expired": ("校准已过有效期", "the calibration had expired at the time of measurement"),
    "out_of_tolerance": ("校准时发现超差", "the calibration found it out of tolerance"),
    "missing": ("没有在测量时间之前的校准（或未记录所用标准）",
                "no calibration before that time (or the standards used are not recorded)"),
    "cycle": ("校准链成环", "the chain returns to an instrument already on the path (a cycle)"),
}
"""Why a link breaks the chain (Chinese, English)."""


@dataclass(frozen=True, slots=True)
class LinkUncertainty:
    """One link of the chain and the standard uncertainty it contributes, in the measurement's
    unit (``u`` NaN when unknown or in an incompatible unit)."""

    instrument_id: int
    standard_id: int | None
    certificate_no: str | None
    status: str
    expanded_uncertainty: float | None
    coverage_factor: float | None
    unit: str | None
    u: float
    reason_zh: str | None
    reason_en: str | None


@dataclass(frozen=True, slots=True)
class ChainTrace:
    """The chain behind an instrument at a time with its uncertainty (see the module docstring).

    ``u_cumulative`` maps each instrument of the chain to the uncertainty accumulated from the
    national standard(s) down to it; ``u_chain`` is that of the instrument itself."""

    chain: CalibrationChain
    unit: str
    links: tuple[LinkUncertainty, ...]
    u_cumulative: dict[int, float]
    u_chain: float
    unbroken: bool

    @property
    def breaks(self) -> tuple[LinkUncertainty, ...]:
        return tuple(x for x in self.links if x.status != "ok")


@dataclass(frozen=True, slots=True)
class MeasurementTrace:
    """One measured value and the traceability behind it."""

    measurement: dict
    instrument_id: int | None
    trace: ChainTrace | None

    @property
    def unbroken(self) -> bool:
        return self.trace is not None and self.trace.unbroken


def _u(link: ChainLink, unit: str) -> float:
    if link.expanded_uncertainty is None or not link.coverage_factor:
        return math.nan
    u = link.expanded_uncertainty / link.coverage_factor
    if link.unit and link.unit != unit:
        try:
            u *= conversion_factor(link.unit, unit, "unit")
        except Exception:  # noqa: BLE001 - a link in another quantity: its u cannot be added
            return math.nan
    return u


def chain_uncertainty(chain: CalibrationChain, unit: str) -> ChainTrace:
    """The links of ``chain`` with the standard uncertainty each contributes (in ``unit``) and
    the root-sum-square accumulated up each path (JCGM 100:2008 5.1.2, uncorrelated links)."""
    links = tuple(LinkUncertainty(x.instrument_id, x.standard_id, x.certificate_no, x.status,
                                  x.expanded_uncertainty, x.coverage_factor, x.unit, _u(x, unit),
                                  *(REASONS[x.status] if x.status in REASONS else (None, None)))
                  for x in chain.links)
    kinds = {n.instrument_id: n.kind for n in chain.nodes}
    up: dict[int, list[LinkUncertainty]] = {}
    for x in links:
        up.setdefault(x.instrument_id, []).append(x)
    memo: dict[int, float] = {}

    def acc(iid: int, path: frozenset[int]) -> float:
        if iid in memo:
            return memo[iid]
        if kinds.get(iid) == "national_standard":
            return 0.0
        best = math.nan
        for x in up.get(iid, []):
            if x.standard_id is None or x.status == "cycle" or x.standard_id in path:
                val = math.nan
            else:
                above = acc(x.standard_id, path | {x.standard_id})
                val = math.hypot(x.u, above)
            if math.isnan(val):
                best = math.nan
                break
            best = val if math.isnan(best) else max(best, val)
        memo[iid] = best
        return best

    cumulative = {n.instrument_id: acc(n.instrument_id, frozenset([n.instrument_id])) for n in chain.nodes}
    return ChainTrace(chain, unit, links, cumulative, cumulative.get(chain.root_id, math.nan), chain.unbroken)


def instrument_trace(store: Store, actor: Actor, instrument_id: int, at: dt.datetime | None = None,
                     unit: str | None = None) -> ChainTrace:
    """The chain behind an instrument at ``at`` (default now) with its uncertainty, in ``unit``
    (default the instrument's)."""
    inst = store.get_instrument(actor, instrument_id)
    return chain_uncertainty(store.calibration_chain(actor, instrument_id, at), unit or inst.unit)


def measurement_trace(store: Store, actor: Actor, *, characteristic_id: int | None = None,
                      serial: str | None = None, at: dt.datetime | None = None, batch: str | None = None,
                      position: int | None = None) -> MeasurementTrace:
    """Traceability of one measured value, found by its characteristic and part serial (and the
    time it was measured, when the serial was measured more than once: the latest otherwise), or
    by its lake row (ingest ``batch`` content hash and ``position``).

    The instrument is the value's ``instrument_id``; its chain is taken at the time of
    measurement, so a calibration that expired later does not break it, and one that had expired
    by then does.
    """
    if at is not None and at.tzinfo is None:
        raise InvalidInputError("must be timezone-aware", field="at")
    if batch is not None or position is not None:
        if batch is None or position is None:
            raise InvalidInputError("give both batch and position", field="batch" if batch is None else "position")
        rows = store.measurements(actor, batch=batch).to_pylist()
        rows = [r for r in rows if r["position"] == position]
        where = f"{batch[:12]}#{position}"
    else:
        if characteristic_id is None or serial is None:
            raise InvalidInputError("give characteristic_id and serial (or batch and position)",
                                    field="characteristic_id" if characteristic_id is None else "serial")
        rows = store.values(actor, characteristic_id, serial=serial).to_pylist()
        if at is not None:
            rows = [r for r in rows if r["measured_at"] == at]
        where = f"{serial} @ {at.isoformat() if at else 'latest'}"
    if not rows:
        raise NotFoundError(f"measurement {where} not found", field="position" if batch else "serial")
    row = rows[-1]
    m = {k: row[k] for k in ("enterprise_id", "product_id", "part_number", "characteristic_id", "characteristic",
                             "serial", "measured_at", "value", "unit", "nominal", "lower_limit", "upper_limit",
                             "instrument_id", "batch", "position", "stage")}
    if m["measured_at"].tzinfo is None:
        m["measured_at"] = m["measured_at"].replace(tzinfo=dt.UTC)
    if m["instrument_id"] is None:
        return MeasurementTrace(m, None, None)
    iid = int(m["instrument_id"])
    return MeasurementTrace(m, iid, chain_uncertainty(store.calibration_chain(actor, iid, m["measured_at"]),
                                                      m["unit"]))
