"""Who is acting, and what they may see.

Every read of the store takes an :class:`Actor`. A user sees what its tenant owns and what other
tenants shared with it; the regulator reads the registry (enterprises, products,
characteristics, instruments, calibrations, labs) of the whole region but raw measurement values
only where shared; the platform admin sees everything. Anything else is reported as not found,
never as "forbidden", so ids of other tenants' data leak nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from jingce.model.enums import Role


@dataclass(frozen=True, slots=True)
class Actor:
    """The user on whose behalf the store is read or written."""

    user_id: int | None
    username: str
    tenant_id: int
    role: Role

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    @property
    def is_regulator(self) -> bool:
        return self.role is Role.REGULATOR


@dataclass(frozen=True, slots=True)
class Visibility:
    """Enterprises (and single products) whose raw measurements an actor may read."""

    everything: bool = False
    enterprises: frozenset[int] = frozenset()
    products: dict[int, frozenset[int]] = field(default_factory=dict)  # enterprise -> shared products
    registry_everything: bool = False  # regulator: all registry metadata, no raw values

    def sees_enterprise_data(self, enterprise_id: int) -> bool:
        return self.everything or enterprise_id in self.enterprises

    def sees_product_data(self, enterprise_id: int, product_id: int) -> bool:
        return self.sees_enterprise_data(enterprise_id) or product_id in self.products.get(enterprise_id, ())

    def sees_registry(self, enterprise_id: int) -> bool:
        return self.registry_everything or self.everything or enterprise_id in self.enterprises or (
            enterprise_id in self.products
        )

    def sees_product(self, enterprise_id: int, product_id: int) -> bool:
        """Registry view of one product (and its characteristics, BOM, plans)."""
        return self.registry_everything or self.sees_product_data(enterprise_id, product_id)

    def data_enterprises(self) -> frozenset[int] | None:
        """Enterprises with any readable data (None: all)."""
        if self.everything:
            return None
        return self.enterprises | frozenset(self.products)

    def arrow_filter(self):
        """The same predicate as :meth:`lake_filter`, as a pyarrow dataset expression (None: all)."""
        import pyarrow.compute as pc

        if self.everything:
            return None
        terms = []
        if self.enterprises:
            terms.append(pc.field("enterprise_id").isin(sorted(self.enterprises)))
        for ent, prods in sorted(self.products.items()):
            if ent not in self.enterprises and prods:
                terms.append((pc.field("enterprise_id") == ent) & pc.field("product_id").isin(sorted(prods)))
        if not terms:
            return pc.scalar(False)
        expr = terms[0]
        for term in terms[1:]:
            expr = expr | term
        return expr

    def lake_filter(self, prefix: str = "") -> str:
        """A SQL predicate over lake rows (integers only, so safe to inline); ``prefix`` qualifies
        the column names (``"m."``)."""
        if self.everything:
            return "TRUE"
        terms = []
        if self.enterprises:
            terms.append(f"{prefix}enterprise_id IN ({','.join(map(str, sorted(self.enterprises)))})")
        for ent, prods in sorted(self.products.items()):
            if ent not in self.enterprises and prods:
                terms.append(f"({prefix}enterprise_id = {ent} AND {prefix}product_id IN "
                             f"({','.join(map(str, sorted(prods)))}))")
        return "(" + " OR ".join(terms) + ")" if terms else "FALSE"
