"""Compaction: rewrite a partition's many batch files as one file sorted by (characteristic, time).

Small batches (live collectors, single CMM runs) leave many small files per enterprise-month;
analyses then have to merge them. Compaction reads a partition's active files, writes one sorted
file, and in one registry transaction marks the old files replaced and lists the new one (the
commit point, as for ingest). Replaced files stay on disk for readers that listed them before
the commit, until :meth:`CompactionMixin.vacuum` removes them.
"""

from __future__ import annotations

import datetime as dt
import hashlib

from sqlalchemy import func, insert, select, update

from jingce.model import Role
from jingce.store import audit
from jingce.store import tables as t
from jingce.store.core import StoreBase
from jingce.store.tenancy import Actor


class CompactionMixin(StoreBase):
    """Lake maintenance (platform admin only)."""

    def compact(self, actor: Actor, *, enterprise_id: int | None = None, min_files: int = 2) -> int:
        """Compact every partition (of ``enterprise_id``, or all) that has at least ``min_files``
        active files; return the number of partitions compacted."""
        self._require_role(actor, Role.ADMIN)
        with self._read() as conn:
            q = (select(t.lake_file.c.enterprise_id, t.lake_file.c.month, func.count())
                 .where(t.lake_file.c.active.is_(True))
                 .group_by(t.lake_file.c.enterprise_id, t.lake_file.c.month))
            if enterprise_id is not None:
                q = q.where(t.lake_file.c.enterprise_id == enterprise_id)
            parts = [(e, m) for e, m, n in conn.execute(q) if n >= min_files]
        for ent, month in parts:
            self._compact_partition(actor, ent, month)
        return len(parts)

    def _compact_partition(self, actor: Actor, enterprise_id: int, month: str) -> None:
        with self._write() as conn:
            old = conn.execute(select(t.lake_file).where(
                t.lake_file.c.enterprise_id == enterprise_id, t.lake_file.c.month == month,
                t.lake_file.c.active.is_(True)).order_by(t.lake_file.c.path)).all()
            if len(old) < 2:
                return
            paths = [r.path for r in old]
            digest = hashlib.sha256("\n".join(paths).encode()).hexdigest()
            con = self.lake.connect()
            try:
                table = con.sql(f"SELECT * EXCLUDE (local_time) FROM {self.lake.relation_sql(paths)} "
                                "ORDER BY characteristic_id, measured_at, position").to_arrow_table()
            finally:
                con.close()
            [new] = self.lake.write_batch(table, f"compact-{digest}", presorted=True)
            now = dt.datetime.now(dt.UTC)
            conn.execute(update(t.lake_file).where(t.lake_file.c.id.in_([r.id for r in old]))
                         .values(active=False, replaced_at=now))
            conn.execute(insert(t.lake_file).values(
                batch_id=None, path=new.path, enterprise_id=new.enterprise_id, month=new.month, rows=new.rows,
                bytes=new.bytes, min_characteristic_id=new.min_characteristic_id,
                max_characteristic_id=new.max_characteristic_id, min_time=new.min_time, max_time=new.max_time,
                active=True))
            seq, head = audit.append(conn, "lake_compaction", new.path,
                                     {"replaced": paths, "rows": new.rows}, actor.username)
        audit.write_anchor(self.anchor_path, seq, head)

    def vacuum(self, actor: Actor, *, older_than: dt.timedelta = dt.timedelta(hours=1)) -> int:
        """Delete files that compaction replaced more than ``older_than`` ago; return how many."""
        self._require_role(actor, Role.ADMIN)
        cutoff = dt.datetime.now(dt.UTC) - older_than
        with self._read() as conn:
            paths = list(conn.execute(select(t.lake_file.c.path).where(
                t.lake_file.c.active.is_(False), t.lake_file.c.replaced_at <= cutoff)).scalars())
        removed = 0
        for p in paths:
            f = self.lake.path(p)
            if f.exists():
                f.unlink()
                removed += 1
        return removed
