"""The precision planner: for every characteristic of an enterprise, is the measurement good enough
for the tolerance, what false-accept risk does it cause, and what is the cheapest adequate option.

Criteria (each flag also gives the false-accept risk it causes):

* test uncertainty ratio ``TUR = T / (2 U)`` with ``U = k u``, ``k = 2``, below 4
  (ANSI/NCSL Z540.3-2006 5.3 b and its handbook; ILAC-G8:2019 practice);
* ``%GRR`` of the tolerance above 30 % (AIAG MSA 4th ed., chapter II-B "acceptability criteria");
* ``Q_MP`` above its limit, 30 % by default (VDA 5, 2010, 6; ISO 22514-7:2012).

The false-accept risk is the global consumer's risk ``R_C`` of JCGM 106:2012 9.5 for simple
acceptance (no guard band) with the process distribution of the characteristic's values as the
prior (:func:`jingce.kernels.conformity.global_risk`).

The standard uncertainty of an instrument is its stated ``uncertainty`` in use; else the one of
its calibration in force, ``u = sqrt((U/k)^2 + (r/sqrt(12))^2)``: the certificate's
``U/k`` (JCGM 100 4.3.1, type B from a calibration certificate) combined with the resolution ``r``
as a rectangular distribution of half-width ``r/2`` (JCGM 100 4.3.7 and F.2.2.1).
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from scipy.integrate import IntegrationWarning

from jingce.errors import InvalidInputError, NotFoundError, PermissionDeniedError
from jingce.kernels import msa
from jingce.kernels.conformity import global_risk
from jingce.model import CalibrationResult, Characteristic, Instrument, QualificationState, Role
from jingce.model.enums import CharacteristicKind
from jingce.model.gage import GageStudy, GageStudyKind
from jingce.model.units import compatible, conversion_factor
from jingce.store import Actor, Store
from jingce.store.core import ENTERPRISE_ROLES

K = 2.0
"""Coverage factor of ``U = k u`` in the TUR (ILAC-G8; ANSI/NCSL Z540.3)."""
TUR_MIN = 4.0
GRR_MAX = 30.0
Q_MP_LIMIT = 30.0

_GEOMETRIC_ONE_SIDED = {
    CharacteristicKind.POSITION, CharacteristicKind.FLATNESS, CharacteristicKind.STRAIGHTNESS,
    CharacteristicKind.ROUNDNESS, CharacteristicKind.CYLINDRICITY, CharacteristicKind.PROFILE,
    CharacteristicKind.PARALLELISM, CharacteristicKind.PERPENDICULARITY, CharacteristicKind.ANGULARITY,
    CharacteristicKind.RUNOUT, CharacteristicKind.CONCENTRICITY, CharacteristicKind.ROUGHNESS,
}
"""Kinds whose natural lower bound is 0 (a form or location deviation cannot be negative)."""

_QUANTITY = {CharacteristicKind.ROUGHNESS: "roughness", CharacteristicKind.HARDNESS: "hardness",
             CharacteristicKind.MASS: "mass", CharacteristicKind.FORCE: "force", CharacteristicKind.TORQUE: "torque",
             CharacteristicKind.PRESSURE: "pressure", CharacteristicKind.TEMPERATURE: "temperature",
             CharacteristicKind.ANGLE: "angle", CharacteristicKind.OTHER: None}
"""The quantity (as instruments and scope lines name it) that measures a kind of characteristic;
the other kinds are lengths. ``None``: any quantity whose unit fits."""


def quantity_of(kind: CharacteristicKind) -> str | None:
    return _QUANTITY.get(kind, "length")


def _fits(quantity: str, unit: str, c: Characteristic) -> bool:
    want = quantity_of(c.kind)
    return (want is None or quantity == want) and compatible(unit, c.unit)


NONE_AVAILABLE = ("无可用方案——需要更好的测量仪器", "none available — needs a better instrument")


# -- pure figures ---------------------------------------------------------------------------------

def tolerance_of(char: Characteristic) -> float | None:
    """``T = USL - LSL``; for a one-sided geometric tolerance (runout, flatness, ...) ``T = USL``
    (its natural lower bound is 0, ISO 22514-7 / VDA 5 practice); None otherwise."""
    if char.lower_limit is not None and char.upper_limit is not None:
        return char.upper_limit - char.lower_limit
    if char.lower_limit is None and char.upper_limit is not None and char.kind in _GEOMETRIC_ONE_SIDED \
            and char.upper_limit > 0:
        return char.upper_limit
    return None


def test_uncertainty_ratio(tolerance: float, u: float, k: float = K) -> float:
    """``TUR = T / (2 U)``, ``U = k u`` (ANSI/NCSL Z540.3 handbook: the span of the tolerance over
    the span of the expanded uncertainty)."""
    if u <= 0:
        return math.inf
    return tolerance / (2.0 * k * u)


test_uncertainty_ratio.__test__ = False  # not a pytest test, despite the name


def instrument_uncertainty(inst: Instrument, calibration, unit: str, now: dt.datetime) -> tuple[float | None, str]:
    """Standard uncertainty of ``inst`` in ``unit`` and where it comes from (see the module
    docstring); ``(None, reason)`` when it cannot be known or the units do not fit."""
    try:
        f = conversion_factor(inst.unit, unit)
    except InvalidInputError:
        return None, "unit"
    if inst.uncertainty is not None:
        return inst.uncertainty * f, "instrument"
    if calibration is None or not calibration.is_valid_at(now):
        return None, "no valid calibration"
    try:
        u_cal = calibration.expanded_uncertainty / calibration.coverage_factor * conversion_factor(calibration.unit, unit)
    except InvalidInputError:
        return None, "unit"
    u_res = inst.resolution * f / math.sqrt(12.0) if inst.resolution else 0.0
    return math.hypot(u_cal, u_res), "calibration"


@functools.lru_cache(maxsize=65536)
def global_risks(prior_mean: float, prior_sd: float, u: float, lower: float | None, upper: float | None
                 ) -> tuple[float, float]:
    """Global consumer's and producer's risks ``(R_C, R_P)`` (JCGM 106 9.5.2) for simple acceptance.

    ``R_C`` grows with ``u`` only while the measurement is not far too coarse (in practice for
    TUR above about 1): a much coarser one rejects nearly everything, so ``R_C`` falls again and
    ``R_P`` takes over; the plan shows both."""
    if not (u > 0 and prior_sd > 0):
        return (0.0, 0.0) if u == 0 else (math.nan, math.nan)
    with warnings.catch_warnings():
        # QUADPACK's "probably divergent" comes with risks of 1e-11 and below (u 1/100 of the
        # process spread); they agree with the bivariate-normal rectangle probabilities to 1e-16
        warnings.simplefilter("ignore", IntegrationWarning)
        r = global_risk(prior_mean, prior_sd, u, lower, upper)
    return r.consumer_risk, r.producer_risk


def consumer_risk(prior_mean: float, prior_sd: float, u: float, lower: float | None, upper: float | None) -> float:
    """Global consumer's risk ``R_C`` (JCGM 106 9.5.2) for simple acceptance."""
    return global_risks(prior_mean, prior_sd, u, lower, upper)[0]


