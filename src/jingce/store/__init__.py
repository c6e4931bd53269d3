"""The store: registry (SQLAlchemy + Alembic; SQLite file or PostgreSQL), the Parquet measurement
lake (read with DuckDB) and the hash-chained audit log, behind one :class:`Store` interface.

Every read takes the acting user (:class:`Actor`); see :mod:`jingce.store.tenancy`.
"""

from __future__ import annotations

from sqlalchemy import select

from jingce.settings import Settings
from jingce.store import audit
from jingce.store import tables as t
from jingce.store.compaction import CompactionMixin
from jingce.store.gage_studies import GageStudiesMixin
from jingce.store.ingest import IngestMixin, IngestResult
from jingce.store.live import Alarm, FrozenLimits, LiveMixin
from jingce.store.machines import MachinesMixin
from jingce.store.market import MarketMixin
from jingce.store.metrology import CalibrationChain, ChainLink, ChainNode
from jingce.store.notifications import Notification, NotificationsMixin
from jingce.store.queries import Lineage, LineageNode, QueriesMixin
from jingce.store.registry import RegistryMixin
from jingce.store.summaries import SummariesMixin
from jingce.store.supervision import SupervisionMixin
from jingce.store.tenancy import Actor, Visibility


class Store(IngestMixin, CompactionMixin, LiveMixin, MachinesMixin, QueriesMixin, RegistryMixin, SummariesMixin,
            SupervisionMixin, MarketMixin, GageStudiesMixin, NotificationsMixin):
    """One interface over the registry, the lake and the audit log (habit 6 of DESIGN.md)."""

    @classmethod
    def open(cls, settings: Settings) -> Store:
        """Open (creating and migrating if needed) the store the settings describe."""
        return cls(settings)

    def has_batch(self, content_hash: str, actor: Actor | None = None) -> bool:
        """Whether a batch with this content hash is already in (of the actor's tenant, if given)."""
        return self.batch_rows(content_hash, actor) is not None

    def batch_rows(self, content_hash: str, actor: Actor | None = None) -> int | None:
        """Rows of a committed batch; with ``actor``, only a batch of its tenant (the admin: any)."""
        q = select(t.ingest_batch.c.rows).where(t.ingest_batch.c.content_hash == content_hash)
        if actor is not None and not actor.is_admin:
            q = q.where(t.ingest_batch.c.tenant_id == actor.tenant_id)
        with self._read() as conn:
            return conn.execute(q).scalar()

    def verify_audit(self) -> audit.AuditReport:
        """Verify the audit chain against itself and the anchor file."""
        with self._read() as conn:
            return audit.verify(conn, audit.read_anchor(self.anchor_path))

    def orphan_files(self) -> list:
        """Lake files no committed batch lists (leftovers of interrupted ingests)."""
        with self._read() as conn:
            listed = set(conn.execute(select(t.lake_file.c.path)).scalars())
        return self.lake.orphans(listed)

    def remove_orphans(self) -> int:
        """Delete leftovers of interrupted ingests; returns how many files were removed."""
        files = self.orphan_files()
        for f in files:
            f.unlink(missing_ok=True)
        return len(files)

    def lake_stats(self) -> dict:
        """Rows, files and bytes in the lake (for the bytes-per-value figure)."""
        from sqlalchemy import func

        with self._read() as conn:
            r = conn.execute(select(func.count(), func.coalesce(func.sum(t.lake_file.c.rows), 0),
                                    func.coalesce(func.sum(t.lake_file.c.bytes), 0))
                             .where(t.lake_file.c.active.is_(True))).one()
        files, rows, nbytes = int(r[0]), int(r[1]), int(r[2])
        return {"files": files, "rows": rows, "bytes": nbytes, "bytes_per_value": nbytes / rows if rows else float("nan")}


__all__ = ["Actor", "Alarm", "FrozenLimits", "CalibrationChain", "ChainLink", "ChainNode", "IngestResult", "Lineage", "LineageNode", "Notification", "Store",
           "Visibility"]
