"""Registry of accounts, organisations, products, parts, BOMs, characteristics and plans."""

from __future__ import annotations

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from jingce.errors import ConflictError, InvalidInputError, NotFoundError
from jingce.model import (
    BomLine,
    Characteristic,
    Enterprise,
    MeasurementPlan,
    Part,
    PlanItem,
    Product,
    Role,
    Share,
    Site,
    Tenant,
    TenantKind,
    User,
)
from jingce.store import tables as t
from jingce.store.core import StoreBase
from jingce.store.tenancy import Actor

ADMIN_USERNAME = "admin"


class RegistryMixin(StoreBase):
    """Create and read the registry's entities, each read filtered by the actor's tenancy."""

    # -- accounts -----------------------------------------------------------------------------

    def bootstrap(self) -> Actor:
        """Ensure the platform tenant and its ``admin`` user exist; return the admin actor."""
        with self._write() as conn:
            row = conn.execute(select(t.app_user).where(t.app_user.c.username == ADMIN_USERNAME)).first()
            if row is None:
                tid = conn.execute(select(t.tenant.c.id).where(t.tenant.c.code == "platform")).scalar()
                if tid is None:
                    tid = conn.execute(
                        insert(t.tenant).values(code="platform", name="jingce platform 平台", kind=TenantKind.PLATFORM.value)
                    ).inserted_primary_key[0]
                uid = conn.execute(
                    insert(t.app_user).values(tenant_id=tid, username=ADMIN_USERNAME, role=Role.ADMIN.value)
                ).inserted_primary_key[0]
                return Actor(uid, ADMIN_USERNAME, tid, Role.ADMIN)
        return Actor(row.id, row.username, row.tenant_id, Role(row.role))

    def actor(self, username: str) -> Actor:
        """The actor for a user name (authentication happens at the edges)."""
        with self._read() as conn:
            row = conn.execute(select(t.app_user).where(t.app_user.c.username == username)).first()
        if row is None:
            raise NotFoundError(f"no user named {username!r}", field="username")
        return Actor(row.id, row.username, row.tenant_id, Role(row.role))

    def add_tenant(self, actor: Actor, tenant: Tenant) -> Tenant:
        self._require_role(actor)
        return self._insert(t.tenant, tenant, "tenant code")

    def get_tenant(self, actor: Actor, code: str) -> Tenant:
        with self._read() as conn:
            row = conn.execute(select(t.tenant).where(t.tenant.c.code == code)).first()
        if row is None or not (actor.is_admin or row.id == actor.tenant_id):
            raise NotFoundError(f"tenant {code!r} not found", field="tenant")
        return self._model(Tenant, row)

    def add_user(self, actor: Actor, user: User, password_hash: str | None = None) -> User:
        """Create an account (admin, or an enterprise admin inside its own tenant)."""
        if not actor.is_admin:
            self._require_role(actor, Role.ENTERPRISE_ADMIN)
            if user.tenant_id != actor.tenant_id or user.role not in (Role.ENTERPRISE_USER, Role.ENTERPRISE_ADMIN):
                raise NotFoundError("tenant not found", field="tenant_id")
        row = self._row(user) | {"role": user.role.value, "password_hash": password_hash}
        return self._insert(t.app_user, user, "username", values=row)

    def set_password(self, actor: Actor, username: str, password_hash: str) -> None:
        """Replace an account's password hash (admin, an enterprise admin for its own tenant's
        users, or the user itself)."""
        with self._write() as conn:
            row = conn.execute(select(t.app_user.c.id, t.app_user.c.tenant_id).where(
                t.app_user.c.username == username)).first()
            allowed = row is not None and (actor.is_admin or row.id == actor.user_id or (
                actor.role == Role.ENTERPRISE_ADMIN and row.tenant_id == actor.tenant_id))
            if not allowed:
                raise NotFoundError(f"user {username!r} not found", field="username")
            conn.execute(update(t.app_user).where(t.app_user.c.id == row.id).values(password_hash=password_hash))

    def password_hash(self, username: str) -> str | None:
        with self._read() as conn:
            return conn.execute(select(t.app_user.c.password_hash).where(t.app_user.c.username == username)).scalar()

    def list_users(self, actor: Actor) -> list[User]:
        q = select(t.app_user)
        if not actor.is_admin:
            q = q.where(t.app_user.c.tenant_id == actor.tenant_id)
        with self._read() as conn:
            return [self._model(User, r) for r in conn.execute(q.order_by(t.app_user.c.id))]

    # -- organisations ------------------------------------------------------------------------

    def add_enterprise(self, actor: Actor, enterprise: Enterprise) -> Enterprise:
        self._require_role(actor)
        return self._insert(t.enterprise, enterprise, "enterprise code")

    def get_enterprise(self, actor: Actor, enterprise_id: int | None = None, *, code: str | None = None) -> Enterprise:
        q = select(t.enterprise).where(t.enterprise.c.id == enterprise_id if code is None else t.enterprise.c.code == code)
        with self._read() as conn:
            row = conn.execute(q).first()
            vis = self.visibility(actor, conn)
        if row is None or not vis.sees_registry(row.id):
            raise NotFoundError(f"enterprise {code or enterprise_id!s} not found", field="enterprise")
        return self._model(Enterprise, row)

    def list_enterprises(self, actor: Actor, *, industry_chain: str | None = None) -> list[Enterprise]:
        q = select(t.enterprise).order_by(t.enterprise.c.id)
        if industry_chain:
            q = q.where(t.enterprise.c.industry_chain == industry_chain)
        with self._read() as conn:
            vis = self.visibility(actor, conn)
            rows = conn.execute(q).all()
        return [self._model(Enterprise, r) for r in rows if vis.sees_registry(r.id)]

    def add_site(self, actor: Actor, site: Site) -> Site:
        with self._write() as conn:
            self._require_enterprise_write(actor, conn, site.enterprise_id)
            return self._insert(t.site, site, "site code", conn=conn)

    def list_sites(self, actor: Actor, enterprise_id: int) -> list[Site]:
        self.get_enterprise(actor, enterprise_id)
        with self._read() as conn:
            rows = conn.execute(select(t.site).where(t.site.c.enterprise_id == enterprise_id).order_by(t.site.c.id))
            return [self._model(Site, r) for r in rows]

    def add_share(self, actor: Actor, share: Share) -> Share:
        """Grant another tenant read access to an enterprise's (or one product's) measurements."""
        with self._write() as conn:
            ent = self._enterprise_row(conn, share.enterprise_id)
            if not actor.is_admin and (ent.tenant_id != actor.tenant_id or share.owner_tenant_id != actor.tenant_id):
                raise NotFoundError(f"enterprise {share.enterprise_id} not found", field="enterprise_id")
            if share.owner_tenant_id != ent.tenant_id:
                raise NotFoundError("owner_tenant_id does not own the enterprise", field="owner_tenant_id")
            if share.product_id is not None:
                prod = conn.execute(select(t.product).where(t.product.c.id == share.product_id)).first()
                if prod is None or prod.enterprise_id != share.enterprise_id:
                    raise NotFoundError(f"product {share.product_id} not found", field="product_id")
            return self._insert(t.share, share, "share", conn=conn)

    # -- products, parts, BOM -----------------------------------------------------------------

    def add_product(self, actor: Actor, product: Product) -> Product:
        with self._write() as conn:
            self._require_enterprise_write(actor, conn, product.enterprise_id)
            return self._insert(t.product, product, "part number", conn=conn)

    def get_product(self, actor: Actor, product_id: int) -> Product:
        with self._read() as conn:
            row = conn.execute(select(t.product).where(t.product.c.id == product_id)).first()
            vis = self.visibility(actor, conn)
        if row is None or not vis.sees_product(row.enterprise_id, row.id):
            raise NotFoundError(f"product {product_id} not found", field="product_id")
        return self._model(Product, row)

    def find_product(self, actor: Actor, enterprise_code: str, part_number: str) -> Product:
        ent = self.get_enterprise(actor, code=enterprise_code)
        with self._read() as conn:
            row = conn.execute(
                select(t.product).where(t.product.c.enterprise_id == ent.id, t.product.c.part_number == part_number)
            ).first()
        if row is None:
            raise NotFoundError(f"part number {part_number!r} not found in {enterprise_code}", field="part_number")
        return self.get_product(actor, row.id)

    def list_products(self, actor: Actor, enterprise_id: int) -> list[Product]:
        self.get_enterprise(actor, enterprise_id)
        with self._read() as conn:
            vis = self.visibility(actor, conn)
            rows = conn.execute(select(t.product).where(t.product.c.enterprise_id == enterprise_id).order_by(t.product.c.id))
            return [self._model(Product, r) for r in rows if vis.sees_product(r.enterprise_id, r.id)]

    def add_part(self, actor: Actor, part: Part) -> Part:
        with self._write() as conn:
            prod = conn.execute(select(t.product).where(t.product.c.id == part.product_id)).first()
            via = ("product_id", f"product {part.product_id}")
            if prod is None:
                raise NotFoundError(f"product {part.product_id} not found", field="product_id")
            self._require_enterprise_write(actor, conn, prod.enterprise_id, via=via)
            return self._insert(t.part, part, "serial", conn=conn)

    def get_part(self, actor: Actor, part_id: int) -> Part:
        with self._read() as conn:
            row = conn.execute(
                select(t.part, t.product.c.enterprise_id).join(t.product).where(t.part.c.id == part_id)
            ).first()
            vis = self.visibility(actor, conn)
        if row is None or not vis.sees_product_data(row.enterprise_id, row.product_id):
            raise NotFoundError(f"part {part_id} not found", field="part_id")
        return self._model(Part, row)

    def part_ids(self, actor: Actor, product_id: int, serials: list[str]) -> dict[str, int]:
        """Ids of the given serials of a product (those that exist and the actor may see)."""
        prod = self.get_product(actor, product_id)
        with self._read() as conn:
            vis = self.visibility(actor, conn)
            if not vis.sees_product_data(prod.enterprise_id, product_id):
                raise NotFoundError(f"product {product_id} not found", field="product_id")
            if len(serials) > 500:  # cheaper to read the product's parts than to bind thousands of serials
                wanted = set(serials)
                return {r.serial: r.id for r in conn.execute(
                    select(t.part.c.id, t.part.c.serial).where(t.part.c.product_id == product_id))
                    if r.serial in wanted}
            return {r.serial: r.id for r in conn.execute(
                select(t.part.c.id, t.part.c.serial).where(t.part.c.product_id == product_id,
                                                           t.part.c.serial.in_(serials)))}

    def add_bom_line(self, actor: Actor, line: BomLine) -> BomLine:
        """Record that the child product goes into the parent (the parent's owner records it)."""
        with self._write() as conn:
            parent = conn.execute(select(t.product).where(t.product.c.id == line.parent_product_id)).first()
            via = ("parent_product_id", f"product {line.parent_product_id}")
            child = conn.execute(select(t.product).where(t.product.c.id == line.child_product_id)).first()
            if parent is None:
                raise NotFoundError(f"product {line.parent_product_id} not found", field="parent_product_id")
            if child is None:
                raise NotFoundError(f"product {line.child_product_id} not found", field="child_product_id")
            self._require_enterprise_write(actor, conn, parent.enterprise_id, via=via)
            if self._reaches(conn, t.bom_line.c.parent_product_id, t.bom_line.c.child_product_id,
                             line.child_product_id, line.parent_product_id):
                raise ConflictError("the BOM line would make a cycle", field="child_product_id")
            return self._insert(t.bom_line, line, "BOM line", conn=conn)

    def bom(self, actor: Actor, product_id: int) -> list[BomLine]:
        self.get_product(actor, product_id)
        with self._read() as conn:
            rows = conn.execute(select(t.bom_line).where(t.bom_line.c.parent_product_id == product_id))
            return [self._model(BomLine, r) for r in rows]

    def add_assemblies(self, actor: Actor, parent_product_id: int, parent_part_ids: list[int],
                       child_part_ids: list[int], positions: list[str | None] | None = None) -> int:
        """Record as-built links: ``child_part_ids[i]`` was built into ``parent_part_ids[i]``.

        All parents are parts of ``parent_product_id``, whose owner records the links (children
        may belong to other enterprises). Idempotent: links already recorded are skipped.
        Returns the number of new links.
        """
        parents, children = list(parent_part_ids), list(child_part_ids)
        positions = list(positions) if positions is not None else [None] * len(parents)
        if not (len(parents) == len(children) == len(positions)):
            raise InvalidInputError("parent_part_ids, child_part_ids and positions must have equal lengths",
                                    field="child_part_ids")
        for p, c in zip(parents, children, strict=True):
            if p == c:
                raise InvalidInputError(f"part {p} cannot contain itself", field="child_part_ids")
        with self._write() as conn:
            prod = conn.execute(select(t.product).where(t.product.c.id == parent_product_id)).first()
            via = ("parent_product_id", f"product {parent_product_id}")
            if prod is None:
                raise NotFoundError(f"product {parent_product_id} not found", field="parent_product_id")
            self._require_enterprise_write(actor, conn, prod.enterprise_id, via=via)
            own = set(conn.execute(select(t.part.c.id).where(t.part.c.product_id == parent_product_id)).scalars())
            stray = [p for p in parents if p not in own]
            if stray:
                raise NotFoundError(f"part {stray[0]} is not a part of product {parent_product_id}",
                                    field="parent_part_ids")
            existing = {(r.parent_part_id, r.child_part_id) for r in conn.execute(
                select(t.assembly.c.parent_part_id, t.assembly.c.child_part_id)
                .join(t.part, t.part.c.id == t.assembly.c.parent_part_id)
                .where(t.part.c.product_id == parent_product_id))}
            new = [{"parent_part_id": p, "child_part_id": c, "position": pos}
                   for p, c, pos in zip(parents, children, positions, strict=True) if (p, c) not in existing]
            if new:
                try:
                    conn.execute(insert(t.assembly), new)
                except IntegrityError:
                    raise NotFoundError("a child part does not exist", field="child_part_ids") from None
            return len(new)

    # -- characteristics and plans ------------------------------------------------------------

    def add_characteristic(self, actor: Actor, char: Characteristic) -> Characteristic:
        with self._write() as conn:
            prod = conn.execute(select(t.product).where(t.product.c.id == char.product_id)).first()
            via = ("product_id", f"product {char.product_id}")
            if prod is None:
                raise NotFoundError(f"product {char.product_id} not found", field="product_id")
            self._require_enterprise_write(actor, conn, prod.enterprise_id, via=via)
            return self._insert(t.characteristic, char, "characteristic key", conn=conn)

    def get_characteristic(self, actor: Actor, characteristic_id: int) -> Characteristic:
        with self._read() as conn:
            row = conn.execute(
                select(t.characteristic, t.product.c.enterprise_id)
                .join(t.product)
                .where(t.characteristic.c.id == characteristic_id)
            ).first()
            vis = self.visibility(actor, conn)
        if row is None or not vis.sees_product(row.enterprise_id, row.product_id):
            raise NotFoundError(f"characteristic {characteristic_id} not found", field="characteristic_id")
        return self._model(Characteristic, row)

    def find_characteristic(self, actor: Actor, enterprise_code: str, part_number: str, key: str) -> Characteristic:
        prod = self.find_product(actor, enterprise_code, part_number)
        with self._read() as conn:
            cid = conn.execute(
                select(t.characteristic.c.id).where(t.characteristic.c.product_id == prod.id, t.characteristic.c.key == key)
            ).scalar()
        if cid is None:
            raise NotFoundError(f"characteristic {key!r} not found on {enterprise_code}/{part_number}", field="characteristic")
        return self.get_characteristic(actor, cid)

    def list_characteristics(self, actor: Actor, *, product_id: int | None = None,
                             enterprise_id: int | None = None) -> list[Characteristic]:
        q = select(t.characteristic, t.product.c.enterprise_id).join(t.product).order_by(t.characteristic.c.id)
        if product_id is not None:
            q = q.where(t.characteristic.c.product_id == product_id)
        if enterprise_id is not None:
            q = q.where(t.product.c.enterprise_id == enterprise_id)
        with self._read() as conn:
            vis = self.visibility(actor, conn)
            rows = conn.execute(q).all()
        return [self._model(Characteristic, r) for r in rows if vis.sees_product(r.enterprise_id, r.product_id)]

    def characteristic_labels(self, actor: Actor) -> dict[int, str]:
        """``part_number/key`` of every characteristic the actor may see, in one query (the region
        view names tens of thousands)."""
        q = select(t.characteristic.c.id, t.characteristic.c.key, t.characteristic.c.product_id,
                   t.product.c.part_number, t.product.c.enterprise_id).join(t.product)
        with self._read() as conn:
            vis = self.visibility(actor, conn)
            rows = conn.execute(q).all()
        return {r.id: f"{r.part_number}/{r.key}" for r in rows if vis.sees_product(r.enterprise_id, r.product_id)}

    def add_plan(self, actor: Actor, plan: MeasurementPlan) -> MeasurementPlan:
        with self._write() as conn:
            prod = conn.execute(select(t.product).where(t.product.c.id == plan.product_id)).first()
            via = ("product_id", f"product {plan.product_id}")
            if prod is None:
                raise NotFoundError(f"product {plan.product_id} not found", field="product_id")
            self._require_enterprise_write(actor, conn, prod.enterprise_id, via=via)
            char_ids = {i.characteristic_id for i in plan.items}
            found = set(conn.execute(select(t.characteristic.c.id).where(
                t.characteristic.c.id.in_(char_ids), t.characteristic.c.product_id == plan.product_id)).scalars())
            if found != char_ids:
                raise NotFoundError(f"characteristic(s) {sorted(char_ids - found)} not on this product",
                                    field="items.characteristic_id")
            values = {"product_id": plan.product_id, "name": plan.name,
                      "items": [i.model_dump(mode="json") for i in plan.items]}
            return self._insert(t.measurement_plan, plan, "plan", conn=conn, values=values)

    def list_plans(self, actor: Actor, product_id: int) -> list[MeasurementPlan]:
        self.get_product(actor, product_id)
        with self._read() as conn:
            rows = conn.execute(select(t.measurement_plan).where(t.measurement_plan.c.product_id == product_id))
            return [MeasurementPlan(id=r.id, product_id=r.product_id, name=r.name,
                                    items=tuple(PlanItem(**i) for i in r.items)) for r in rows]

    # -- helpers ------------------------------------------------------------------------------

    def _insert(self, table, entity, what: str, *, conn=None, values: dict | None = None):
        values = values if values is not None else self._row(entity)
        if conn is None:
            with self._write() as c:
                return self._insert(table, entity, what, conn=c, values=values)
        try:
            with conn.begin_nested():
                new_id = conn.execute(insert(table).values(**values)).inserted_primary_key[0]
        except IntegrityError:
            raise ConflictError(f"{what} already exists", field=what.split()[-1]) from None
        return entity.model_copy(update={"id": new_id}) if "id" in type(entity).model_fields else entity

    @staticmethod
    def _reaches(conn, parent_col, child_col, start: int, goal: int) -> bool:
        """Whether ``goal`` is reachable from ``start`` following parent -> child edges."""
        seen, frontier = {start}, {start}
        while frontier:
            if goal in frontier:
                return True
            nxt = set(conn.execute(select(child_col).where(parent_col.in_(frontier))).scalars()) - seen
            seen |= nxt
            frontier = nxt
        return False