def process_prior_sd(observed_sd: float, u: float | None) -> float | None:
    """The spread of the measurand (the prior of JCGM 106 9.5) from the spread of measured values:
    ``sqrt(s^2 - u^2)`` (the variances of the process and the measurement add, AIAG MSA 4th ed.
    ``sigma_total^2 = sigma_p^2 + sigma_m^2``); None when the measured spread is no larger than
    ``u`` (the values show only the measurement)."""
    if u is None:
        return observed_sd
    var = observed_sd * observed_sd - u * u
    return math.sqrt(var) if var > 0 else None


# -- gage studies ---------------------------------------------------------------------------------

_KEYS = {
    GageStudyKind.TYPE1: {"readings", "reference", "resolution", "percentage", "span"},
    GageStudyKind.GRR: {"readings", "part", "appraiser", "value", "k", "method", "interaction"},
    GageStudyKind.VDA5: {"u_cal", "u_evr", "u_re", "resolution", "bias", "u_bi", "u_lin", "u_ms_rest", "u_evo",
                         "u_av", "u_gv", "u_ia", "u_t", "u_stab", "u_obj", "u_mp_rest", "q_ms_limit", "q_mp_limit"},
}
_REQUIRED = {GageStudyKind.TYPE1: ("readings", "reference"), GageStudyKind.GRR: (), GageStudyKind.VDA5: ()}


