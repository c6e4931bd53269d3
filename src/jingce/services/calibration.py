"""Calibration management: which instruments are due or overdue, the recall schedule, and the
calibration interval each instrument family's history recommends (NCSLI RP-1 Method A3).

An instrument is *overdue* when its latest calibration's validity has ended, *due* when it ends
within the horizon (default 90 days), *never* when it was never calibrated, and
*out_of_tolerance* when its latest calibration found it so (it must not be used until it is
adjusted or replaced). National standards are not recalled here.

A family is the instruments of one kind (working instrument, reference standard, ...) measuring
one quantity in one unit (``working/length/mm``). Its history is every calibration that followed
an earlier one of the same instrument: the instrument was *in tolerance* at the end of the
interval when that calibration found it so as received (result ``pass``; ``adjusted``,
``out_of_tolerance`` and ``fail`` count as out of tolerance). The interval in use is the one most
often assigned in the family (the validity of the earlier calibration, in days); Method A3 tests
the observed end-of-period reliability against the target and extrapolates a new interval when
the test rejects the current one.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from jingce.errors import InvalidInputError
from jingce.kernels.intervals import a3_interval_test
from jingce.store import Actor, Store

IN_TOLERANCE = ("pass",)
STATUSES = ("overdue", "out_of_tolerance", "never", "due", "ok")


@dataclass(frozen=True, slots=True)
class DueItem:
    """An instrument's calibration state at ``at``."""

    instrument_id: int
    code: str
    name: str
    kind: str
    family: str
    tenant_id: int
    enterprise_id: int | None
    lab_id: int | None
    last_calibrated: dt.datetime | None
    due: dt.datetime | None
    days_left: float | None
    status: str
    certificate_no: str | None


@dataclass(frozen=True, slots=True)
class RecallWeek:
    """Instruments whose calibration falls due in the ISO week starting ``week_start`` (Monday)."""

    week_start: dt.date
    count: int
    instruments: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class FamilyInterval:
    """The interval recommendation for one family (Method A3 of NCSLI RP-1)."""

    family: str
    instruments: int
    n: int
    in_tolerance: int
    observed_reliability: float
    current_interval_days: float
    recommended_days: float
    calculated_days: float
    rejection_confidence: float
    changed: bool


@dataclass(frozen=True, slots=True)
class CalibrationPlan:
    at: dt.datetime
    horizon_days: int
    items: tuple[DueItem, ...]
    recall: tuple[RecallWeek, ...]
    intervals: tuple[FamilyInterval, ...]

    def count(self, status: str) -> int:
        return sum(1 for i in self.items if i.status == status)


def family_of(kind: str, quantity: str, unit: str) -> str:
    return f"{kind}/{quantity}/{unit}"


def _managed(store: Store, actor: Actor):
    """The instruments whose recall the actor manages: its tenant's own (the regulator and the
    admin: every one in the region); national standards excluded."""
    return [i for i in store.list_instruments(actor)
            if i.kind.value != "national_standard" and (actor.is_admin or actor.is_regulator
                                                        or i.tenant_id == actor.tenant_id)]


def due_items(store: Store, actor: Actor, *, at: dt.datetime | None = None, horizon_days: int = 90
              ) -> list[DueItem]:
    """Each managed instrument's calibration state at ``at`` (default now), the most urgent first."""
    at = at or dt.datetime.now(dt.UTC)
    if at.tzinfo is None:
        raise InvalidInputError("must be timezone-aware", field="at")
    if not 1 <= horizon_days <= 3660:
        raise InvalidInputError("must be between 1 and 3660 days", field="horizon_days")
    insts = _managed(store, actor)
    latest = store.latest_calibrations(actor, [i.id for i in insts], at)
    horizon = at + dt.timedelta(days=horizon_days)
    out = []
    for i in insts:
        c = latest.get(i.id)
        if c is None:
            status, due = "never", None
        else:
            due = c.valid_until
            if c.result.value in ("out_of_tolerance", "fail"):
                status = "out_of_tolerance"
            elif due < at:
                status = "overdue"
            elif due <= horizon:
                status = "due"
            else:
                status = "ok"
        out.append(DueItem(i.id, i.code, i.name, i.kind.value, family_of(i.kind.value, i.quantity, i.unit),
                           i.tenant_id, i.enterprise_id, i.lab_id, c.calibrated_at if c else None, due,
                           None if due is None else (due - at).total_seconds() / 86400, status,
                           c.certificate_no if c else None))
    rank = {s: k for k, s in enumerate(STATUSES)}
    out.sort(key=lambda d: (rank[d.status], d.due or at, d.code))
    return out


def recall_schedule(items: list[DueItem], at: dt.datetime, horizon_days: int = 90) -> list[RecallWeek]:
    """Instruments falling due in each week from ``at`` to ``at + horizon_days`` (weeks start
    on Monday; every week of the horizon is listed, empty ones too). Overdue ones are not in it:
    they are already late."""
    start = (at - dt.timedelta(days=at.weekday())).date()
    end = (at + dt.timedelta(days=horizon_days)).date()
    weeks: dict[dt.date, list[str]] = {}
    d = start
    while d <= end:
        weeks[d] = []
        d += dt.timedelta(days=7)
    for i in items:
        if i.due is not None and at <= i.due <= at + dt.timedelta(days=horizon_days):
            wk = i.due.date() - dt.timedelta(days=i.due.weekday())
            weeks.setdefault(wk, []).append(i.code)
    return [RecallWeek(w, len(v), tuple(sorted(v))) for w, v in sorted(weeks.items())]


