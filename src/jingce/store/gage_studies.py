"""Gage studies (type 1, gage R&R, VDA 5) recorded per characteristic and instrument; the lake
queries the precision planner needs (instruments used, process distribution per characteristic)."""

from __future__ import annotations

from sqlalchemy import select

from jingce.errors import NotFoundError
from jingce.model import Characteristic, Instrument
from jingce.model.gage import GageStudy
from jingce.store import audit
from jingce.store import tables as t
from jingce.store.core import StoreBase
from jingce.store.tenancy import Actor


class GageStudiesMixin(StoreBase):
    """Gage studies (type 1, gage R&R, VDA 5) recorded per characteristic and instrument."""

    def gage_study_target(self, actor: Actor, characteristic_id: int, instrument_id: int
                          ) -> tuple[Characteristic, Instrument]:
        """The characteristic and instrument of a study ``actor`` may record: the characteristic's
        enterprise belongs to the actor's tenant (enterprise roles; the admin: any), and so does
        the instrument (or it is a reference standard). Anything else is not found."""
        with self._read() as conn:
            row = conn.execute(select(t.characteristic, t.product.c.enterprise_id).join(t.product)
                               .where(t.characteristic.c.id == characteristic_id)).first()
            if row is None:
                raise NotFoundError(f"characteristic {characteristic_id} not found", field="characteristic_id")
            self._require_enterprise_write(actor, conn, row.enterprise_id,
                                           via=("characteristic_id", f"characteristic {characteristic_id}"))
            ent = self._enterprise_row(conn, row.enterprise_id)
            inst = conn.execute(select(t.instrument).where(t.instrument.c.id == instrument_id)).first()
        if inst is None or (inst.tenant_id != ent.tenant_id and inst.kind == "working"):
            raise NotFoundError(f"instrument {instrument_id} not found", field="instrument_id")
        return self._model(Characteristic, row), self._model(Instrument, inst)

    def add_gage_study(self, actor: Actor, study: GageStudy) -> GageStudy:
        """Record a study (checked as :meth:`gage_study_target`), in the audit chain."""
        char, inst = self.gage_study_target(actor, study.characteristic_id, study.instrument_id)
        with self._write() as conn:
            values = self._row(study) | {"kind": study.kind.value, "created_by": actor.username}
            new_id = conn.execute(t.gage_study.insert().values(**values)).inserted_primary_key[0]
            seq, digest = audit.append(conn, "gage_study", f"{char.id}/{inst.code}/{new_id}",
                                       study.model_dump(mode="json") | {"id": new_id}, actor.username)
        audit.write_anchor(self.anchor_path, seq, digest)
        return study.model_copy(update={"id": new_id, "created_by": actor.username})

    def gage_studies(self, actor: Actor, *, characteristic_id: int | None = None,
                     enterprise_id: int | None = None) -> list[GageStudy]:
        """Studies of one characteristic or of an enterprise's characteristics, oldest first.

        Studies are the enterprise's data: read by whoever reads its values (the owner, a customer
        the product is shared with, the admin). A characteristic the actor may not read is not
        found; an enterprise's list holds only what the actor may read."""
        q = (select(t.gage_study, t.product.c.enterprise_id, t.characteristic.c.product_id)
             .join(t.characteristic, t.characteristic.c.id == t.gage_study.c.characteristic_id)
             .join(t.product, t.product.c.id == t.characteristic.c.product_id)
             .order_by(t.gage_study.c.studied_at, t.gage_study.c.id))
        with self._read() as conn:
            vis = self.visibility(actor, conn)
            if characteristic_id is not None:
                row = conn.execute(select(t.characteristic.c.product_id, t.product.c.enterprise_id).join(t.product)
                                   .where(t.characteristic.c.id == characteristic_id)).first()
                if row is None or not vis.sees_product_data(row.enterprise_id, row.product_id):
                    raise NotFoundError(f"characteristic {characteristic_id} not found", field="characteristic_id")
                q = q.where(t.gage_study.c.characteristic_id == characteristic_id)
            if enterprise_id is not None:
                q = q.where(t.product.c.enterprise_id == enterprise_id)
            rows = conn.execute(q).all()
        return [self._model(GageStudy, r) for r in rows if vis.sees_product_data(r.enterprise_id, r.product_id)]

    # -- what the planner reads from the lake ------------------------------------------------

    def _lake_query(self, actor: Actor, enterprise_id: int, sql: str) -> list[tuple]:
        inputs = self.lake_inputs(actor, enterprise_ids=[enterprise_id])
        if not inputs.paths:
            return []
        relation = self.lake.relation_sql(list(inputs.paths))
        where = f"status = 'valid' AND enterprise_id = {int(enterprise_id)} AND {inputs.visibility.lake_filter()}"
        con = self.lake.connect()
        try:
            return con.execute(sql.format(relation=relation, where=where)).fetchall()
        finally:
            con.close()

    def instruments_in_lake(self, actor: Actor, enterprise_id: int) -> dict[int, set[int]]:
        """Characteristic id -> ids of the instruments whose valid values of it are in the lake
        (one DuckDB ``DISTINCT`` over the enterprise's partition; only values the actor may read)."""
        out: dict[int, set[int]] = {}
        for cid, iid in self._lake_query(actor, enterprise_id, (
                "SELECT DISTINCT characteristic_id, instrument_id FROM {relation} "
                "WHERE instrument_id IS NOT NULL AND {where}")):
            out.setdefault(int(cid), set()).add(int(iid))
        return out

    def lake_process_stats(self, actor: Actor, enterprise_id: int) -> dict[int, tuple[int, float, float]]:
        """Characteristic id -> (n, mean, sample standard deviation) of its valid values in the lake
        (DuckDB's ``stddev_samp`` is a streaming Welford update, not a naive sum of squares)."""
        return {int(cid): (int(n), float(m), float(s) if s is not None else float("nan"))
                for cid, n, m, s in self._lake_query(actor, enterprise_id, (
                    "SELECT characteristic_id, count(*), avg(value), stddev_samp(value) FROM {relation} "
                    "WHERE {where} GROUP BY characteristic_id"))}