def _jsonable(x: Any) -> Any:
    if isinstance(x, Mapping):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple, np.ndarray)):
        return [_jsonable(v) for v in x]
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, (int, np.integer)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        return float(x) if math.isfinite(x) else None
    if x is None or isinstance(x, str):
        return x
    return str(x)


def _finite(x) -> float | None:
    return float(x) if x is not None and math.isfinite(float(x)) else None


def _nan_for_null(x: Any) -> Any:
    if isinstance(x, list):
        return [_nan_for_null(v) for v in x]
    return math.nan if x is None else x


def _run_study(kind: GageStudyKind, tolerance: float, data: Mapping[str, Any]) -> dict:
    """Run the kernel of ``kind``; return the figures (columns) and the result to keep."""
    if kind is GageStudyKind.TYPE1:
        args = {k: data[k] for k in ("resolution", "percentage", "span") if k in data}
        r = msa.type1(data["readings"], data["reference"], tolerance, **args)
        keep = {f: getattr(r, f) for f in ("n", "reference", "mean", "s", "bias", "bias_p", "bias_significant",
                                          "tolerance", "percentage", "span", "cg", "cgk", "capable",
                                          "pct_repeatability", "pct_bias", "pct_resolution", "notes")}
        return {"cg": _finite(r.cg), "cgk": _finite(r.cgk), "u_ms": _finite(r.s), "result": keep}
    if kind is GageStudyKind.GRR:
        args = {k: data[k] for k in ("part", "appraiser", "value", "method", "interaction") if k in data}
        readings = data.get("readings")
        if readings is not None:
            readings = np.asarray(_nan_for_null(readings), dtype=float)
        r = msa.grr_anova(readings, tolerance, k=data.get("k", 6.0), **args)
        keep = {f: getattr(r, f) for f in ("method", "design", "n_parts", "n_appraisers", "n_trials", "n_readings",
                                          "ev", "av", "interaction", "grr", "pv", "tv", "ndc", "pct_study_variation",
                                          "pct_contribution", "pct_tolerance", "tolerance", "k", "notes")}
        return {"pct_grr": _finite(r.pct_tolerance["grr"]), "ndc": _finite(r.ndc), "u_ms": _finite(r.grr),
                "result": keep}
    r = msa.measurement_process_capability(tolerance, **dict(data))
    keep = {f: getattr(r, f) for f in ("tolerance", "k", "u_ms", "u_mp", "expanded_ms", "expanded_mp", "q_ms", "q_mp",
                                      "c_ms", "c_mp", "q_ms_limit", "q_mp_limit", "verdict", "repeatability_used_mp")}
    keep["budget_mp"] = [{"component": b.component, "u": b.u, "contribution_pct": b.contribution_pct}
                         for b in r.budget_mp]
    return {"q_mp": _finite(r.q_mp), "u_ms": _finite(r.u_mp), "result": keep}


