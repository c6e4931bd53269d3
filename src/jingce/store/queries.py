"""Reads of the measurement lake: values of a characteristic, a serial's lineage, the
calibration chain behind a measurement, and sorted streams for the batch analyses."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

import pyarrow as pa
from sqlalchemy import select, tuple_

from jingce.errors import InvalidInputError, NotFoundError
from jingce.model.batch import STAGES
from jingce.store import tables as t
from jingce.store.core import StoreBase
from jingce.store.metrology import CalibrationChain, MetrologyMixin
from jingce.store.tenancy import Actor, Visibility

VALUE_COLUMNS = ("measured_at", "local_time", "zone", "value", "nominal", "lower_limit", "upper_limit", "unit",
                 "status", "stage", "part_number", "serial", "operator", "machine", "instrument_id",
                 "characteristic_id", "characteristic", "enterprise_id", "product_id", "site_id", "source_format",
                 "source_hash", "position", "batch", "attributes")


@dataclass(frozen=True, slots=True)
class LineageNode:
    """A serialised part in a lineage tree: what it is, whose it is, and what was measured on it."""

    part_id: int
    serial: str
    product_id: int
    part_number: str
    enterprise_id: int
    enterprise: str
    parent_part_id: int | None
    depth: int


@dataclass(frozen=True, slots=True)
class Lineage:
    """A serial's parts tree down the bill of materials (as far as the actor may see) and the
    measurements of every node (``measurements`` has a ``part_id`` column)."""

    root: LineageNode
    nodes: tuple[LineageNode, ...]
    measurements: pa.Table
    hidden_components: int  # components the actor may not see (counted, never described)


def _ts(x: dt.datetime) -> str:
    return x.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f+00")


class QueriesMixin(MetrologyMixin, StoreBase):
    """Queries over the lake, each restricted to what the actor may see."""

    def _files(self, conn, vis: Visibility, *, enterprise_ids=None, characteristic_id=None, start=None, end=None,
               batch=None):
        q = select(t.lake_file.c.path).where(t.lake_file.c.active.is_(True))
        if batch is not None:  # the batch's own files, or the compacted files of its partitions
            parts = conn.execute(
                select(t.lake_file.c.enterprise_id, t.lake_file.c.month)
                .join(t.ingest_batch, t.ingest_batch.c.id == t.lake_file.c.batch_id)
                .where(t.ingest_batch.c.content_hash == batch)).all()
            if not parts:
                return []
            q = q.where(tuple_(t.lake_file.c.enterprise_id, t.lake_file.c.month).in_([tuple(p) for p in parts]))
        allowed = vis.data_enterprises()
        if allowed is not None:
            q = q.where(t.lake_file.c.enterprise_id.in_(sorted(allowed)))
        if enterprise_ids is not None:
            q = q.where(t.lake_file.c.enterprise_id.in_(sorted(enterprise_ids)))
        if characteristic_id is not None:
            q = q.where(t.lake_file.c.min_characteristic_id <= characteristic_id,
                        t.lake_file.c.max_characteristic_id >= characteristic_id)
        if start is not None:
            q = q.where(t.lake_file.c.max_time >= start)
        if end is not None:
            q = q.where(t.lake_file.c.min_time < end)
        return list(conn.execute(q.order_by(t.lake_file.c.path)).scalars())

    def measurements(
        self,
        actor: Actor,
        *,
        characteristic_id: int | None = None,
        enterprise_id: int | None = None,
        product_id: int | None = None,
        serial: str | None = None,
        stage: str | None = None,
        start: dt.datetime | None = None,
        end: dt.datetime | None = None,
        batch: str | None = None,
        valid_only: bool = False,
        columns: tuple[str, ...] = VALUE_COLUMNS,
        limit: int | None = None,
    ) -> pa.Table:
        """Measurements the actor may see, ordered by time (then position in the source).

        Filters combine with AND; ``start`` is inclusive and ``end`` exclusive (UTC-aware);
        ``batch`` selects the values of one ingest batch (by its content hash).
        """
        bad = [c for c in columns if c not in VALUE_COLUMNS]
        if bad:
            raise InvalidInputError(f"unknown column(s) {bad}", field="columns")
        if stage is not None and stage not in STAGES:
            raise InvalidInputError(f"must be one of {', '.join(STAGES)}", field="stage")
        for name, x in (("start", start), ("end", end)):
            if x is not None and x.tzinfo is None:
                raise InvalidInputError("must be timezone-aware", field=name)
        where, params = [], []
        with self._read() as conn:
            vis = self.visibility(actor, conn)
            files = self._files(conn, vis, enterprise_ids=None if enterprise_id is None else [enterprise_id],
                                characteristic_id=characteristic_id, start=start, end=end, batch=batch)
        where.append(vis.lake_filter())
        for col, val in (("characteristic_id", characteristic_id), ("enterprise_id", enterprise_id),
                         ("product_id", product_id), ("serial", serial), ("stage", stage), ("batch", batch)):
            if val is not None:
                where.append(f"{col} = ?")
                params.append(val)
        if start is not None:
            where.append("measured_at >= CAST(? AS TIMESTAMPTZ)")
            params.append(_ts(start))
        if end is not None:
            where.append("measured_at < CAST(? AS TIMESTAMPTZ)")
            params.append(_ts(end))
        if valid_only:
            where.append("status = 'valid'")
        sql = (f"SELECT {self.lake.select_sql(columns)} FROM {self.lake.relation_sql(files)} "
               f"WHERE {' AND '.join(where)} ORDER BY measured_at, position" + (f" LIMIT {int(limit)}" if limit else ""))
        con = self.lake.connect()
        try:
            return self.lake.fetch(con.sql(sql, params=params))
        finally:
            con.close()

    def values(self, actor: Actor, characteristic_id: int, **filters) -> pa.Table:
        """Time-ordered values of one characteristic (see :meth:`measurements` for the filters).

        Raises :class:`NotFoundError` when the characteristic does not exist or is not visible.
        """
        self.get_characteristic(actor, characteristic_id)
        return self.measurements(actor, characteristic_id=characteristic_id, **filters)

    def series(self, actor: Actor, characteristic_id: int, *, start: dt.datetime | None = None,
               end: dt.datetime | None = None, limit: int | None = None, valid_only: bool = True) -> pa.Table:
        """``measured_at`` and ``value`` of one characteristic in time order (then position in the
        source), as :meth:`values` gives them, read with pyarrow alone: the manifest picks the
        files that may hold the characteristic, row-group statistics prune the rest, and a stable
        sort merges the files (each is already sorted by characteristic and time). For charts
        of long series, where DuckDB's start-up and SQL cost more than the read."""
        import pyarrow.compute as pc

        for name, x in (("start", start), ("end", end)):
            if x is not None and x.tzinfo is None:
                raise InvalidInputError("must be timezone-aware", field=name)
        self.get_characteristic(actor, characteristic_id)
        with self._read() as conn:
            vis = self.visibility(actor, conn)
            files = self._files(conn, vis, characteristic_id=characteristic_id, start=start, end=end)
        flt = pc.field("characteristic_id") == characteristic_id
        visible = vis.arrow_filter()
        if visible is not None:
            flt = flt & visible
        if start is not None:
            flt = flt & (pc.field("measured_at") >= pa.scalar(start, pa.timestamp("us", tz="UTC")))
        if end is not None:
            flt = flt & (pc.field("measured_at") < pa.scalar(end, pa.timestamp("us", tz="UTC")))
        table = self.lake.scan(files, ("measured_at", "value", "position"), flt, valid_only=valid_only)
        if len(files) > 1:
            table = table.take(pc.sort_indices(table, [("measured_at", "ascending"), ("position", "ascending")]))
        if limit is not None:
            table = table.slice(0, int(limit))
        return table.select(["measured_at", "value"])

    def scan(self, actor: Actor, *, enterprise_id: int | None = None, month: str | None = None,
             columns: tuple[str, ...] = VALUE_COLUMNS, valid_only: bool = False) -> pa.Table:
        """Visible measurements in storage order (each file sorted by characteristic and time),
        without sorting: the fastest way to read a partition (``month`` as ``YYYY-MM``). A plain
        scan needs no SQL, so it is read with pyarrow directly."""
        bad = [c for c in columns if c not in VALUE_COLUMNS]
        if bad:
            raise InvalidInputError(f"unknown column(s) {bad}", field="columns")
        with self._read() as conn:
            vis = self.visibility(actor, conn)
            q = select(t.lake_file.c.path).where(t.lake_file.c.active.is_(True))
            allowed = vis.data_enterprises()
            if allowed is not None:
                q = q.where(t.lake_file.c.enterprise_id.in_(sorted(allowed)))
            if enterprise_id is not None:
                q = q.where(t.lake_file.c.enterprise_id == enterprise_id)
            if month is not None:
                q = q.where(t.lake_file.c.month == month)
            files = list(conn.execute(q.order_by(t.lake_file.c.enterprise_id, t.lake_file.c.month,
                                                 t.lake_file.c.path)).scalars())
        return self.lake.scan(files, columns, vis.arrow_filter(), valid_only=valid_only)

    def sorted_tables(self, actor: Actor, *, enterprise_ids: list[int] | None = None,
                      columns: tuple[str, ...] = ("characteristic_id", "measured_at", "value", "nominal",
                                                  "lower_limit", "upper_limit"),
                      valid_only: bool = True) -> Iterator[tuple[int, pa.Table]]:
        """Each visible enterprise's measurements as one Arrow table sorted by (characteristic,
        time), for the batch kernels. A characteristic belongs to one enterprise, so sorting
        within each enterprise is enough; an enterprise whose values sit in one (compacted) file
        is read in storage order, which is already this order, without sorting."""
        with self._read() as conn:
            vis = self.visibility(actor, conn)
            rows = conn.execute(select(t.lake_file.c.enterprise_id, t.lake_file.c.path)
                                .where(t.lake_file.c.active.is_(True))
                                .order_by(t.lake_file.c.enterprise_id, t.lake_file.c.path)).all()
        by_ent: dict[int, list[str]] = {}
        allowed = vis.data_enterprises()
        for r in rows:
            if (allowed is None or r.enterprise_id in allowed) and (enterprise_ids is None or r.enterprise_id in enterprise_ids):
                by_ent.setdefault(r.enterprise_id, []).append(r.path)
        bad = [c for c in columns if c not in VALUE_COLUMNS]
        if bad:
            raise InvalidInputError(f"unknown column(s) {bad}", field="columns")
        con = self.lake.connect()
        try:
            for ent, files in by_ent.items():
                where = [vis.lake_filter()] + (["status = 'valid'"] if valid_only else [])
                order = "" if len(files) == 1 else " ORDER BY characteristic_id, measured_at, position"
                sql = (f"SELECT {self.lake.select_sql(columns)} FROM {self.lake.relation_sql(files)} "
                       f"WHERE {' AND '.join(where)}")
                yield ent, self.lake.fetch(con.sql(sql + order))
        finally:
            con.close()

    # -- lineage ------------------------------------------------------------------------------

    def lineage(self, actor: Actor, serial: str, *, part_number: str | None = None,
                enterprise_id: int | None = None) -> Lineage:
        """A serial's measurements and those of every component down the as-built tree.

        Components of other enterprises appear where the actor may see them (own, or shared);
        the others are counted in ``hidden_components`` and not followed further.
        """
        with self._read() as conn:
            vis = self.visibility(actor, conn)
            q = (select(t.part.c.id, t.part.c.serial, t.part.c.product_id, t.product.c.part_number,
                        t.product.c.enterprise_id, t.enterprise.c.code)
                 .join(t.product, t.product.c.id == t.part.c.product_id)
                 .join(t.enterprise, t.enterprise.c.id == t.product.c.enterprise_id)
                 .where(t.part.c.serial == serial))
            if part_number is not None:
                q = q.where(t.product.c.part_number == part_number)
            if enterprise_id is not None:
                q = q.where(t.product.c.enterprise_id == enterprise_id)
            starts = [r for r in conn.execute(q) if vis.sees_product_data(r.enterprise_id, r.product_id)]
            if not starts:
                raise NotFoundError(f"serial {serial!r} not found", field="serial")
            if len(starts) > 1:
                options = ", ".join(sorted(f"{r.code}/{r.part_number}" for r in starts))
                raise InvalidInputError(f"serial {serial!r} is ambiguous ({options}); give part_number or enterprise",
                                        field="serial")
            s = starts[0]
            root = LineageNode(s.id, s.serial, s.product_id, s.part_number, s.enterprise_id, s.code, None, 0)
            nodes, hidden, frontier = [root], 0, [root]
            seen = {root.part_id}
            while frontier:
                by_id = {n.part_id: n for n in frontier}
                kids = conn.execute(
                    select(t.assembly.c.parent_part_id, t.part.c.id, t.part.c.serial, t.part.c.product_id,
                           t.product.c.part_number, t.product.c.enterprise_id, t.enterprise.c.code)
                    .join(t.part, t.part.c.id == t.assembly.c.child_part_id)
                    .join(t.product, t.product.c.id == t.part.c.product_id)
                    .join(t.enterprise, t.enterprise.c.id == t.product.c.enterprise_id)
                    .where(t.assembly.c.parent_part_id.in_(list(by_id)))
                    .order_by(t.assembly.c.parent_part_id, t.part.c.id)
                ).all()
                frontier = []
                for k in kids:
                    if k.id in seen:
                        continue
                    seen.add(k.id)
                    if not vis.sees_product_data(k.enterprise_id, k.product_id):
                        hidden += 1
                        continue
                    node = LineageNode(k.id, k.serial, k.product_id, k.part_number, k.enterprise_id, k.code,
                                       k.parent_part_id, by_id[k.parent_part_id].depth + 1)
                    nodes.append(node)
                    frontier.append(node)
            files = self._files(conn, vis, enterprise_ids={n.enterprise_id for n in nodes})
        con = self.lake.connect()
        try:
            con.register("lineage_parts", pa.table({
                "part_id": [n.part_id for n in nodes], "l_product_id": [n.product_id for n in nodes],
                "l_serial": [n.serial for n in nodes]}))
            cols = self.lake.select_sql(VALUE_COLUMNS, prefix="m.")
            sql = (f"SELECT p.part_id, {cols} FROM {self.lake.relation_sql(files)} m "
                   "JOIN lineage_parts p ON m.product_id = p.l_product_id AND m.serial = p.l_serial "
                   f"WHERE {vis.lake_filter('m.')} "
                   "ORDER BY p.part_id, m.characteristic_id, m.measured_at")
            table = self.lake.fetch(con.sql(sql))
        finally:
            con.close()
        return Lineage(root, tuple(nodes), table, hidden)

    # -- traceability of one measurement ------------------------------------------------------

    def measurement_chain(self, actor: Actor, batch: str, position: int) -> CalibrationChain:
        """The calibration chain behind one measurement (by its batch and position), at the time
        it was taken."""
        with self._read() as conn:
            vis = self.visibility(actor, conn)
            files = list(conn.execute(
                select(t.lake_file.c.path).join(t.ingest_batch, t.ingest_batch.c.id == t.lake_file.c.batch_id)
                .where(t.ingest_batch.c.content_hash == batch)).scalars())
        con = self.lake.connect()
        try:
            row = con.execute(
                f"SELECT instrument_id, measured_at FROM {self.lake.relation_sql(files)} "
                f"WHERE {vis.lake_filter()} AND position = ? LIMIT 1", [position]).fetchone()
        finally:
            con.close()
        if row is None:
            raise NotFoundError(f"measurement {batch[:12]}#{position} not found", field="position")
        if row[0] is None:
            raise NotFoundError("the measurement names no instrument", field="instrument_id")
        at = row[1] if row[1].tzinfo else row[1].replace(tzinfo=dt.UTC)
        return self.calibration_chain(actor, int(row[0]), at)
