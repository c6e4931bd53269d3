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
        """Append a line to a lab's published scope (the regulator or the admin; the lab's own
        users only while its application is under review, state ``applied``); returns the lab.
        An identical line already there is not added twice."""
        with self._write() as conn:
            row = conn.execute(select(t.lab).where(t.lab.c.id == lab_id)).first()
            if row is None:
                raise NotFoundError(f"lab {lab_id} not found", field="lab_id")
            if not (actor.is_admin or actor.is_regulator or (actor.role is Role.LAB and row.tenant_id == actor.tenant_id)):
                raise PermissionDeniedError("only the lab itself, the regulator or the admin may change its scope",
                                            field="lab_id")
            if actor.role is Role.LAB and row.qualification != "applied":
                # the scope is what the regulator qualified: once reviewed, a lab cannot widen it itself
                raise PermissionDeniedError(
                    f"the lab is {row.qualification}: its scope is extended by the regulator after review "
                    "(apply for the extension) / 实验室已受审：扩项须经监管部门评审", field="lab_id")
            line = entry.model_dump(mode="json")
            scope = list(row.scope or [])
            if line not in scope:
                conn.execute(update(t.lab).where(t.lab.c.id == lab_id).values(scope=[*scope, line]))
            row = conn.execute(select(t.lab).where(t.lab.c.id == lab_id)).first()
        return self._lab_model(row)

    def _lab_model(self, row) -> Lab:
        return self._model(Lab, row, scope=tuple(ScopeEntry(**s) for s in row.scope))

    def get_lab(self, actor: Actor, lab_id: int | None = None, *, code: str | None = None) -> Lab:
        """Labs form a public directory: every user may read them, with their state (suspended and
        revoked labs are shown, marked); a pending application (``applied``) only its own tenant,
        the regulator and the admin see."""
        q = select(t.lab).where(t.lab.c.id == lab_id if code is None else t.lab.c.code == code)
        with self._read() as conn:
            row = conn.execute(q).first()
        if row is None or not (actor.is_admin or actor.is_regulator or row.tenant_id == actor.tenant_id
                               or row.qualification != "applied"):
            raise NotFoundError(f"lab {code or lab_id!s} not found", field="lab")
        return self._lab_model(row)

    def list_labs(self, actor: Actor) -> list[Lab]:
        """The labs :meth:`get_lab` shows the actor."""
        with self._read() as conn:
            return [self._lab_model(r) for r in conn.execute(select(t.lab).order_by(t.lab.c.id))
                    if actor.is_admin or actor.is_regulator or r.tenant_id == actor.tenant_id
                    or r.qualification != "applied"]

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

    # -- reverse traceability, calibration management (issue 9) -------------------------------

    def get_calibration(self, actor: Actor, calibration_id: int) -> Calibration:
        """One calibration (with its standards), if the actor may see the instrument."""
        with self._read() as conn:
            row = conn.execute(select(t.calibration).where(t.calibration.c.id == calibration_id)).first()
            inst = None if row is None else conn.execute(
                select(t.instrument).where(t.instrument.c.id == row.instrument_id)).first()
            if row is None or not self._instrument_visible(actor, inst):
                raise NotFoundError(f"calibration {calibration_id} not found", field="calibration_id")
            stds = self._standards_of(conn, [row.id]).get(row.id, [])
        return self._model(Calibration, row, standard_ids=tuple(stds))

    def may_assess_impact(self, actor: Actor, calibration_id: int) -> Calibration:
        """The out-of-tolerance impact of a calibration is assessed by the lab that issued it, the
        regulator or the admin (anyone else: not found, or not allowed when it can see it)."""
        cal = self.get_calibration(actor, calibration_id)
        if actor.is_admin or actor.is_regulator:
            return cal
        with self._read() as conn:
            lab_tenant = conn.execute(select(t.lab.c.tenant_id).where(t.lab.c.id == cal.lab_id)).scalar()
        if actor.role is not Role.LAB or lab_tenant != actor.tenant_id:
            raise PermissionDeniedError("only the lab that issued the calibration, the regulator or the admin may "
                                        "assess its impact", field="calibration_id")
        return cal

    def calibrations_against(self, actor: Actor, standard_ids: list[int]) -> list[tuple]:
        """Calibrations made against any of ``standard_ids``: ``(calibration_id, instrument_id,
        standard_id, calibrated_at)`` (the regulator and the admin: registry of the whole region)."""
        self._require_role(actor, Role.REGULATOR)
        ids = sorted({int(i) for i in standard_ids})
        out: list[tuple] = []
        with self._read() as conn:
            for i in range(0, len(ids), 5000):
                out += [tuple(r) for r in conn.execute(
                    select(t.calibration.c.id, t.calibration.c.instrument_id, t.calibration_standard.c.standard_id,
                           t.calibration.c.calibrated_at)
                    .join(t.calibration_standard, t.calibration_standard.c.calibration_id == t.calibration.c.id)
                    .where(t.calibration_standard.c.standard_id.in_(ids[i:i + 5000])))]
        return out

    def calibration_records(self, actor: Actor, instrument_ids: list[int] | None = None) -> list[tuple]:
        """Every calibration of the visible instruments (or of ``instrument_ids``) ordered by
        instrument and time: ``(id, instrument_id, calibrated_at, valid_until, result,
        error_as_found, expanded_uncertainty, coverage_factor, unit, certificate_no, lab_id)``.
        One query per 5,000 instruments (calibration management and the impact walk)."""
        cols = (t.calibration.c.id, t.calibration.c.instrument_id, t.calibration.c.calibrated_at,
                t.calibration.c.valid_until, t.calibration.c.result, t.calibration.c.error_as_found,
                t.calibration.c.expanded_uncertainty, t.calibration.c.coverage_factor, t.calibration.c.unit,
                t.calibration.c.certificate_no, t.calibration.c.lab_id)
        order = (t.calibration.c.instrument_id, t.calibration.c.calibrated_at, t.calibration.c.id)
        out: list[tuple] = []
        with self._read() as conn:
            if instrument_ids is None:
                visible = sorted(r.id for r in conn.execute(select(t.instrument)) if self._instrument_visible(actor, r))
            else:
                wanted = sorted({int(i) for i in instrument_ids})
                visible = []
                for i in range(0, len(wanted), 5000):
                    visible += [r.id for r in conn.execute(select(t.instrument).where(
                        t.instrument.c.id.in_(wanted[i:i + 5000]))) if self._instrument_visible(actor, r)]
            for i in range(0, len(visible), 5000):
                out += [tuple(r) for r in conn.execute(select(*cols).where(
                    t.calibration.c.instrument_id.in_(visible[i:i + 5000])).order_by(*order))]
        out.sort(key=lambda r: (r[1], r[2], r[0]))
        return out

    def standards_used(self, actor: Actor, calibration_ids: list[int]) -> dict[int, list[int]]:
        """The standards each of ``calibration_ids`` was made against (one query per 5,000)."""
        ids = sorted({int(i) for i in calibration_ids})
        out: dict[int, list[int]] = {}
        with self._read() as conn:
            for i in range(0, len(ids), 5000):
                for k, v in self._standards_of(conn, ids[i:i + 5000]).items():
                    out.setdefault(k, []).extend(v)
        return out

    def instruments_by_id(self, actor: Actor, instrument_ids: list[int]) -> dict[int, Instrument]:
        """The visible ones of ``instrument_ids`` (one query per 5,000)."""
        ids = sorted({int(i) for i in instrument_ids})
        out: dict[int, Instrument] = {}
        with self._read() as conn:
            for i in range(0, len(ids), 5000):
                for r in conn.execute(select(t.instrument).where(t.instrument.c.id.in_(ids[i:i + 5000]))):
                    if self._instrument_visible(actor, r):
                        out[r.id] = self._model(Instrument, r)
        return out

    def assembly_links(self, actor: Actor, child_product_ids: list[int]):
        """As-built links whose child is a part of ``child_product_ids``, as an Arrow table:
        ``child_product_id, child_serial, parent_part_id, parent_serial, parent_product_id,
        parent_enterprise_id`` (regulator, admin). One query per 1,000 products."""
        import pyarrow as pa
        from sqlalchemy.orm import aliased

        self._require_role(actor, Role.REGULATOR)
        child, parent = aliased(t.part), aliased(t.part)
        names = ("child_product_id", "child_serial", "parent_part_id", "parent_serial", "parent_product_id",
                 "parent_enterprise_id")
        types = (pa.int32(), pa.string(), pa.int64(), pa.string(), pa.int32(), pa.int32())
        ids = sorted({int(p) for p in child_product_ids})
        rows: list = []
        with self._read() as conn:
            for i in range(0, len(ids), 1000):
                rows += conn.execute(
                    select(child.c.product_id, child.c.serial, parent.c.id, parent.c.serial, parent.c.product_id,
                           t.product.c.enterprise_id)
                    .select_from(t.assembly)
                    .join(child, child.c.id == t.assembly.c.child_part_id)
                    .join(parent, parent.c.id == t.assembly.c.parent_part_id)
                    .join(t.product, t.product.c.id == parent.c.product_id)
                    .where(child.c.product_id.in_(ids[i:i + 1000]))).all()
        cols = list(zip(*rows, strict=True)) if rows else [()] * len(names)
        return pa.table({n: pa.array(list(c), ty) for n, c, ty in zip(names, cols, types, strict=True)})

    # -- impact reports -----------------------------------------------------------------------

    @property
    def impact_root(self):
        return self.data_dir / "impact"

    def impact_staging(self) -> ImpactStaging:
        """A folder under ``<data>/impact/`` to stream a report's tables into before it is saved."""
        import uuid

        folder = self.data_dir / "impact" / f".staging-{uuid.uuid4().hex}"
        folder.mkdir(parents=True, exist_ok=True)
        return ImpactStaging(folder)

    def save_impact_report(self, actor: Actor, calibration_id: int, summary: dict, tables: dict | None = None, *,
                           staging: ImpactStaging | None = None) -> int:
        """Store an impact report: ``summary`` (JSON) in the registry, its tables (``tables``:
        name -> Arrow table, and/or those streamed into ``staging``) as Parquet files under
        ``<data>/impact/report-<id>/``; returns the report id. The assessor's right is checked
        again here."""
        import shutil

        import pyarrow.parquet as pq

        self.may_assess_impact(actor, calibration_id)
        now = dt.datetime.now(dt.UTC)
        if staging is None:
            staging = self.impact_staging()
        staging.close()
        for name, table in (tables or {}).items():
            pq.write_table(table, staging.folder / f"{name}.parquet")
        try:
            with self._write() as conn:
                rid = int(conn.execute(insert(t.impact_report).values(
                    calibration_id=calibration_id, created_at=now, actor=actor.username, summary=summary,
                    details_path=None)).inserted_primary_key[0])
                rel = f"impact/report-{rid}"
                staging.folder.replace(self.data_dir / rel)
                conn.execute(update(t.impact_report).where(t.impact_report.c.id == rid).values(details_path=rel))
        except BaseException:
            shutil.rmtree(staging.folder, ignore_errors=True)
            raise
        return rid

    def _impact_reader(self, actor: Actor) -> tuple[bool, set[int]]:
        """(sees whole reports, own enterprise ids)."""
        with self._read() as conn:
            own = set(conn.execute(select(t.enterprise.c.id).where(t.enterprise.c.tenant_id == actor.tenant_id))
                      .scalars())
        return actor.is_admin or actor.is_regulator, own

    def _impact_row_visible(self, actor: Actor, row, whole: bool) -> bool:
        if whole:
            return True
        if actor.tenant_id in (row.summary or {}).get("tenants", []):
            return True
        return actor.role is Role.LAB and actor.tenant_id == (row.summary or {}).get("issuer_tenant_id")

    def impact_reports(self, actor: Actor, *, calibration_id: int | None = None) -> list[tuple[int, int, dt.datetime,
                                                                                                str, dict]]:
        """Reports the actor may read, newest first: ``(id, calibration_id, created_at, actor,
        summary)``; an enterprise's summary holds only its own enterprises (and instruments)."""
        whole, own = self._impact_reader(actor)
        q = select(t.impact_report).order_by(t.impact_report.c.id.desc())
        if calibration_id is not None:
            q = q.where(t.impact_report.c.calibration_id == calibration_id)
        with self._read() as conn:
            rows = [r for r in conn.execute(q) if self._impact_row_visible(actor, r, whole)]
        return [(r.id, r.calibration_id, r.created_at, r.actor, _own_summary(r.summary, actor, whole, own))
                for r in rows]

    def get_impact_report(self, actor: Actor, report_id: int) -> tuple[int, int, dt.datetime, str, dict]:
        for r in self.impact_reports(actor):
            if r[0] == report_id:
                return r
        raise NotFoundError(f"impact report {report_id} not found", field="report_id")

    def impact_details(self, actor: Actor, report_id: int, name: str = "measurements"):
        """A report's table (``measurements``, ``assemblies`` or ``instruments``), only the actor's
        own enterprises' rows unless it sees the whole report."""
        import pyarrow.compute as pc
        import pyarrow.parquet as pq

        if name not in ("measurements", "assemblies", "instruments"):
            raise InvalidInputError("must be measurements, assemblies or instruments", field="name")
        summary = self.get_impact_report(actor, report_id)[4]
        whole, own = self._impact_reader(actor)
        with self._read() as conn:
            rel = conn.execute(select(t.impact_report.c.details_path).where(t.impact_report.c.id == report_id)).scalar()
        table = pq.read_table(self.data_dir / rel / f"{name}.parquet")
        if whole:
            return table
        if name == "instruments":
            if summary.get("issuer_tenant_id") == actor.tenant_id and actor.role is Role.LAB:
                return table  # the issuing lab recalls what was calibrated with its standard
            return table.filter(pc.equal(table.column("tenant_id"), actor.tenant_id))
        return table.filter(pc.is_in(table.column("enterprise_id"), pa_int_set(own)))


