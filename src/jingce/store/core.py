"""The store's foundation: database engine, transactions, tenancy and row conversion."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event, select
from sqlalchemy.engine import Connection

from jingce.errors import NotFoundError, PermissionDeniedError
from jingce.model.base import Entity
from jingce.model.enums import Role
from jingce.settings import Settings
from jingce.store import migrate
from jingce.store import tables as t
from jingce.store.lake import Lake
from jingce.store.tenancy import Actor, Visibility

E = TypeVar("E", bound=Entity)

ENTERPRISE_ROLES = (Role.ENTERPRISE_USER, Role.ENTERPRISE_ADMIN)


def make_engine(url: str, *, schema: str | None = None) -> Engine:
    """Create the SQLAlchemy engine; SQLite gets WAL, foreign keys and explicit BEGIN control."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 60})

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn, _record):
            dbapi_conn.isolation_level = None  # let the begin event below issue BEGIN
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=60000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn):
            mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
            conn.exec_driver_sql(f"BEGIN {mode}")

        return engine
    connect_args = {"options": f"-csearch_path={schema}"} if schema else {}
    return create_engine(url, connect_args=connect_args, pool_pre_ping=True)


class StoreBase:
    """Holds the engine and the lake; gives transactions, visibility and permission checks."""

    def __init__(self, settings: Settings, *, engine: Engine | None = None, migrate_schema: bool = True) -> None:
        self.settings = settings
        self.data_dir = Path(settings.data_dir)
        if settings.db_url.startswith("sqlite:///"):
            Path(settings.db_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        self.engine = engine or make_engine(settings.db_url)
        self.lake = Lake(settings.lake_dir)
        self.lake.root.mkdir(parents=True, exist_ok=True)
        self.anchor_path = self.data_dir / "audit-head.json"
        self._local = threading.local()
        if migrate_schema:
            with self.engine.begin() as conn:
                migrate.upgrade(conn)

    def close(self) -> None:
        self.engine.dispose()

    # -- transactions -------------------------------------------------------------------------

    @contextlib.contextmanager
    def _read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            yield conn

    @contextlib.contextmanager
    def _write(self) -> Iterator[Connection]:
        """A write transaction holding the database's write lock from its first statement.

        SQLite: ``BEGIN IMMEDIATE``; PostgreSQL: a transaction-scoped advisory lock. Writers are
        serialised, which keeps the audit chain linear and makes "already ingested?" checks exact.
        """
        with self.engine.connect().execution_options(sqlite_begin="IMMEDIATE") as conn:
            with conn.begin():
                if conn.dialect.name == "postgresql":
                    conn.exec_driver_sql("SELECT pg_advisory_xact_lock(7461636)")
                yield conn

    # -- conversion ---------------------------------------------------------------------------

    @staticmethod
    def _model(cls: type[E], row: Any, **extra: Any) -> E:
        data = dict(row._mapping if hasattr(row, "_mapping") else row)
        data.update(extra)
        return cls(**{k: v for k, v in data.items() if k in cls.model_fields})

    @staticmethod
    def _row(entity: Entity, *, exclude: tuple[str, ...] = ("id",)) -> dict[str, Any]:
        return entity.model_dump(mode="python", exclude=set(exclude))

    # -- tenancy ------------------------------------------------------------------------------

    def visibility(self, actor: Actor, conn: Connection | None = None) -> Visibility:
        """What ``actor`` may read (see :mod:`jingce.store.tenancy`)."""
        if actor.is_admin:
            return Visibility(everything=True, registry_everything=True)
        with contextlib.ExitStack() as stack:
            if conn is None:
                conn = stack.enter_context(self._read())
            owned = {r.id for r in conn.execute(select(t.enterprise.c.id).where(t.enterprise.c.tenant_id == actor.tenant_id))}
            shares = conn.execute(
                select(t.share.c.enterprise_id, t.share.c.product_id).where(t.share.c.grantee_tenant_id == actor.tenant_id)
            ).all()
        full = set(owned) | {s.enterprise_id for s in shares if s.product_id is None}
        products: dict[int, set[int]] = {}
        for s in shares:
            if s.product_id is not None and s.enterprise_id not in full:
                products.setdefault(s.enterprise_id, set()).add(s.product_id)
        return Visibility(
            enterprises=frozenset(full),
            products={k: frozenset(v) for k, v in products.items()},
            registry_everything=actor.is_regulator,
        )

    def _enterprise_row(self, conn: Connection, enterprise_id: int):
        row = conn.execute(select(t.enterprise).where(t.enterprise.c.id == enterprise_id)).first()
        if row is None:
            raise NotFoundError(f"enterprise {enterprise_id} not found", field="enterprise_id")
        return row

    def _require_enterprise_write(self, actor: Actor, conn: Connection, enterprise_id: int, *,
                                  via: tuple[str, str] | None = None) -> None:
        """Only the owning tenant's enterprise users (or the admin) write an enterprise's data.

        ``via`` (field, object) names what the caller asked for (``("product_id", "product 7")``):
        another tenant's object is then "not found" under that field, exactly like a missing one."""
        row = self._enterprise_row(conn, enterprise_id)
        if actor.is_admin:
            return
        if row.tenant_id != actor.tenant_id:
            field, what = via or ("enterprise_id", f"enterprise {enterprise_id}")
            raise NotFoundError(f"{what} not found", field=field)
        if actor.role not in ENTERPRISE_ROLES:
            raise PermissionDeniedError(f"role {actor.role.value} cannot change enterprise data", field="role")

    @staticmethod
    def _require_role(actor: Actor, *roles: Role) -> None:
        if actor.role not in roles and not actor.is_admin:
            allowed = ", ".join(r.value for r in roles) or "admin"
            raise PermissionDeniedError(f"role {actor.role.value} may not do this (needs {allowed})", field="role")
