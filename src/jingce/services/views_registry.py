"""Registry writes behind the API's forms that need more than one store call: as-built links
named by serials, and instruments registered for an enterprise or a lab of the actor's tenant."""

from __future__ import annotations

from jingce.errors import NotFoundError
from jingce.model import Instrument
from jingce.store import Actor, Store


def link_assembly(store: Store, actor: Actor, *, assembly_product_id: int, assembly_serial: str,
                  component_product_id: int, component_serial: str, position: str | None = None) -> dict:
    """Record that the component ``component_serial`` (of ``component_product_id``, the actor's
    own or shared with it) was built into ``assembly_serial`` (of ``assembly_product_id``, the
    actor's own). Both parts must be registered; the same link twice is recorded once."""
    parent = store.part_ids(actor, assembly_product_id, [assembly_serial]).get(assembly_serial)
    if parent is None:
        raise NotFoundError(f"serial {assembly_serial!r} not found", field="assembly_serial")
    child = store.part_ids(actor, component_product_id, [component_serial]).get(component_serial)
    if child is None:
        raise NotFoundError(f"serial {component_serial!r} not found", field="component_serial")
    created = store.add_assemblies(actor, assembly_product_id, [parent], [child], [position])
    return {"assembly_part_id": parent, "component_part_id": child, "created": bool(created)}


def register_instrument(store: Store, actor: Actor, fields: dict) -> Instrument:
    """Register an instrument of the actor's tenant (the admin: of ``tenant_id`` if given). The
    enterprise using it and the lab holding it must belong to that tenant too."""
    tenant_id = fields.pop("tenant_id", None)
    if tenant_id is None or not actor.is_admin:
        tenant_id = actor.tenant_id
    for key, get in (("enterprise_id", store.get_enterprise), ("lab_id", store.get_lab)):
        if fields.get(key) is not None:
            try:
                owner = get(actor, fields[key]).tenant_id
            except NotFoundError:
                owner = None
            if owner != tenant_id:
                raise NotFoundError(f"{key.removesuffix('_id')} {fields[key]} not found", field=key)
    return store.add_instrument(actor, Instrument(tenant_id=tenant_id, **fields))