def record_gage_study(store: Store, actor: Actor, characteristic_id: int, instrument_id: int, kind: str,
                      data: Mapping[str, Any], *, studied_at: dt.datetime | None = None) -> GageStudy:
    """Run the MSA kernel of ``kind`` (``type1``, ``grr``, ``vda5``) on ``data`` against the
    characteristic's tolerance and record the study (enterprise users of the owning tenant, or the
    admin). ``data`` holds the kernel's arguments (``readings`` and ``reference`` of a type-1
    study; ``readings`` as parts x appraisers x trials, or ``part``/``appraiser``/``value`` of a
    gage R&R; the ``u_*`` components of a VDA 5 budget). Bad data is refused naming the field
    (``data.readings``) and nothing is stored."""
    if not actor.is_admin and actor.role not in ENTERPRISE_ROLES:
        raise PermissionDeniedError(f"role {actor.role.value} may not record gage studies", field="role")
    char, _inst = store.gage_study_target(actor, characteristic_id, instrument_id)
    try:
        k = GageStudyKind(kind)
    except ValueError:
        raise InvalidInputError(f"must be one of {', '.join(x.value for x in GageStudyKind)}", field="kind") from None
    if not isinstance(data, Mapping):
        raise InvalidInputError("must be an object of the study's inputs", field="data")
    unknown = sorted(set(data) - _KEYS[k])
    if unknown:
        raise InvalidInputError(f"unknown input {unknown[0]!r} for a {k.value} study (known: "
                                f"{', '.join(sorted(_KEYS[k]))})", field=f"data.{unknown[0]}")
    for name in _REQUIRED[k]:
        if data.get(name) is None:
            raise InvalidInputError(f"is required for a {k.value} study", field=f"data.{name}")
    tol = tolerance_of(char)
    if tol is None:
        raise InvalidInputError("the characteristic needs a tolerance (both limits, or the upper limit of a "
                                "geometric tolerance)", field="characteristic_id")
    try:
        figures = _run_study(k, tol, data)
    except InvalidInputError as exc:
        arg = exc.details.get("argument") or exc.details.get("field")
        raise InvalidInputError(exc.message, field=f"data.{arg}" if arg else "data") from None
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"cannot be read as the study's inputs: {exc}", field="data") from None
    when = studied_at or dt.datetime.now(dt.UTC)
    study = GageStudy(characteristic_id=char.id, instrument_id=instrument_id, kind=k, studied_at=when,
                      result=_jsonable(figures.pop("result")), **figures)
    return store.add_gage_study(actor, study)


def gage_studies(store: Store, actor: Actor, characteristic_id: int) -> list[GageStudy]:
    return store.gage_studies(actor, characteristic_id=characteristic_id)


# -- the plan ---------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Option:
    """The cheapest adequate way to measure a characteristic."""

    kind: str  # current | own_instrument | lab | none
    ref: str | None  # instrument code, or lab code
    name: str | None
    cost: float | None  # 0 for an own instrument; the lab's price (None: not stated)
    u: float | None  # standard uncertainty it gives, in the characteristic's unit
    tur: float | None
    risk: float | None  # consumer's risk with it
    text_zh: str
    text_en: str
    lab_id: int | None = None
    instrument_id: int | None = None


@dataclass(frozen=True, slots=True)
class PrecisionRow:
    """One characteristic of the plan (figures in the characteristic's unit)."""

    characteristic_id: int
    product_id: int
    key: str
    name: str | None
    unit: str
    lower_limit: float | None
    upper_limit: float | None
    tolerance: float | None
    n_values: int
    process_mean: float | None
    process_sd: float | None  # of the measurand: the values' spread less the instrument's (see process_prior_sd)
    process_source: str  # summaries | lake | assumed (centred, Cp = 1) | none
    instrument_ids: tuple  # instruments used on it (plans, lake, studies)
    instrument_id: int | None  # the one governing the TUR (largest u)
    instrument_code: str | None
    u: float | None
    u_source: str | None  # instrument | calibration | ...
    tur: float | None
    pct_grr: float | None
    ndc: float | None
    q_mp: float | None
    q_mp_limit: float | None
    cgk: float | None
    risk_tur: float | None
    risk_grr: float | None
    risk_q_mp: float | None
    risk: float | None  # the largest of the three: the false-accept risk of measuring as now
    producer_risk: float | None  # false rejects with the instrument in use (R_P, JCGM 106 9.5.2)
    flags: tuple  # tur, grr, q_mp
    status: str  # adequate | inadequate | unknown
    option: Option

    @property
    def light(self) -> str:
        return {"adequate": "green", "inadequate": "red"}.get(self.status, "grey")


