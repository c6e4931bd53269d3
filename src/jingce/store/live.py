"""Frozen control limits and real-time alarms."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, insert, select, update

from jingce.errors import InvalidInputError, NotFoundError
from jingce.store import tables as t
from jingce.store.core import ENTERPRISE_ROLES, StoreBase
from jingce.store.tenancy import Actor


@dataclass(frozen=True, slots=True)
class FrozenLimits:
    """Control limits of single values frozen for phase II monitoring (``mu ± k sigma``)."""

    characteristic_id: int
    version: int
    mu: float
    sigma: float
    n: int
    method: str
    frozen_at: dt.datetime


@dataclass(frozen=True, slots=True)
class Alarm:
    id: int
    enterprise_id: int
    characteristic_id: int
    measured_at: dt.datetime
    value: float
    kind: str
    rule: str | None
    detail: str | None
    serial: str | None
    raised_at: dt.datetime
    acknowledged_by: str | None


class LiveMixin(StoreBase):
    """Limits and alarms belong to the characteristic's enterprise (read and written like its data)."""

    def _char_enterprise(self, conn, actor: Actor, characteristic_id: int, *, write: bool) -> int:
        row = conn.execute(select(t.product.c.enterprise_id, t.product.c.id)
                           .join(t.characteristic, t.characteristic.c.product_id == t.product.c.id)
                           .where(t.characteristic.c.id == characteristic_id)).first()
        if row is None:
            raise NotFoundError(f"characteristic {characteristic_id} not found", field="characteristic_id")
        if write:
            self._require_enterprise_write(actor, conn, row.enterprise_id)
        elif not self.visibility(actor, conn).sees_product_data(row.enterprise_id, row.id):
            raise NotFoundError(f"characteristic {characteristic_id} not found", field="characteristic_id")
        return row.enterprise_id

    def freeze_limits(self, actor: Actor, characteristic_id: int, *, mu: float, sigma: float, n: int,
                      method: str) -> FrozenLimits:
        """Store a new version of a characteristic's control limits (the old ones stay on record)."""
        if not (sigma > 0 and mu == mu):
            raise InvalidInputError("sigma must be > 0 and mu a number", field="sigma")
        with self._write() as conn:
            self._char_enterprise(conn, actor, characteristic_id, write=True)
            version = (conn.execute(select(func.max(t.control_limits.c.version)).where(
                t.control_limits.c.characteristic_id == characteristic_id)).scalar() or 0) + 1
            now = dt.datetime.now(dt.UTC)
            conn.execute(insert(t.control_limits).values(characteristic_id=characteristic_id, version=version, mu=mu,
                                                         sigma=sigma, n=n, method=method, frozen_at=now))
        return FrozenLimits(characteristic_id, version, mu, sigma, n, method, now)

    def frozen_limits(self, actor: Actor, characteristic_ids: list[int]) -> dict[int, FrozenLimits]:
        """The latest frozen limits of each characteristic that has some (those the actor may see)."""
        out: dict[int, FrozenLimits] = {}
        with self._read() as conn:
            vis = self.visibility(actor, conn)
            for i in range(0, len(characteristic_ids), 5000):
                chunk = characteristic_ids[i:i + 5000]
                rows = conn.execute(
                    select(t.control_limits, t.product.c.enterprise_id, t.product.c.id.label("product_id"))
                    .join(t.characteristic, t.characteristic.c.id == t.control_limits.c.characteristic_id)
                    .join(t.product, t.product.c.id == t.characteristic.c.product_id)
                    .where(t.control_limits.c.characteristic_id.in_(chunk))
                    .order_by(t.control_limits.c.version)).all()
                for r in rows:
                    if vis.sees_product_data(r.enterprise_id, r.product_id):
                        out[r.characteristic_id] = FrozenLimits(r.characteristic_id, r.version, r.mu, r.sigma, r.n,
                                                                r.method, r.frozen_at)
        return out

    def alarms(self, actor: Actor, *, enterprise_id: int | None = None, characteristic_id: int | None = None,
               since: dt.datetime | None = None, open_only: bool = False, limit: int = 1000) -> list[Alarm]:
        """Alarms the actor may see, newest first."""
        q = select(t.alarm).order_by(t.alarm.c.raised_at.desc(), t.alarm.c.id.desc()).limit(limit)
        if enterprise_id is not None:
            q = q.where(t.alarm.c.enterprise_id == enterprise_id)
        if characteristic_id is not None:
            q = q.where(t.alarm.c.characteristic_id == characteristic_id)
        if since is not None:
            q = q.where(t.alarm.c.raised_at >= since)
        if open_only:
            q = q.where(t.alarm.c.acknowledged_by.is_(None))
        with self._read() as conn:
            vis = self.visibility(actor, conn)
            allowed = vis.data_enterprises()
            if allowed is not None:
                q = q.where(t.alarm.c.enterprise_id.in_(sorted(vis.enterprises)))
            rows = conn.execute(q).all()
        return [Alarm(r.id, r.enterprise_id, r.characteristic_id, r.measured_at, r.value, r.kind, r.rule, r.detail,
                      r.serial, r.raised_at, r.acknowledged_by) for r in rows]

    def acknowledge_alarm(self, actor: Actor, alarm_id: int) -> None:
        with self._write() as conn:
            ent = conn.execute(select(t.alarm.c.enterprise_id).where(t.alarm.c.id == alarm_id)).scalar()
            if ent is None:
                raise NotFoundError(f"alarm {alarm_id} not found", field="alarm_id")
            row = self._enterprise_row(conn, ent)
            if not actor.is_admin and (row.tenant_id != actor.tenant_id or actor.role not in ENTERPRISE_ROLES):
                raise NotFoundError(f"alarm {alarm_id} not found", field="alarm_id")
            conn.execute(update(t.alarm).where(t.alarm.c.id == alarm_id).values(acknowledged_by=actor.username))