class ImpactStaging:
    """Tables of an impact report streamed to Parquet (one file per name, appended batch by batch)
    before the report is saved (:meth:`MetrologyMixin.save_impact_report` moves the folder)."""

    def __init__(self, folder) -> None:
        self.folder = folder
        self._writers: dict = {}

    def write(self, name: str, table) -> None:
        import pyarrow.parquet as pq

        if name not in self._writers:
            self._writers[name] = pq.ParquetWriter(self.folder / f"{name}.parquet", table.schema)
        self._writers[name].write_table(table)

    def close(self) -> None:
        for w in self._writers.values():
            w.close()
        self._writers.clear()

    def discard(self) -> None:
        import shutil

        self.close()
        shutil.rmtree(self.folder, ignore_errors=True)


def pa_int_set(ids: set[int]):
    import pyarrow as pa

    return pa.array(sorted(ids), pa.int32())


def _own_summary(summary: dict, actor: Actor, whole: bool, own: set[int]) -> dict:
    """The part of an impact summary an actor may read: the whole for the regulator and the admin;
    the issuing lab sees totals and instruments but not per-enterprise figures of others; an
    enterprise tenant sees its own enterprises and its own instruments."""
    if whole:
        return summary
    out = {k: v for k, v in summary.items() if k not in ("enterprises", "instruments", "tenants")}
    out["enterprises"] = [e for e in summary.get("enterprises", []) if e.get("enterprise_id") in own]
    out["instruments"] = [i for i in summary.get("instruments", []) if i.get("tenant_id") == actor.tenant_id]
    if actor.role is not Role.LAB or actor.tenant_id != summary.get("issuer_tenant_id"):
        out.pop("totals", None)
    return out