@dataclass(frozen=True, slots=True)
class PrecisionPlan:
    enterprise_id: int
    enterprise_code: str
    generated_at: dt.datetime
    process_source: str  # summaries | lake | none
    rows: tuple

    def sorted_by(self, key: str = "risk", descending: bool = True) -> list[PrecisionRow]:
        """Rows sorted by a numeric field (missing values last)."""
        have = [r for r in self.rows if getattr(r, key) is not None and not _isnan(getattr(r, key))]
        rest = [r for r in self.rows if r not in have]
        return sorted(have, key=lambda r: getattr(r, key), reverse=descending) + rest

    def summary(self) -> dict:
        """Counts for the aggregate view (no per-characteristic figures)."""
        rows = self.rows
        risks = [r.risk for r in rows if r.risk is not None and not _isnan(r.risk)]
        return {
            "characteristics": len(rows),
            "adequate": sum(r.status == "adequate" for r in rows),
            "inadequate": sum(r.status == "inadequate" for r in rows),
            "unknown": sum(r.status == "unknown" for r in rows),
            "tur_below_4": sum("tur" in r.flags for r in rows),
            "grr_above_30": sum("grr" in r.flags for r in rows),
            "q_mp_above_limit": sum("q_mp" in r.flags for r in rows),
            "option_own_instrument": sum(r.option.kind == "own_instrument" for r in rows),
            "option_lab": sum(r.option.kind == "lab" for r in rows),
            "option_none": sum(r.option.kind == "none" for r in rows),
            "max_risk": max(risks) if risks else None,
            "mean_risk": float(np.mean(risks)) if risks else None,
        }


def _isnan(x) -> bool:
    return isinstance(x, float) and math.isnan(x)


def _check_planner(store: Store, actor: Actor, enterprise_id: int):
    if not actor.is_admin and actor.role not in ENTERPRISE_ROLES and not actor.is_regulator:
        raise PermissionDeniedError(f"role {actor.role.value} may not read a precision plan", field="role")
    ent = store.get_enterprise(actor, enterprise_id)
    if not actor.is_admin and not actor.is_regulator and ent.tenant_id != actor.tenant_id:
        raise NotFoundError(f"enterprise {enterprise_id} not found", field="enterprise_id")
    return ent


def precision_summary(store: Store, actor: Actor, enterprise_id: int, *, now: dt.datetime | None = None) -> dict:
    """The plan's counts (no per-characteristic rows): for the regulator, who sees indicators of
    every enterprise; also for the enterprise itself and the admin."""
    _check_planner(store, actor, enterprise_id)
    reader = Actor(None, f"{actor.username}:aggregates", actor.tenant_id, Role.ADMIN) if actor.is_regulator else actor
    return _plan(store, reader, enterprise_id, now).summary()


def plan_precision(store: Store, actor: Actor, enterprise_id: int, *, now: dt.datetime | None = None) -> PrecisionPlan:
    """The precision plan of every characteristic of the enterprise (its enterprise users, the
    admin; the regulator gets :func:`precision_summary` only), rows sorted by risk, highest first."""
    _check_planner(store, actor, enterprise_id)
    if actor.is_regulator:
        raise PermissionDeniedError("the regulator sees the plan's indicators only (precision_summary)",
                                    field="role")
    return _plan(store, actor, enterprise_id, now)


def _process_stats(store: Store, actor: Actor, enterprise_id: int) -> tuple[dict, str]:
    """Characteristic id -> (n, mean, sd): the quality summaries of the latest analysis run when
    there are any (read in one go), else one DuckDB aggregation over the enterprise's values."""
    table = store.read_summaries(actor, "characteristic", enterprise_ids=[enterprise_id],
                                 columns=["characteristic_id", "n_values", "mean", "sigma_overall"])
    if table is not None and table.num_rows:
        d = table.to_pydict()
        return {int(c): (int(n or 0), m, s) for c, n, m, s in zip(d["characteristic_id"], d["n_values"], d["mean"],
                                                                  d["sigma_overall"], strict=True)}, "summaries"
    stats = store.lake_process_stats(actor, enterprise_id)
    return stats, "lake" if stats else "none"


