"""Machines, axes, positioning tests and compensation tables (the error-compensation loop)."""

from __future__ import annotations

import hashlib

from sqlalchemy import func, select

from jingce.errors import NotFoundError
from jingce.model.machine import Compensation, Machine, MachineAxis, PositioningTest
from jingce.store import audit
from jingce.store import tables as t
from jingce.store.core import StoreBase
from jingce.store.tenancy import Actor


class MachinesMixin(StoreBase):
    """Machine data belongs to the machine's enterprise: read like its measurements, written by its
    enterprise users."""

    def add_machine(self, actor: Actor, m: Machine) -> Machine:
        with self._write() as conn:
            self._require_enterprise_write(actor, conn, m.enterprise_id)
            return self._insert(t.machine, m, "machine code", conn=conn)

    def _axis_row(self, conn, actor: Actor, axis_id: int, *, write: bool = False):
        row = conn.execute(select(t.machine_axis, t.machine.c.enterprise_id)
                           .join(t.machine, t.machine.c.id == t.machine_axis.c.machine_id)
                           .where(t.machine_axis.c.id == axis_id)).first()
        if row is None:
            raise NotFoundError(f"axis {axis_id} not found", field="axis_id")
        if write:
            self._require_enterprise_write(actor, conn, row.enterprise_id)
        elif not self.visibility(actor, conn).sees_enterprise_data(row.enterprise_id):
            raise NotFoundError(f"axis {axis_id} not found", field="axis_id")
        return row

    def add_axis(self, actor: Actor, axis: MachineAxis) -> MachineAxis:
        with self._write() as conn:
            m = conn.execute(select(t.machine).where(t.machine.c.id == axis.machine_id)).first()
            if m is None:
                raise NotFoundError(f"machine {axis.machine_id} not found", field="machine_id")
            self._require_enterprise_write(actor, conn, m.enterprise_id)
            return self._insert(t.machine_axis, axis, "axis name", conn=conn)

    def find_axis(self, actor: Actor, enterprise_code: str, machine_code: str, axis_name: str) -> MachineAxis:
        ent = self.get_enterprise(actor, code=enterprise_code)
        with self._read() as conn:
            row = conn.execute(select(t.machine_axis).join(t.machine, t.machine.c.id == t.machine_axis.c.machine_id)
                               .where(t.machine.c.enterprise_id == ent.id, t.machine.c.code == machine_code,
                                      t.machine_axis.c.name == axis_name)).first()
            if row is None or not self.visibility(actor, conn).sees_enterprise_data(ent.id):
                raise NotFoundError(f"axis {machine_code}/{axis_name} not found in {enterprise_code}", field="axis")
        return self._model(MachineAxis, row)

    def get_axis(self, actor: Actor, axis_id: int) -> MachineAxis:
        with self._read() as conn:
            return self._model(MachineAxis, self._axis_row(conn, actor, axis_id))

    def add_positioning_test(self, actor: Actor, test: PositioningTest) -> PositioningTest:
        """Record a test as the axis's next iteration (``test.iteration`` is assigned here)."""
        with self._write() as conn:
            self._axis_row(conn, actor, test.axis_id, write=True)
            if test.compensation_id is not None:
                comp = conn.execute(select(t.compensation.c.axis_id).where(
                    t.compensation.c.id == test.compensation_id)).scalar()
                if comp != test.axis_id:
                    raise NotFoundError(f"compensation {test.compensation_id} not found on this axis",
                                        field="compensation_id")
            n = conn.execute(select(func.count()).where(t.positioning_test.c.axis_id == test.axis_id)).scalar()
            test = test.model_copy(update={"iteration": int(n)})
            saved = self._insert(t.positioning_test, test, "positioning test", conn=conn)
            seq, head = audit.append(conn, "positioning_test", f"axis {test.axis_id} test {saved.iteration}",
                                     {"result": test.result, "uncertainty": test.uncertainty}, actor.username)
        audit.write_anchor(self.anchor_path, seq, head)
        return saved

    def positioning_tests(self, actor: Actor, axis_id: int) -> list[PositioningTest]:
        with self._read() as conn:
            self._axis_row(conn, actor, axis_id)
            rows = conn.execute(select(t.positioning_test).where(t.positioning_test.c.axis_id == axis_id)
                                .order_by(t.positioning_test.c.iteration)).all()
        return [self._model(PositioningTest, r) for r in rows]

    def add_compensation(self, actor: Actor, comp: Compensation) -> Compensation:
        with self._write() as conn:
            self._axis_row(conn, actor, comp.axis_id, write=True)
            test_axis = conn.execute(select(t.positioning_test.c.axis_id).where(
                t.positioning_test.c.id == comp.test_id)).scalar()
            if test_axis != comp.axis_id:
                raise NotFoundError(f"test {comp.test_id} not found on this axis", field="test_id")
            saved = self._insert(t.compensation, comp, "compensation iteration", conn=conn)
            seq, head = audit.append(conn, "compensation", f"axis {comp.axis_id} table {comp.iteration}",
                                     {"test_id": comp.test_id,
                                      "table_sha256": hashlib.sha256(comp.table_json.encode()).hexdigest()},
                                     actor.username)
        audit.write_anchor(self.anchor_path, seq, head)
        return saved

    def compensations(self, actor: Actor, axis_id: int) -> list[Compensation]:
        with self._read() as conn:
            self._axis_row(conn, actor, axis_id)
            rows = conn.execute(select(t.compensation).where(t.compensation.c.axis_id == axis_id)
                                .order_by(t.compensation.c.iteration)).all()
        return [self._model(Compensation, r) for r in rows]
