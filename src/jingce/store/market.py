"""Service requests (needs) and orders.

Who sees what (issue 9 item 5):

- a manufacturer (the enterprise users of the tenant owning the request's enterprise) sees its own
  needs and orders, and writes them;
- a lab sees only the orders addressed to it and the request behind each, and of the manufacturer's
  data only the values its own orders delivered;
- the regulator sees every need and order (their metadata: no measured values);
- the admin sees everything.

Anything else is "not found", so another tenant's ids leak nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import pyarrow as pa
from sqlalchemy import func, select, update

from jingce.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError
from jingce.model import Calibration, Role
from jingce.model.market import OrderStatus, RequestStatus, ServiceKind, ServiceOrder, ServiceRequest
from jingce.store import audit
from jingce.store import tables as t
from jingce.store.core import ENTERPRISE_ROLES, StoreBase
from jingce.store.tenancy import Actor


def _delegate(actor: Actor, tenant_id: int) -> Actor:
    """The lab's delivery written into the manufacturer's data: the rows name the lab's
    instrument (another tenant's), which only an unrestricted writer may name. Used only after the
    market checks below (the lab's own accepted order, its own instrument, the order's serials)."""
    return Actor(actor.user_id, actor.username, tenant_id, Role.ADMIN)


class MarketMixin(StoreBase):
    """Service requests (needs) and orders."""

    # -- requests -----------------------------------------------------------------------------

    def add_service_request(self, actor: Actor, req: ServiceRequest) -> ServiceRequest:
        """Post a need for ``req.enterprise_id`` (its owning tenant's enterprise users, or the admin).

        The characteristic, instrument and serials must be the enterprise's own (another
        tenant's: not found); the deadline must be in the future.
        """
        now = dt.datetime.now(dt.UTC)
        with self._write() as conn:
            ent = self._enterprise_row(conn, req.enterprise_id)
            mine = actor.is_admin or ent.tenant_id == actor.tenant_id
            if req.characteristic_id is not None:
                ch = conn.execute(select(t.characteristic.c.product_id, t.product.c.enterprise_id).join(t.product)
                                  .where(t.characteristic.c.id == req.characteristic_id)).first()
                if ch is None or ch.enterprise_id != req.enterprise_id or not mine:
                    raise NotFoundError(f"characteristic {req.characteristic_id} not found", field="characteristic_id")
                if req.serials:
                    known = set(conn.execute(select(t.part.c.serial).where(
                        t.part.c.product_id == ch.product_id, t.part.c.serial.in_(list(req.serials)))).scalars())
                    missing = [s for s in req.serials if s not in known]
                    if missing:
                        raise InvalidInputError(f"unknown part serial(s) of the characteristic's product: "
                                                f"{', '.join(missing[:5])}", field="serials")
            if req.instrument_id is not None:
                inst = conn.execute(select(t.instrument).where(t.instrument.c.id == req.instrument_id)).first()
                if inst is None or inst.tenant_id != ent.tenant_id or not mine:
                    raise NotFoundError(f"instrument {req.instrument_id} not found", field="instrument_id")
            self._require_enterprise_write(actor, conn, req.enterprise_id)
            if req.deadline <= now:
                raise InvalidInputError("must be in the future", field="deadline")
            values = self._row(req, exclude=("id", "serials", "created_at", "created_by", "status")) | {
                "serials": list(req.serials), "created_at": now, "created_by": actor.username,
                "status": RequestStatus.OPEN.value}
            new_id = conn.execute(t.service_request.insert().values(**values)).inserted_primary_key[0]
            row = conn.execute(select(t.service_request).where(t.service_request.c.id == new_id)).first()
        return self._request_model(row)

    def _request_model(self, row) -> ServiceRequest:
        return self._model(ServiceRequest, row, serials=tuple(row.serials or ()))

    def _order_model(self, row) -> ServiceOrder:
        return self._model(ServiceOrder, row)

    def _owner_tenant(self, conn, request_row) -> int:
        return conn.execute(select(t.enterprise.c.tenant_id).where(
            t.enterprise.c.id == request_row.enterprise_id)).scalar_one()

    def _lab_tenants(self, conn) -> dict[int, int]:
        return {r.id: r.tenant_id for r in conn.execute(select(t.lab.c.id, t.lab.c.tenant_id))}

    def _sees_request(self, conn, actor: Actor, row) -> bool:
        if actor.is_admin or actor.is_regulator:
            return True
        if actor.role in ENTERPRISE_ROLES:
            return self._owner_tenant(conn, row) == actor.tenant_id
        if actor.role is Role.LAB:
            labs = self._lab_tenants(conn)
            return any(labs.get(o.lab_id) == actor.tenant_id for o in conn.execute(
                select(t.service_order.c.lab_id).where(t.service_order.c.request_id == row.id)))
        return False

    def _sees_order(self, conn, actor: Actor, order_row, request_row) -> bool:
        if actor.is_admin or actor.is_regulator:
            return True
        if actor.role in ENTERPRISE_ROLES:
            return self._owner_tenant(conn, request_row) == actor.tenant_id
        if actor.role is Role.LAB:
            return self._lab_tenants(conn).get(order_row.lab_id) == actor.tenant_id
        return False

    def get_service_request(self, actor: Actor, request_id: int) -> ServiceRequest:
        with self._read() as conn:
            row = conn.execute(select(t.service_request).where(t.service_request.c.id == request_id)).first()
            if row is None or not self._sees_request(conn, actor, row):
                raise NotFoundError(f"service request {request_id} not found", field="request_id")
        return self._request_model(row)

    def list_service_requests(self, actor: Actor, *, status: str | None = None) -> list[ServiceRequest]:
        """The needs the actor may see, newest first."""
        q = select(t.service_request).order_by(t.service_request.c.id.desc())
        if status is not None:
            q = q.where(t.service_request.c.status == status)
        if actor.role in ENTERPRISE_ROLES:
            q = q.join(t.enterprise, t.enterprise.c.id == t.service_request.c.enterprise_id).where(
                t.enterprise.c.tenant_id == actor.tenant_id)
        elif actor.role is Role.LAB:
            q = q.where(t.service_request.c.id.in_(
                select(t.service_order.c.request_id).join(t.lab, t.lab.c.id == t.service_order.c.lab_id)
                .where(t.lab.c.tenant_id == actor.tenant_id)))
        with self._read() as conn:
            return [self._request_model(r) for r in conn.execute(q)]

    # -- orders -------------------------------------------------------------------------------

    def _order_rows(self, conn, actor: Actor, order_id: int):
        order = conn.execute(select(t.service_order).where(t.service_order.c.id == order_id)).first()
        req = None if order is None else conn.execute(
            select(t.service_request).where(t.service_request.c.id == order.request_id)).first()
        if order is None or not self._sees_order(conn, actor, order, req):
            raise NotFoundError(f"service order {order_id} not found", field="order_id")
        return order, req

    def get_service_order(self, actor: Actor, order_id: int) -> ServiceOrder:
        with self._read() as conn:
            order, _ = self._order_rows(conn, actor, order_id)
        return self._order_model(order)

    def list_service_orders(self, actor: Actor) -> list[ServiceOrder]:
        """The orders the actor may see, newest first."""
        q = select(t.service_order).order_by(t.service_order.c.id.desc())
        if actor.role in ENTERPRISE_ROLES:
            q = q.where(t.service_order.c.request_id.in_(
                select(t.service_request.c.id).join(t.enterprise, t.enterprise.c.id == t.service_request.c.enterprise_id)
                .where(t.enterprise.c.tenant_id == actor.tenant_id)))
        elif actor.role is Role.LAB:
            q = q.where(t.service_order.c.lab_id.in_(select(t.lab.c.id).where(t.lab.c.tenant_id == actor.tenant_id)))
        with self._read() as conn:
            return [self._order_model(r) for r in conn.execute(q)]

    def add_service_order(self, actor: Actor, request_id: int, lab_id: int, *, scope_index: int | None = None,
                          price: float | None = None) -> ServiceOrder:
        """Order an open need from a qualified lab (the need's owner; whether the lab ranks for
        the need is checked by the market service); the lab is notified."""
        now = dt.datetime.now(dt.UTC)
        with self._write() as conn:
            req = conn.execute(select(t.service_request).where(t.service_request.c.id == request_id)).first()
            if req is None or not (actor.is_admin or self._owner_tenant(conn, req) == actor.tenant_id):
                raise NotFoundError(f"service request {request_id} not found", field="request_id")
            if not actor.is_admin and actor.role not in ENTERPRISE_ROLES:
                raise PermissionDeniedError("only the manufacturer orders its needs", field="role")
            lab = conn.execute(select(t.lab).where(t.lab.c.id == lab_id)).first()
            if lab is None:
                raise NotFoundError(f"lab {lab_id} not found", field="lab_id")
            if lab.qualification != "qualified":
                raise InvalidInputError(f"lab {lab.code} is {lab.qualification}, not qualified", field="lab_id")
            if req.status != RequestStatus.OPEN.value:
                raise ConflictError(f"the request is {req.status}, not open", field="request_id")
            order_id = conn.execute(t.service_order.insert().values(
                request_id=request_id, lab_id=lab_id, scope_index=scope_index, price=price,
                status=OrderStatus.ORDERED.value, ordered_at=now, ordered_by=actor.username)).inserted_primary_key[0]
            conn.execute(update(t.service_request).where(t.service_request.c.id == request_id)
                         .values(status=RequestStatus.ORDERED.value))
            self.notify([lab.tenant_id], "order", f"order:{order_id}",
                        f"新的服务订单：{req.title} / New service order: {req.title}",
                        {"order_id": order_id, "request_id": request_id}, conn=conn)
            row = conn.execute(select(t.service_order).where(t.service_order.c.id == order_id)).first()
        return self._order_model(row)

    def _require_lab_of(self, conn, actor: Actor, order) -> None:
        if actor.is_admin:
            return
        if actor.role is not Role.LAB:
            raise PermissionDeniedError("only the lab the order is addressed to may do this", field="role")
        if self._lab_tenants(conn).get(order.lab_id) != actor.tenant_id:
            raise NotFoundError(f"service order {order.id} not found", field="order_id")

    def accept_service_order(self, actor: Actor, order_id: int) -> ServiceOrder:
        """The lab accepts an order addressed to it; the manufacturer is notified."""
        with self._write() as conn:
            order, req = self._order_rows(conn, actor, order_id)
            self._require_lab_of(conn, actor, order)
            if order.status == OrderStatus.ORDERED.value:
                conn.execute(update(t.service_order).where(t.service_order.c.id == order_id).values(
                    status=OrderStatus.ACCEPTED.value, accepted_at=dt.datetime.now(dt.UTC)))
                self.notify([self._owner_tenant(conn, req)], "order", f"order:{order_id}:accepted",
                            f"实验室已接受订单：{req.title} / The lab accepted the order: {req.title}",
                            {"order_id": order_id, "request_id": req.id}, conn=conn)
            elif order.status != OrderStatus.ACCEPTED.value:
                raise ConflictError(f"the order is {order.status}", field="order_id")
            order = conn.execute(select(t.service_order).where(t.service_order.c.id == order_id)).first()
        return self._order_model(order)

    def _delivery_checks(self, conn, actor: Actor, order_id: int, kind: ServiceKind, instrument_id: int):
        order, req = self._order_rows(conn, actor, order_id)
        self._require_lab_of(conn, actor, order)
        if req.kind != kind.value:
            raise InvalidInputError(f"order {order_id} is a {req.kind} order", field="kind")
        if order.status not in (OrderStatus.ACCEPTED.value, OrderStatus.DELIVERED.value):
            raise ConflictError(f"the order is {order.status}; the lab accepts it first", field="order_id")
        lab = conn.execute(select(t.lab).where(t.lab.c.id == order.lab_id)).first()
        inst = conn.execute(select(t.instrument).where(t.instrument.c.id == instrument_id)).first()
        if inst is None or inst.tenant_id != lab.tenant_id:
            raise NotFoundError(f"instrument {instrument_id} not found among the lab's instruments",
                                field="instrument_id")
        return order, req, lab, inst

    def _mark_delivered(self, conn, actor: Actor, order, req, lab, **values) -> tuple[int, str]:
        now = dt.datetime.now(dt.UTC)
        conn.execute(update(t.service_order).where(t.service_order.c.id == order.id).values(
            status=OrderStatus.DELIVERED.value, delivered_at=now, **values))
        conn.execute(update(t.service_request).where(t.service_request.c.id == req.id)
                     .values(status=RequestStatus.DELIVERED.value))
        self.notify([self._owner_tenant(conn, req)], "order", f"order:{order.id}:delivered",
                    f"{lab.name} 已交付：{req.title} / {lab.name} delivered: {req.title}",
                    {"order_id": order.id, "request_id": req.id, "certificate_no": values.get("certificate_no")},
                    conn=conn)
        seq, digest = audit.append(conn, "service_delivery", f"{lab.code}/order:{order.id}", {
            "order_id": order.id, "request_id": req.id, **{k: v for k, v in values.items()}}, actor.username)
        return seq, digest

    def deliver_measurements(self, actor: Actor, order_id: int, *, instrument_id: int, certificate_no: str,
                             values: dict[str, float], measured_at: dt.datetime) -> ServiceOrder:
        """The lab delivers one value per serial of a measurement order (in the request's unit).

        The values land in the manufacturer's data through :meth:`ingest` (one atomic batch,
        idempotent by content hash), linked to the parts by serial and naming the lab's
        instrument, so their traceability is that instrument's calibration chain. Delivering
        the same results again changes nothing; different results for a delivered order conflict.
        """
        if measured_at.tzinfo is None:
            raise InvalidInputError("must be timezone-aware", field="measured_at")
        if measured_at > dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5):
            raise InvalidInputError("cannot be in the future", field="measured_at")
        payload = {"order": order_id, "certificate_no": certificate_no, "instrument_id": instrument_id,
                   "values": sorted((s, float(v)) for s, v in values.items()),
                   "measured_at": measured_at.astimezone(dt.UTC).isoformat()}
        content_hash = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
        with self._read() as conn:
            order, req, lab, inst = self._delivery_checks(conn, actor, order_id, ServiceKind.MEASUREMENT, instrument_id)
            if order.status == OrderStatus.DELIVERED.value:
                done = conn.execute(select(t.ingest_batch.c.content_hash).where(
                    t.ingest_batch.c.id == order.batch_id)).scalar()
                if done != content_hash:
                    raise ConflictError("the order was already delivered with other results", field="order_id")
                return self._order_model(order)
            wanted, got = set(req.serials), set(values)
            if got - wanted:
                raise InvalidInputError(f"serial(s) not in the order: {', '.join(sorted(got - wanted)[:5])}",
                                        field="values")
            if wanted - got:
                raise InvalidInputError(f"no value for serial(s) {', '.join(sorted(wanted - got)[:5])}", field="values")
            ch = conn.execute(select(t.characteristic.c.key, t.product.c.part_number, t.enterprise.c.code,
                                     t.enterprise.c.tenant_id)
                              .join(t.product, t.product.c.id == t.characteristic.c.product_id)
                              .join(t.enterprise, t.enterprise.c.id == t.product.c.enterprise_id)
                              .where(t.characteristic.c.id == req.characteristic_id)).first()
        serials = list(req.serials)
        attrs = json.dumps({"order_id": order_id, "lab": lab.code, "certificate_no": certificate_no},
                           ensure_ascii=False)
        n = len(serials)
        table = pa.table({
            "enterprise": [ch.code] * n, "part_number": [ch.part_number] * n, "serial": serials,
            "characteristic": [ch.key] * n, "value": [float(values[s]) for s in serials], "unit": [req.unit] * n,
            "measured_at": pa.array([measured_at] * n, pa.timestamp("us", tz="UTC")),
            "stage": ["final"] * n, "operator": [actor.username] * n, "instrument": [inst.code] * n,
            "attributes": [attrs] * n, "position": pa.array(range(n), pa.int64())})
        result = self.ingest(_delegate(actor, ch.tenant_id), table, content_hash=content_hash,
                             source_format="service_order", source_name=f"{lab.code}/{certificate_no}")
        with self._write() as conn:
            order, req, lab, _ = self._delivery_checks(conn, actor, order_id, ServiceKind.MEASUREMENT, instrument_id)
            if order.status != OrderStatus.DELIVERED.value:
                batch_id = conn.execute(select(t.ingest_batch.c.id).where(
                    t.ingest_batch.c.content_hash == result.batch)).scalar_one()
                seq, digest = self._mark_delivered(conn, actor, order, req, lab, certificate_no=certificate_no,
                                                   batch_id=batch_id)
            else:
                seq = None
            order = conn.execute(select(t.service_order).where(t.service_order.c.id == order_id)).first()
        if seq is not None:
            audit.write_anchor(self.anchor_path, seq, digest)
        return self._order_model(order)

    def deliver_calibration(self, actor: Actor, order_id: int, cal: Calibration, *,
                            required_uncertainty: float | None = None) -> ServiceOrder:
        """The lab delivers a calibration order: a calibration record of the manufacturer's
        instrument issued by the lab (:meth:`add_calibration`); delivering it again changes nothing."""
        with self._read() as conn:
            std = cal.standard_ids[0] if cal.standard_ids else -1
            order, req, lab, _ = self._delivery_checks(conn, actor, order_id, ServiceKind.CALIBRATION, std)
            if cal.instrument_id != req.instrument_id:
                raise InvalidInputError("must be the instrument the request names", field="instrument_id")
            if cal.lab_id != order.lab_id:
                raise InvalidInputError("must be the lab the order is addressed to", field="lab_id")
            if required_uncertainty is not None and cal.expanded_uncertainty > required_uncertainty * (1 + 1e-9):
                raise InvalidInputError(f"U = {cal.expanded_uncertainty:g} {cal.unit} exceeds the required "
                                        f"{required_uncertainty:g} {cal.unit}", field="expanded_uncertainty")
            if order.status == OrderStatus.DELIVERED.value:
                done = conn.execute(select(t.calibration.c.certificate_no).where(
                    t.calibration.c.id == order.calibration_id)).scalar()
                if done != cal.certificate_no:
                    raise ConflictError("the order was already delivered with another certificate", field="order_id")
                return self._order_model(order)
            existing = conn.execute(select(t.calibration.c.id).where(
                t.calibration.c.lab_id == cal.lab_id, t.calibration.c.certificate_no == cal.certificate_no,
                t.calibration.c.instrument_id == cal.instrument_id)).scalar()
        cal_id = existing if existing is not None else self.add_calibration(actor, cal).id
        with self._write() as conn:
            order, req, lab, _ = self._delivery_checks(conn, actor, order_id, ServiceKind.CALIBRATION, std)
            seq = None
            if order.status != OrderStatus.DELIVERED.value:
                seq, digest = self._mark_delivered(conn, actor, order, req, lab, certificate_no=cal.certificate_no,
                                                   calibration_id=cal_id)
            order = conn.execute(select(t.service_order).where(t.service_order.c.id == order_id)).first()
        if seq is not None:
            audit.write_anchor(self.anchor_path, seq, digest)
        return self._order_model(order)

    def order_values(self, actor: Actor, order_id: int) -> pa.Table | None:
        """The values a measurement order delivered: for the manufacturer, the lab the order is
        addressed to and the admin (the regulator sees no raw values: not found); None before delivery."""
        with self._read() as conn:
            order, req = self._order_rows(conn, actor, order_id)
            if actor.is_regulator:
                raise NotFoundError(f"values of service order {order_id} not found", field="order_id")
            batch = None if order.batch_id is None else conn.execute(select(t.ingest_batch.c.content_hash).where(
                t.ingest_batch.c.id == order.batch_id)).scalar()
            tenant = self._owner_tenant(conn, req)
        if batch is None:
            return None  # nothing delivered yet
        return self.measurements(_delegate(actor, tenant), batch=batch, enterprise_id=req.enterprise_id)

    # -- aggregates and inputs to the ranking -------------------------------------------------

    def market_overview(self, actor: Actor) -> dict:
        """Counts only (regulator and admin): open needs by quantity, needs and orders by state."""
        self._require_role(actor, Role.REGULATOR)
        r, o = t.service_request, t.service_order
        with self._read() as conn:
            open_by_q = {q: n for q, n in conn.execute(
                select(r.c.quantity, func.count()).where(r.c.status == "open").group_by(r.c.quantity))}
            req_by_s = {s: n for s, n in conn.execute(select(r.c.status, func.count()).group_by(r.c.status))}
            ord_by_s = {s: n for s, n in conn.execute(select(o.c.status, func.count()).group_by(o.c.status))}
            by_lab = {code: n for code, n in conn.execute(
                select(t.lab.c.code, func.count()).select_from(o).join(t.lab, t.lab.c.id == o.c.lab_id)
                .group_by(t.lab.c.code))}
        return {"open_requests_by_quantity": dict(sorted(open_by_q.items())),
                "requests_by_status": dict(sorted(req_by_s.items())),
                "orders_by_status": dict(sorted(ord_by_s.items())), "orders_by_lab": dict(sorted(by_lab.items()))}

    def lab_proficiency_flags(self, lab_ids: list[int], *, since: dt.datetime | None = None) -> dict[int, list[dict]]:
        """Per lab, its proficiency-testing results (submitted at or after ``since``) that were not
        satisfactory or were flagged (public information about qualified labs), newest first."""
        out: dict[int, list[dict]] = {i: [] for i in lab_ids}
        if not lab_ids:
            return out
        q = (select(t.pt_result.c.lab_id, t.pt_result.c.evaluation, t.pt_result.c.flags, t.pt_result.c.score,
                    t.pt_round.c.code, t.pt_result.c.submitted_at)
             .join(t.pt_round, t.pt_round.c.id == t.pt_result.c.round_id)
             .where(t.pt_result.c.lab_id.in_(lab_ids)).order_by(t.pt_result.c.submitted_at.desc()))
        if since is not None:
            q = q.where(t.pt_result.c.submitted_at >= since)
        with self._read() as conn:
            for r in conn.execute(q):
                flags = list(r.flags or [])
                if flags or r.evaluation in ("questionable", "unsatisfactory"):
                    out[r.lab_id].append({"round": r.code, "evaluation": r.evaluation, "flags": flags,
                                          "score": r.score})
        return out