def _covers(inst_min, inst_max, unit_from: str, unit_to: str, lo: float | None, hi: float | None) -> bool:
    if inst_min is None and inst_max is None:
        return True
    f = conversion_factor(unit_from, unit_to)
    a = inst_min * f if inst_min is not None else -math.inf
    b = inst_max * f if inst_max is not None else math.inf
    a, b = min(a, b), max(a, b)
    return all(a <= x <= b for x in (lo, hi) if x is not None)


def _latest_studies(studies: list[GageStudy]) -> dict[int, dict[tuple[int, int, str], GageStudy]]:
    """Characteristic id -> {(characteristic, instrument, kind): the latest such study}."""
    out: dict = {}
    for s in studies:  # oldest first: the latest wins
        out.setdefault(s.characteristic_id, {})[(s.characteristic_id, s.instrument_id, s.kind.value)] = s
    return out


def _plan(store: Store, actor: Actor, enterprise_id: int, now: dt.datetime | None) -> PrecisionPlan:
    now = now or dt.datetime.now(dt.UTC)
    ent = store.get_enterprise(actor, enterprise_id)
    chars = store.list_characteristics(actor, enterprise_id=enterprise_id)
    used: dict[int, set[int]] = {}
    for prod in store.list_products(actor, enterprise_id):
        for plan in store.list_plans(actor, prod.id):
            for item in plan.items:
                if item.instrument_id is not None:
                    used.setdefault(item.characteristic_id, set()).add(item.instrument_id)
    for cid, ids in store.instruments_in_lake(actor, enterprise_id).items():
        used.setdefault(cid, set()).update(ids)
    studies = _latest_studies(store.gage_studies(actor, enterprise_id=enterprise_id))
    for cid, latest in studies.items():
        used.setdefault(cid, set()).update(iid for _c, iid, _k in latest)
    instruments = {i.id: i for i in store.list_instruments(actor)}
    own = [i for i in instruments.values() if i.tenant_id == ent.tenant_id
           and (i.enterprise_id is None or i.enterprise_id == enterprise_id)]
    cals = store.latest_calibrations(actor, sorted(set(instruments)), now)
    labs = [lab for lab in store.list_labs(actor) if lab.qualification == QualificationState.QUALIFIED]
    stats, source = _process_stats(store, actor, enterprise_id)
    rows = [_row(c, used.get(c.id, set()), studies, instruments, own, cals, labs, stats, source, now)
            for c in chars]
    plan = PrecisionPlan(enterprise_id, ent.code, now, source, tuple(rows))
    return replace(plan, rows=tuple(plan.sorted_by("risk")))


def _usable(inst: Instrument, cal, now: dt.datetime) -> bool:
    """Not out of tolerance or expired as last calibrated (an instrument never calibrated counts
    only by its stated uncertainty)."""
    if cal is None:
        return inst.uncertainty is not None
    return cal.is_valid_at(now) and cal.result not in (CalibrationResult.OUT_OF_TOLERANCE, CalibrationResult.FAIL)


