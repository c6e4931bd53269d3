"""Labs, instruments, calibrations, and the calibration chain as a graph."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import insert, select, update

from jingce.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError
from jingce.model import Calibration, CalibrationResult, Instrument, InstrumentKind, Lab, Role, ScopeEntry
from jingce.store import audit
from jingce.store import tables as t
from jingce.store.core import StoreBase
from jingce.store.tenancy import Actor


@dataclass(frozen=True, slots=True)
class ChainNode:
    instrument_id: int
    code: str
    name: str
    kind: str
    lab_id: int | None
    lab: str | None


@dataclass(frozen=True, slots=True)
class ChainLink:
    """``instrument_id`` was calibrated against ``standard_id`` (or against nothing: ``missing``).

    ``status`` is ``ok``, ``expired`` (the calibration was not valid at the time asked),
    ``out_of_tolerance``, ``missing`` (no calibration before that time) or ``cycle``.
    """

    instrument_id: int
    standard_id: int | None
    calibration_id: int | None
    certificate_no: str | None
    calibrated_at: dt.datetime | None
    valid_until: dt.datetime | None
    expanded_uncertainty: float | None
    coverage_factor: float | None
    unit: str | None
    status: str


@dataclass(frozen=True, slots=True)
class CalibrationChain:
    """The traceability graph behind an instrument at a time: nodes, links and whether it holds."""

    root_id: int
    at: dt.datetime
    nodes: tuple[ChainNode, ...]
    links: tuple[ChainLink, ...]

    @property
    def broken_links(self) -> tuple[ChainLink, ...]:
        return tuple(link for link in self.links if link.status != "ok")

    @property
    def unbroken(self) -> bool:
        """True when every path ends at a national standard through valid, in-tolerance links."""
        return not self.broken_links


class MetrologyMixin(StoreBase):
    """Labs, instruments and calibrations; the calibration graph."""

    def add_lab(self, actor: Actor, lab: Lab) -> Lab:
        """Register a lab (admin or regulator); its qualification starts as given (normally ``applied``)."""
        self._require_role(actor, Role.REGULATOR)
        values = self._row(lab, exclude=("id", "scope")) | {"scope": [s.model_dump(mode="json") for s in lab.scope]}
        return self._insert(t.lab, lab, "lab code", values=values)

    def add_scope_entry(self, actor: Actor, lab_id: int, entry: ScopeEntry) -> Lab:
        """Append a line to a lab's published scope (the lab's own users, the regulator or the
        admin); returns the lab. An identical line already there is not added twice."""
        with self._write() as conn:
            row = conn.execute(select(t.lab).where(t.lab.c.id == lab_id)).first()
            if row is None:
                raise NotFoundError(f"lab {lab_id} not found", field="lab_id")
            if not (actor.is_admin or actor.is_regulator or (actor.role is Role.LAB and row.tenant_id == actor.tenant_id)):
                raise PermissionDeniedError("only the lab itself, the regulator or the admin may change its scope",
                                            field="lab_id")
            line = entry.model_dump(mode="json")
            scope = list(row.scope or [])
            if line not in scope:
                conn.execute(update(t.lab).where(t.lab.c.id == lab_id).values(scope=[*scope, line]))
            row = conn.execute(select(t.lab).where(t.lab.c.id == lab_id)).first()
        return self._lab_model(row)

    def _lab_model(self, row) -> Lab:
        return self._model(Lab, row, scope=tuple(ScopeEntry(**s) for s in row.scope))

    def get_lab(self, actor: Actor, lab_id: int | None = None, *, code: str | None = None) -> Lab:
        """Labs form a public directory: every user may read them."""
        q = select(t.lab).where(t.lab.c.id == lab_id if code is None else t.lab.c.code == code)
        with self._read() as conn:
            row = conn.execute(q).first()
        if row is None:
            raise NotFoundError(f"lab {code or lab_id!s} not found", field="lab")
        return self._lab_model(row)

    def list_labs(self, actor: Actor) -> list[Lab]:
        with self._read() as conn:
            return [self._lab_model(r) for r in conn.execute(select(t.lab).order_by(t.lab.c.id))]

    # -- instruments --------------------------------------------------------------------------

    def add_instrument(self, actor: Actor, instrument: Instrument) -> Instrument:
        """An instrument belongs to the acting tenant (the admin may register it for any tenant)."""
        if not actor.is_admin and instrument.tenant_id != actor.tenant_id:
            raise NotFoundError("tenant not found", field="tenant_id")
        if not actor.is_admin and instrument.kind in (InstrumentKind.NATIONAL_STANDARD, InstrumentKind.PROVINCIAL_STANDARD):
            self._require_role(actor, Role.LAB)
        return self._insert(t.instrument, instrument, "instrument code")

    def _instrument_visible(self, actor: Actor, row) -> bool:
        """Own instruments; any standard (the public traceability infrastructure); the regulator
        and the admin see every instrument (calibration compliance is supervised)."""
        return (actor.is_admin or actor.is_regulator or row.tenant_id == actor.tenant_id
                or row.kind != InstrumentKind.WORKING.value)

    def get_instrument(self, actor: Actor, instrument_id: int | None = None, *, code: str | None = None) -> Instrument:
        q = select(t.instrument).where(t.instrument.c.id == instrument_id if code is None else t.instrument.c.code == code)
        with self._read() as conn:
            row = conn.execute(q).first()
        if row is None or not self._instrument_visible(actor, row):
            raise NotFoundError(f"instrument {code or instrument_id!s} not found", field="instrument")
        return self._model(Instrument, row)

    def list_instruments(self, actor: Actor, *, enterprise_id: int | None = None) -> list[Instrument]:
        q = select(t.instrument).order_by(t.instrument.c.id)
        if enterprise_id is not None:
            q = q.where(t.instrument.c.enterprise_id == enterprise_id)
        with self._read() as conn:
            rows = conn.execute(q).all()
        return [self._model(Instrument, r) for r in rows if self._instrument_visible(actor, r)
                and (r.tenant_id == actor.tenant_id or actor.is_admin or actor.is_regulator or enterprise_id is None)]

    # -- calibrations -------------------------------------------------------------------------

    def add_calibration(self, actor: Actor, cal: Calibration) -> Calibration:
        """Record a calibration issued by ``cal.lab_id`` (acting as that lab's tenant, or admin).

        The record is appended to the audit chain in the same transaction.
        """
        now = dt.datetime.now(dt.UTC)
        if cal.calibrated_at > now + dt.timedelta(minutes=5):
            raise InvalidInputError("a calibration cannot be dated in the future", field="calibrated_at")
        with self._write() as conn:
            lab = conn.execute(select(t.lab).where(t.lab.c.id == cal.lab_id)).first()
            if lab is None:
                raise NotFoundError(f"lab {cal.lab_id} not found", field="lab_id")
            if not actor.is_admin and lab.tenant_id != actor.tenant_id:
                raise NotFoundError(f"lab {cal.lab_id} not found", field="lab_id")
            inst = conn.execute(select(t.instrument).where(t.instrument.c.id == cal.instrument_id)).first()
            if inst is None:
                raise NotFoundError(f"instrument {cal.instrument_id} not found", field="instrument_id")
            if cal.standard_ids:
                found = set(conn.execute(select(t.instrument.c.id).where(t.instrument.c.id.in_(cal.standard_ids))).scalars())
                if found != set(cal.standard_ids):
                    raise NotFoundError(f"standard(s) {sorted(set(cal.standard_ids) - found)} not found", field="standard_ids")
                for sid in cal.standard_ids:
                    if self._standard_reaches(conn, sid, cal.instrument_id):
                        raise ConflictError(
                            f"calibrating {cal.instrument_id} against {sid} would make the chain a cycle",
                            field="standard_ids")
            values = self._row(cal, exclude=("id", "standard_ids"))
            saved = self._insert(t.calibration, cal, "certificate number", conn=conn, values=values)
            if cal.standard_ids:
                conn.execute(insert(t.calibration_standard),
                             [{"calibration_id": saved.id, "standard_id": s} for s in cal.standard_ids])
            seq, digest = audit.append(conn, "calibration", f"{lab.code}/{cal.certificate_no}",
                                       cal.model_dump(mode="json") | {"id": saved.id}, actor.username)
        audit.write_anchor(self.anchor_path, seq, digest)
        return saved

    def _standard_reaches(self, conn, standard_id: int, target: int) -> bool:
        """Whether ``standard_id`` is (transitively) calibrated against ``target``."""
        seen, frontier = {standard_id}, {standard_id}
        while frontier:
            if target in frontier:
                return True
            nxt = set(conn.execute(
                select(t.calibration_standard.c.standard_id)
                .join(t.calibration, t.calibration.c.id == t.calibration_standard.c.calibration_id)
                .where(t.calibration.c.instrument_id.in_(frontier))
            ).scalars()) - seen
            seen |= nxt
            frontier = nxt
        return False

    def calibrations(self, actor: Actor, instrument_id: int) -> list[Calibration]:
        """Calibration history of an instrument, oldest first."""
        self.get_instrument(actor, instrument_id)
        with self._read() as conn:
            rows = conn.execute(select(t.calibration).where(t.calibration.c.instrument_id == instrument_id)
                                .order_by(t.calibration.c.calibrated_at)).all()
            stds = self._standards_of(conn, [r.id for r in rows])
        return [self._model(Calibration, r, standard_ids=tuple(stds.get(r.id, ()))) for r in rows]

    @staticmethod
    def _standards_of(conn, calibration_ids: list[int]) -> dict[int, list[int]]:
        out: dict[int, list[int]] = {}
        if calibration_ids:
            for r in conn.execute(select(t.calibration_standard).where(
                    t.calibration_standard.c.calibration_id.in_(calibration_ids))):
                out.setdefault(r.calibration_id, []).append(r.standard_id)
        return out

    def calibration_chain(self, actor: Actor, instrument_id: int, at: dt.datetime | None = None) -> CalibrationChain:
        """The calibration chain behind ``instrument_id`` at time ``at`` (default now), as a graph.

        For each instrument on the way the calibration in force at ``at`` (the latest one
        calibrated before it) links it to the standards used; the walk ends at national
        standards, which realise the SI unit. Links that are missing, expired or out of tolerance
        are kept and marked, so a broken chain says which link breaks it and why.
        """
        at = at or dt.datetime.now(dt.UTC)
        if at.tzinfo is None:
            raise InvalidInputError("must be timezone-aware", field="at")
        self.get_instrument(actor, instrument_id)
        nodes: dict[int, ChainNode] = {}
        links: list[ChainLink] = []
        with self._read() as conn:
            labs = {r.id: r.name for r in conn.execute(select(t.lab.c.id, t.lab.c.name))}
            frontier, path_of = [instrument_id], {instrument_id: frozenset([instrument_id])}
            while frontier:
                nxt = []
                for iid in frontier:
                    if iid in nodes:
                        continue
                    inst = conn.execute(select(t.instrument).where(t.instrument.c.id == iid)).first()
                    nodes[iid] = ChainNode(iid, inst.code, inst.name, inst.kind, inst.lab_id, labs.get(inst.lab_id))
                    if inst.kind == InstrumentKind.NATIONAL_STANDARD.value:
                        continue
                    cal = conn.execute(
                        select(t.calibration).where(t.calibration.c.instrument_id == iid,
                                                    t.calibration.c.calibrated_at <= at)
                        .order_by(t.calibration.c.calibrated_at.desc()).limit(1)
                    ).first()
                    if cal is None:
                        links.append(ChainLink(iid, None, None, None, None, None, None, None, None, "missing"))
                        continue
                    if cal.result in (CalibrationResult.OUT_OF_TOLERANCE.value, CalibrationResult.FAIL.value):
                        status = "out_of_tolerance"
                    elif at > cal.valid_until:
                        status = "expired"
                    else:
                        status = "ok"
                    stds = self._standards_of(conn, [cal.id]).get(cal.id, [])
                    if not stds:
                        links.append(ChainLink(iid, None, cal.id, cal.certificate_no, cal.calibrated_at, cal.valid_until,
                                               cal.expanded_uncertainty, cal.coverage_factor, cal.unit,
                                               "missing" if status == "ok" else status))
                    for sid in stds:
                        link_status = "cycle" if sid in path_of[iid] else status
                        links.append(ChainLink(iid, sid, cal.id, cal.certificate_no, cal.calibrated_at, cal.valid_until,
                                               cal.expanded_uncertainty, cal.coverage_factor, cal.unit, link_status))
                        if link_status != "cycle":
                            path_of[sid] = path_of[iid] | {sid}
                            nxt.append(sid)
                frontier = nxt
        return CalibrationChain(instrument_id, at, tuple(nodes.values()), tuple(links))

    def latest_calibrations(self, actor: Actor, instrument_ids: list[int], at: dt.datetime | None = None
                            ) -> dict[int, Calibration]:
        """The calibration in force at ``at`` (default now) of each of ``instrument_ids``: the latest
        one calibrated before ``at`` (instruments the actor may not see, or never calibrated before
        ``at``, are left out). One query for many instruments (dashboards); ``standard_ids`` are not
        filled in."""
        at = at or dt.datetime.now(dt.UTC)
        if at.tzinfo is None:
            raise InvalidInputError("must be timezone-aware", field="at")
        out: dict[int, Calibration] = {}
        ids = sorted({int(i) for i in instrument_ids})
        with self._read() as conn:
            for i in range(0, len(ids), 5000):
                chunk = ids[i:i + 5000]
                visible = {r.id for r in conn.execute(select(t.instrument).where(t.instrument.c.id.in_(chunk)))
                           if self._instrument_visible(actor, r)}
                rows = conn.execute(select(t.calibration).where(t.calibration.c.instrument_id.in_(sorted(visible)),
                                                                t.calibration.c.calibrated_at <= at)
                                    .order_by(t.calibration.c.instrument_id, t.calibration.c.calibrated_at,
                                              t.calibration.c.id)).all()
                for r in rows:  # ordered: the last row of each instrument wins
                    out[r.instrument_id] = self._model(Calibration, r)
        return out
