"""Capability of measurement processes after VDA 5 and ISO 22514-7: U_MS, U_MP, Q_MS, Q_MP.

Uncertainty budget of the measuring system (MS) and of the measurement process (MP):

* ``u_MS**2 = u_CAL**2 + u_BI**2 + u_LIN**2 + max(u_EVR, u_RE)**2 + u_MS_REST**2``
* ``u_MP**2 = u_CAL**2 + u_BI**2 + u_LIN**2 + max(u_EVR, u_EVO, u_RE)**2 + u_AV**2 + u_GV**2
  + u_IA**2 + u_T**2 + u_STAB**2 + u_OBJ**2 + u_MS_REST**2 + u_MP_REST**2``

with ``u_RE = resolution / sqrt(12)``, an uncorrected bias entering as ``u_BI = |bias| / sqrt(3)``,
``U = k u`` (``k = 2``), the capability ratios ``Q_MS = 2 U_MS / T`` and ``Q_MP = 2 U_MP / T`` (in
percent) and the indices ``C_MS = 0.3 T / (6 u_MS)``, ``C_MP = 0.3 T / (3 u_MP)``. The default limits
are ``Q_MS <= 15 %`` and ``Q_MP <= 30 %`` (``C >= 1.33``) and a resolution of at most 5 % of T.

References
----------
.. [1] ISO 22514-7:2012, *Capability of measurement processes*, clauses 6 to 9 and annex A
       (worked example A.1 to A.5).
.. [2] VDA, *Band 5: Prüfprozesseignung*, 2nd ed. (2010), sections 5 and 6.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from jingce.kernels._validation import as_float, fail

__all__ = ["BudgetLine", "MeasurementProcessCapability", "measurement_process_capability"]


@dataclass(frozen=True, slots=True)
class BudgetLine:
    """One component of an uncertainty budget and its share of the combined variance (percent)."""

    component: str
    u: float
    contribution_pct: float


@dataclass(frozen=True, slots=True)
class MeasurementProcessCapability:
    """Result of :func:`measurement_process_capability` (see the module docstring)."""

    tolerance: float
    k: float
    u_ms: float
    u_mp: float
    expanded_ms: float
    expanded_mp: float
    q_ms: float  # percent
    q_mp: float  # percent
    c_ms: float
    c_mp: float
    q_ms_limit: float
    q_mp_limit: float
    ms_capable: bool
    mp_capable: bool
    resolution_pct: float | None
    resolution_ok: bool | None
    verdict: str  # "capable" or "not capable"
    margin_q_mp: float  # limit - Q_MP in percentage points (negative: missed by that much)
    max_u_mp: float  # the largest u_MP that would still meet the Q_MP limit
    repeatability_used_ms: str
    repeatability_used_mp: str
    budget_ms: tuple
    budget_mp: tuple


def _mpc_iv(tolerance, comps, resolution, bias, k, q_ms_limit, q_mp_limit):
    tol = as_float(tolerance, "tolerance", positive=True)
    out = {name: as_float(v, name, nonnegative=True) for name, v in comps.items() if v is not None}
    if not any(out.get(n, 0.0) > 0 for n in ("u_evr", "u_evo", "u_re")) and resolution is None:
        raise fail("u_evr", "a repeatability (u_evr, u_evo) or a resolution is required")
    res = as_float(resolution, "resolution", positive=True, allow_none=True)
    b = as_float(bias, "bias", allow_none=True)
    if b is not None and out.get("u_bi") is not None:
        raise fail("bias", "give either bias (entered as |bias|/sqrt(3)) or u_bi, not both")
    k = as_float(k, "k", positive=True)
    qms = as_float(q_ms_limit, "q_ms_limit", positive=True, hi=100.0)
    qmp = as_float(q_mp_limit, "q_mp_limit", positive=True, hi=100.0)
    return tol, out, res, b, k, qms, qmp


def _budget(parts: dict, total_u: float) -> tuple:
    var = total_u * total_u
    return tuple(
        BudgetLine(name, float(u), float(100.0 * u * u / var) if var > 0 else float("nan"))
        for name, u in parts.items()
        if u > 0
    )


def measurement_process_capability(
    tolerance,
    *,
    u_cal=None,
    u_evr=None,
    u_re=None,
    resolution=None,
    bias=None,
    u_bi=None,
    u_lin=None,
    u_ms_rest=None,
    u_evo=None,
    u_av=None,
    u_gv=None,
    u_ia=None,
    u_t=None,
    u_stab=None,
    u_obj=None,
    u_mp_rest=None,
    k: float = 2.0,
    q_ms_limit: float = 15.0,
    q_mp_limit: float = 30.0,
) -> MeasurementProcessCapability:
    """Measurement-system and measurement-process capability (VDA 5 / ISO 22514-7).

    Parameters
    ----------
    tolerance : float
        Tolerance width ``T = U - L`` (> 0).
    u_cal : float, optional
        Standard uncertainty of the calibration of the reference standard.
    u_evr : float, optional
        Repeatability on the reference standard (e.g. the ``s`` of a type-1 study).
    u_re, resolution : float, optional
        Resolution uncertainty, or the resolution itself (then ``u_re = resolution / sqrt(12)``).
    bias, u_bi : float, optional
        An uncorrected bias (``u_bi = |bias| / sqrt(3)``) or its uncertainty.
    u_lin : float, optional
        Linearity (e.g. ``LinearityResult.u_lin``).
    u_ms_rest, u_mp_rest : float, optional
        Other components of the system and of the process.
    u_evo, u_av, u_gv, u_ia : float, optional
        Repeatability on test parts, appraiser (reproducibility), gage-to-gage and interaction
        components (e.g. ``GrrResult.ev``, ``.av``, ``.interaction``).
    u_t, u_stab, u_obj : float, optional
        Temperature, stability and object (form deviation) components.
    k : float
        Coverage factor (2).
    q_ms_limit, q_mp_limit : float
        Limits of Q_MS and Q_MP in percent (15 and 30).

    Returns
    -------
    MeasurementProcessCapability

    References
    ----------
    ISO 22514-7:2012, 6 to 9 and annex A; VDA 5 (2010), 5 and 6.
    """
    comps = dict(u_cal=u_cal, u_evr=u_evr, u_re=u_re, u_bi=u_bi, u_lin=u_lin, u_ms_rest=u_ms_rest,
                 u_evo=u_evo, u_av=u_av, u_gv=u_gv, u_ia=u_ia, u_t=u_t, u_stab=u_stab, u_obj=u_obj,
                 u_mp_rest=u_mp_rest)
    tol, c, res, b, k, qms_lim, qmp_lim = _mpc_iv(tolerance, comps, resolution, bias, k, q_ms_limit, q_mp_limit)
    g = {name: c.get(name, 0.0) for name in comps}
    if res is not None and c.get("u_re") is None:
        g["u_re"] = res / np.sqrt(12.0)
    if b is not None:
        g["u_bi"] = abs(b) / np.sqrt(3.0)
    ms_rep = max(("u_evr", "u_re"), key=lambda n: g[n])
    mp_rep = max(("u_evr", "u_evo", "u_re"), key=lambda n: g[n])
    ms_parts = {n: g[n] for n in ("u_cal", "u_bi", "u_lin")} | {ms_rep: g[ms_rep], "u_ms_rest": g["u_ms_rest"]}
    mp_parts = {n: g[n] for n in ("u_cal", "u_bi", "u_lin")} | {mp_rep: g[mp_rep]} | {
        n: g[n] for n in ("u_av", "u_gv", "u_ia", "u_t", "u_stab", "u_obj", "u_ms_rest", "u_mp_rest")}
    u_ms = float(np.sqrt(sum(u * u for u in ms_parts.values())))
    u_mp = float(np.sqrt(sum(u * u for u in mp_parts.values())))
    q_ms = 100.0 * 2.0 * k * u_ms / tol
    q_mp = 100.0 * 2.0 * k * u_mp / tol
    with np.errstate(divide="ignore"):
        c_ms = float(0.3 * tol / (6.0 * u_ms)) if u_ms > 0 else float("inf")
        c_mp = float(0.3 * tol / (3.0 * u_mp)) if u_mp > 0 else float("inf")
    res_pct = 100.0 * res / tol if res is not None else None
    res_ok = None if res_pct is None else bool(res_pct <= 5.0)
    ms_ok = bool(q_ms <= qms_lim)
    mp_ok = bool(q_mp <= qmp_lim)
    capable = ms_ok and mp_ok and res_ok is not False
    return MeasurementProcessCapability(
        tolerance=tol, k=k, u_ms=u_ms, u_mp=u_mp, expanded_ms=k * u_ms, expanded_mp=k * u_mp, q_ms=q_ms,
        q_mp=q_mp, c_ms=c_ms, c_mp=c_mp, q_ms_limit=qms_lim, q_mp_limit=qmp_lim, ms_capable=ms_ok,
        mp_capable=mp_ok, resolution_pct=res_pct, resolution_ok=res_ok,
        verdict="capable" if capable else "not capable", margin_q_mp=qmp_lim - q_mp,
        max_u_mp=qmp_lim / 100.0 * tol / (2.0 * k), repeatability_used_ms=ms_rep, repeatability_used_mp=mp_rep,
        budget_ms=_budget(ms_parts, u_ms), budget_mp=_budget(mp_parts, u_mp),
    )