def _row(c: Characteristic, used: set[int], studies, instruments, own, cals, labs, stats, source,
         now: dt.datetime) -> PrecisionRow:
    tol = tolerance_of(c)
    lower = c.lower_limit
    upper = c.upper_limit

    # instruments in use and the one governing the TUR
    in_use = []
    for iid in sorted(used):
        inst = instruments.get(iid)
        if inst is None:
            continue
        u, why = instrument_uncertainty(inst, cals.get(iid), c.unit, now)
        in_use.append((inst, u, why))
    known = [(inst, u, why) for inst, u, why in in_use if u is not None]
    gov = max(known, key=lambda x: x[1]) if known else (in_use[0] if in_use else None)
    u = gov[1] if gov else None
    tur = test_uncertainty_ratio(tol, u) if tol is not None and u is not None else None

    n, mean, s_obs = stats.get(c.id, (0, None, None))
    sd = None
    if n >= 2 and mean is not None and s_obs is not None and s_obs > 0 and math.isfinite(s_obs):
        sd = process_prior_sd(s_obs, u)
        psource = source
    if sd is None and tol is not None:  # no spread known: a centred process just capable (Cp = 1, ISO 22514-2)
        lo_eff = lower if lower is not None else 0.0
        mean, sd, psource = lo_eff + tol / 2.0, tol / 6.0, "assumed"
    elif sd is None:
        mean, psource = None, "none"

    def risk(u: float | None) -> float | None:
        if u is None or mean is None or sd is None:
            return None
        return consumer_risk(float(mean), float(sd), float(u), lower, upper)

    # gage studies: the worst of the latest study of each instrument
    mine = [(k, s) for (_c, _i, k), s in studies.get(c.id, {}).items()]
    grr = [s for k, s in mine if k == "grr" and s.pct_grr is not None]
    vda = [s for k, s in mine if k == "vda5" and s.q_mp is not None]
    t1 = [s for k, s in mine if k == "type1" and s.cgk is not None]
    g = max(grr, key=lambda s: s.pct_grr) if grr else None
    v = max(vda, key=lambda s: s.q_mp - s.result.get("q_mp_limit", Q_MP_LIMIT)) if vda else None
    q_lim = v.result.get("q_mp_limit", Q_MP_LIMIT) if v else None

    flags = []
    if tur is not None and tur < TUR_MIN:
        flags.append("tur")
    if g is not None and g.pct_grr > GRR_MAX:
        flags.append("grr")
    if v is not None and v.q_mp > q_lim:
        flags.append("q_mp")
    risks = {"tur": risk(u), "grr": risk(g.u_ms) if g else None, "q_mp": risk(v.u_ms) if v else None}
    present = [r for r in risks.values() if r is not None and not _isnan(r)]
    row_risk = max(present) if present else None
    if tol is None:
        status = "unknown"
    elif flags:
        status = "inadequate"
    elif u is None and g is None and v is None:
        status = "unknown"
    else:
        status = "adequate"

    if status == "adequate":
        inst = gov[0] if gov else instruments.get((g or v).instrument_id)
        option = Option("current", inst.code if inst else None, inst.name if inst else None, 0.0, u, tur, row_risk,
                        f"现用测量满足要求（{inst.code if inst else '-'}）",
                        f"current measurement is adequate ({inst.code if inst else '-'})",
                        instrument_id=inst.id if inst else None)
    elif tol is None:
        option = Option("none", None, None, None, None, None, None, "无公差，无法评价", "no tolerance: cannot plan")
    else:
        option = _own_option(c, tol, used, studies, own, cals, now, risk) or _lab_option(c, tol, labs, risk) or \
            Option("none", None, None, None, None, None, None, *NONE_AVAILABLE)

    studies_of = [s for s in (g, v) if s is not None]
    return PrecisionRow(
        characteristic_id=c.id, product_id=c.product_id, key=c.key, name=c.name, unit=c.unit, lower_limit=lower,
        upper_limit=upper, tolerance=tol, n_values=int(n), process_mean=_finite(mean), process_sd=_finite(sd),
        process_source=psource, instrument_ids=tuple(sorted({i for i in used if i in instruments}
                                                             | {s.instrument_id for s in studies_of})),
        instrument_id=gov[0].id if gov else None, instrument_code=gov[0].code if gov else None, u=u,
        u_source=gov[2] if gov else None, tur=tur, pct_grr=g.pct_grr if g else None, ndc=g.ndc if g else None,
        q_mp=v.q_mp if v else None, q_mp_limit=q_lim, cgk=min(s.cgk for s in t1) if t1 else None,
        risk_tur=risks["tur"], risk_grr=risks["grr"], risk_q_mp=risks["q_mp"], risk=row_risk,
        producer_risk=global_risks(float(mean), float(sd), float(u), lower, upper)[1]
        if u is not None and mean is not None and sd is not None else None, flags=tuple(flags),
        status=status, option=option)