def family_intervals(store: Store, actor: Actor, *, target_reliability: float = 0.9, confidence: float = 0.5,
                     max_change: float = 2.0) -> list[FamilyInterval]:
    """The recommended interval of each family from its in/out-of-tolerance record (NCSLI RP-1
    Method A3, see the module docstring); families without a recalibration yet are left out.

    References
    ----------
    NCSLI RP-1 (2010), Method A3 (interval test).
    """
    insts = {i.id: i for i in store.list_instruments(actor) if i.kind.value != "national_standard"}
    fam_obs: dict[str, list[tuple[bool, float]]] = {}
    members: dict[str, set[int]] = {}
    prev = None
    for r in store.calibration_records(actor, list(insts)):
        # (id, instrument_id, calibrated_at, valid_until, result, ...), ordered by instrument and time
        if prev is not None and prev[1] == r[1]:
            i = insts[r[1]]
            fam = family_of(i.kind.value, i.quantity, i.unit)
            assigned = (prev[3] - prev[2]).total_seconds() / 86400
            fam_obs.setdefault(fam, []).append((r[4] in IN_TOLERANCE, assigned))
            members.setdefault(fam, set()).add(r[1])
        prev = r
    out = []
    for fam in sorted(fam_obs):
        obs = fam_obs[fam]
        current = Counter(round(a) for _, a in obs).most_common(1)[0][0]
        g, n = sum(ok for ok, _ in obs), len(obs)
        res = a3_interval_test(g, n, max(float(current), 1.0), target_reliability, confidence=confidence,
                               max_change=max_change, min_interval=1.0)
        out.append(FamilyInterval(fam, len(members[fam]), n, g, res.observed_reliability, float(current),
                                  round(res.interval, 1), round(res.calculated_interval, 1), res.rejection_confidence,
                                  res.changed))
    return out


def calibration_plan(store: Store, actor: Actor, *, at: dt.datetime | None = None, horizon_days: int = 90,
                     target_reliability: float = 0.9) -> CalibrationPlan:
    """Due and overdue instruments, the recall schedule by week over the horizon, and the
    recommended interval of each family."""
    at = at or dt.datetime.now(dt.UTC)
    items = due_items(store, actor, at=at, horizon_days=horizon_days)
    return CalibrationPlan(at, horizon_days, tuple(items), tuple(recall_schedule(items, at, horizon_days)),
                           tuple(family_intervals(store, actor, target_reliability=target_reliability)))


# -- indicators for the region view -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EnterpriseCalibration:
    """Calibration compliance and traceability coverage of one enterprise's working instruments at
    a time: ``compliant`` ones have a calibration in force that found them in tolerance;
    ``traceable`` ones, in addition, an unbroken chain up to a national standard."""

    enterprise_id: int
    instruments: int
    compliant: int
    traceable: int

    @property
    def compliance(self) -> float:
        return self.compliant / self.instruments if self.instruments else float("nan")

    @property
    def coverage(self) -> float:
        return self.traceable / self.instruments if self.instruments else float("nan")


def traceable_instruments(store: Store, actor: Actor, *, at: dt.datetime | None = None) -> dict[int, bool]:
    """For every instrument the actor sees, whether its calibration chain at ``at`` (default now)
    is unbroken (the same rule as :meth:`Store.calibration_chain`: every link valid, in tolerance,
    with its standards recorded, ending at national standards), in a few queries for the whole
    region instead of one walk per instrument."""
    at = at or dt.datetime.now(dt.UTC)
    if at.tzinfo is None:
        raise InvalidInputError("must be timezone-aware", field="at")
    insts = {i.id: i for i in store.list_instruments(actor)}
    latest = store.latest_calibrations(actor, list(insts), at)
    stds = store.standards_used(actor, [c.id for c in latest.values()])
    memo: dict[int, bool] = {}

    def ok(iid: int, path: frozenset[int]) -> bool:
        if iid in memo:
            return memo[iid]
        inst = insts.get(iid)
        if inst is not None and inst.kind.value == "national_standard":
            return True
        c = latest.get(iid)
        good = (inst is not None and c is not None and c.result.value in ("pass", "adjusted")
                and at <= c.valid_until and bool(stds.get(c.id)))
        if good:
            good = all(s not in path and ok(s, path | {s}) for s in stds[c.id])
        memo[iid] = good
        return good

    return {iid: ok(iid, frozenset([iid])) for iid in insts}


def enterprise_calibration(store: Store, actor: Actor, *, at: dt.datetime | None = None
                           ) -> list[EnterpriseCalibration]:
    """Calibration compliance and traceability coverage per enterprise (the region view's
    indicators), over the working instruments the actor sees."""
    at = at or dt.datetime.now(dt.UTC)
    trace = traceable_instruments(store, actor, at=at)
    items = {i.instrument_id: i for i in due_items(store, actor, at=at)}
    per: dict[int, list[int]] = {}
    for iid, item in items.items():
        if item.kind != "working" or item.enterprise_id is None:
            continue
        x = per.setdefault(item.enterprise_id, [0, 0, 0])
        x[0] += 1
        x[1] += item.status in ("ok", "due")
        x[2] += item.status in ("ok", "due") and trace.get(iid, False)
    return [EnterpriseCalibration(e, *per[e]) for e in sorted(per)]