def _own_option(c, tol, used, studies, own, cals, now, risk) -> Option | None:
    """The enterprise's own instrument (cost 0) with TUR >= 4 whose latest studies on this
    characteristic pass: one already used first, then the best TUR."""
    best = None
    for inst in own:
        if not _fits(inst.quantity, inst.unit, c) or not _usable(inst, cals.get(inst.id), now):
            continue
        try:
            if not _covers(inst.range_min, inst.range_max, inst.unit, c.unit, c.lower_limit, c.upper_limit):
                continue
        except InvalidInputError:
            continue
        u, _why = instrument_uncertainty(inst, cals.get(inst.id), c.unit, now)
        if u is None:
            continue
        tur = test_uncertainty_ratio(tol, u)
        if tur < TUR_MIN:
            continue
        s_grr = studies.get(c.id, {}).get((c.id, inst.id, "grr"))
        s_vda = studies.get(c.id, {}).get((c.id, inst.id, "vda5"))
        if (s_grr and s_grr.pct_grr is not None and s_grr.pct_grr > GRR_MAX) or (
                s_vda and s_vda.q_mp is not None and s_vda.q_mp > s_vda.result.get("q_mp_limit", Q_MP_LIMIT)):
            continue
        rank = (inst.id not in used, -tur, inst.id)
        if best is None or rank < best[0]:
            best = (rank, inst, u, tur)
    if best is None:
        return None
    _, inst, u, tur = best
    return Option("own_instrument", inst.code, inst.name, 0.0, u, tur, risk(u),
                  f"改用本企业仪器 {inst.code}（TUR {tur:.1f}，无额外费用）",
                  f"use own instrument {inst.code} (TUR {tur:.1f}, no cost)", instrument_id=inst.id)


def _lab_option(c, tol, labs, risk) -> Option | None:
    """The qualified lab's scope line with TUR >= 4 at the characteristic's nominal: lowest price
    (a line without a price after the priced ones), then smallest CMC."""
    x = c.nominal if c.nominal is not None else (
        (c.lower_limit + c.upper_limit) / 2 if c.lower_limit is not None and c.upper_limit is not None
        else c.upper_limit if c.upper_limit is not None else c.lower_limit)
    best = None
    for lab in labs:
        for entry in lab.scope:
            if not _fits(entry.quantity, entry.unit, c):
                continue
            try:
                to_scope = conversion_factor(c.unit, entry.unit)
                to_char = conversion_factor(entry.unit, c.unit)
            except InvalidInputError:
                continue
            xs = x * to_scope if x is not None else None
            if xs is None or not entry.range_min <= xs <= entry.range_max:
                continue
            cmc = entry.cmc_at(xs) * to_char  # expanded uncertainty, k = 2
            u = cmc / K
            tur = test_uncertainty_ratio(tol, u)
            if tur < TUR_MIN:
                continue
            price = getattr(entry, "price", None)
            rank = (price is None, price if price is not None else 0.0, cmc, lab.id)
            if best is None or rank < best[0]:
                best = (rank, lab, entry, u, tur, price, cmc)
    if best is None:
        return None
    _, lab, entry, u, tur, price, cmc = best
    cost_zh = f"，价格 {price:g}" if price is not None else "，价格未标明"
    cost_en = f", price {price:g}" if price is not None else ", price not stated"
    return Option("lab", lab.code, lab.name, price, u, tur, risk(u),
                  f"委托合格实验室 {lab.name}（CMC {cmc:.3g} {c.unit}，TUR {tur:.1f}{cost_zh}）",
                  f"order from qualified lab {lab.name} (CMC {cmc:.3g} {c.unit}, TUR {tur:.1f}{cost_en})",
                  lab_id=lab.id)
