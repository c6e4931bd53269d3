"""Enterprises, sites, products, parts, characteristics, measurement plans, bills of materials
and part lineage: reads for everyone (through the store's tenancy), writes for the enterprise's
admins within their own tenant and for the platform admin anywhere."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from jingce.api.deps import get_actor, get_store
from jingce.api.routes._params import Id, RequestModel, UnitStr, require_role
from jingce.model import (
    BomLine,
    Characteristic,
    CharacteristicKind,
    Criticality,
    Enterprise,
    LifecycleStage,
    MeasurementPlan,
    Part,
    PlanItem,
    Product,
    Role,
    Site,
)
from jingce.services import views_registry
from jingce.store import Actor, Store

router = APIRouter(tags=["registry"])

CODE = r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$"
WRITERS = (Role.ENTERPRISE_ADMIN,)


class EnterpriseIn(RequestModel):
    tenant_id: int = Field(ge=1, le=2_147_483_647)
    code: str = Field(min_length=1, max_length=64, pattern=CODE)
    name: str = Field(min_length=1, max_length=256)
    name_en: str | None = Field(None, max_length=256)
    industry_chain: str | None = Field(None, max_length=128)
    district: str | None = Field(None, max_length=128)


class SiteIn(RequestModel):
    code: str = Field(min_length=1, max_length=64, pattern=CODE)
    name: str = Field(min_length=1, max_length=256)
    timezone: str = Field("Asia/Shanghai", min_length=1, max_length=64)


class ProductIn(RequestModel):
    enterprise_id: int = Field(ge=1, le=2_147_483_647)
    part_number: str = Field(min_length=1, max_length=64, pattern=CODE)
    name: str = Field(min_length=1, max_length=256)
    revision: str | None = Field(None, max_length=32)


class PartIn(RequestModel):
    product_id: int = Field(ge=1, le=2_147_483_647)
    serial: str = Field(min_length=1, max_length=128)


class CharacteristicIn(RequestModel):
    product_id: int = Field(ge=1, le=2_147_483_647)
    key: str = Field(min_length=1, max_length=128, pattern=r"^[^/\s][^/]*$")
    name: str | None = Field(None, max_length=256)
    nominal: float | None = Field(None, ge=-1e12, le=1e12)
    lower_limit: float | None = Field(None, ge=-1e12, le=1e12)
    upper_limit: float | None = Field(None, ge=-1e12, le=1e12)
    unit: UnitStr = "mm"
    kind: CharacteristicKind = CharacteristicKind.SIZE
    criticality: Criticality = Criticality.MAJOR


class PlanItemIn(RequestModel):
    characteristic_id: int = Field(ge=1, le=2_147_483_647)
    stage: LifecycleStage = LifecycleStage.IN_PROCESS
    sample_size: int = Field(5, ge=1, le=10_000)
    frequency: str = Field("1/h", min_length=1, max_length=64)
    method: str | None = Field(None, max_length=256)
    instrument_id: int | None = Field(None, ge=1, le=2_147_483_647)


class PlanIn(RequestModel):
    name: str = Field(min_length=1, max_length=256)
    items: list[PlanItemIn] = Field(default_factory=list, max_length=1000)


class BomLineIn(RequestModel):
    child_product_id: int = Field(ge=1, le=2_147_483_647)
    quantity: int = Field(1, ge=1, le=1_000_000)
    position: str | None = Field(None, max_length=64)


class AssemblyIn(RequestModel):
    """An as-built link: the component with ``component_serial`` went into the assembly with
    ``assembly_serial`` (the component may be a supplier's part the actor can see)."""

    assembly_product_id: int = Field(ge=1, le=2_147_483_647)
    assembly_serial: str = Field(min_length=1, max_length=128)
    component_product_id: int = Field(ge=1, le=2_147_483_647)
    component_serial: str = Field(min_length=1, max_length=128)
    position: str | None = Field(None, max_length=64)


class AssemblyOut(BaseModel):
    assembly_part_id: int
    component_part_id: int
    created: bool


@router.get("/enterprises", response_model=list[Enterprise])
def enterprises(industry_chain: str | None = Query(None, max_length=128), actor: Actor = Depends(get_actor),
                store: Store = Depends(get_store)):
    return store.list_enterprises(actor, industry_chain=industry_chain)


@router.post("/enterprises", response_model=Enterprise, status_code=201)
def add_enterprise(body: EnterpriseIn, actor: Actor = Depends(get_actor), store: Store = Depends(get_store)):
    """Register an enterprise (platform admin)."""
    require_role(actor)
    return store.add_enterprise(actor, Enterprise(**body.model_dump()))


@router.post("/enterprises/{enterprise_id}/sites", response_model=Site, status_code=201)
def add_site(enterprise_id: Id, body: SiteIn, actor: Actor = Depends(get_actor), store: Store = Depends(get_store)):
    require_role(actor, *WRITERS)
    store.get_enterprise(actor, enterprise_id)  # invisible ids answer exactly like missing ones
    return store.add_site(actor, Site(enterprise_id=enterprise_id, **body.model_dump()))


@router.post("/products", response_model=Product, status_code=201)
def add_product(body: ProductIn, actor: Actor = Depends(get_actor), store: Store = Depends(get_store)):
    require_role(actor, *WRITERS)
    store.get_enterprise(actor, body.enterprise_id)
    return store.add_product(actor, Product(**body.model_dump()))


@router.post("/parts", response_model=Part, status_code=201)
def add_part(body: PartIn, actor: Actor = Depends(get_actor), store: Store = Depends(get_store)):
    """Register a serialised part of a product."""
    require_role(actor, *WRITERS)
    store.get_product(actor, body.product_id)
    return store.add_part(actor, Part(**body.model_dump()))


@router.post("/characteristics", response_model=Characteristic, status_code=201)
def add_characteristic(body: CharacteristicIn, actor: Actor = Depends(get_actor),
                       store: Store = Depends(get_store)):
    require_role(actor, *WRITERS)
    store.get_product(actor, body.product_id)
    return store.add_characteristic(actor, Characteristic(**body.model_dump()))


@router.get("/products/{product_id}/plans", response_model=list[MeasurementPlan])
def plans(product_id: Id, actor: Actor = Depends(get_actor), store: Store = Depends(get_store)):
    return store.list_plans(actor, product_id)


@router.post("/products/{product_id}/plans", response_model=MeasurementPlan, status_code=201)
def add_plan(product_id: Id, body: PlanIn, actor: Actor = Depends(get_actor), store: Store = Depends(get_store)):
    """A measurement plan: which characteristics of the product are measured, where, how often."""
    require_role(actor, *WRITERS)
    store.get_product(actor, product_id)
    return store.add_plan(actor, MeasurementPlan(product_id=product_id, name=body.name,
                                                 items=tuple(PlanItem(**i.model_dump()) for i in body.items)))


@router.post("/products/{product_id}/bom", response_model=BomLine, status_code=201)
def add_bom_line(product_id: Id, body: BomLineIn, actor: Actor = Depends(get_actor),
                 store: Store = Depends(get_store)):
    """A bill-of-materials line: ``quantity`` of the child product go into this product."""
    require_role(actor, *WRITERS)
    store.get_product(actor, product_id)
    store.get_product(actor, body.child_product_id)
    return store.add_bom_line(actor, BomLine(parent_product_id=product_id, **body.model_dump()))


@router.post("/assemblies", response_model=AssemblyOut, status_code=201)
def add_assembly(body: AssemblyIn, actor: Actor = Depends(get_actor), store: Store = Depends(get_store)):
    """Record that a component (by serial) was built into an assembly (by serial); idempotent."""
    require_role(actor, *WRITERS)
    return AssemblyOut(**views_registry.link_assembly(store, actor, **body.model_dump()))


@router.get("/enterprises/{enterprise_id}", response_model=Enterprise)
def enterprise(enterprise_id: Id, actor: Actor = Depends(get_actor), store: Store = Depends(get_store)):
    return store.get_enterprise(actor, enterprise_id)


@router.get("/enterprises/{enterprise_id}/sites", response_model=list[Site])
def sites(enterprise_id: Id, actor: Actor = Depends(get_actor), store: Store = Depends(get_store)):
    return store.list_sites(actor, enterprise_id)


@router.get("/enterprises/{enterprise_id}/products", response_model=list[Product])
def products(enterprise_id: Id, actor: Actor = Depends(get_actor), store: Store = Depends(get_store)):
    return store.list_products(actor, enterprise_id)


@router.get("/products/{product_id}", response_model=Product)
def product(product_id: Id, actor: Actor = Depends(get_actor), store: Store = Depends(get_store)):
    return store.get_product(actor, product_id)


@router.get("/products/{product_id}/characteristics", response_model=list[Characteristic])
def characteristics(product_id: Id, actor: Actor = Depends(get_actor), store: Store = Depends(get_store)):
    store.get_product(actor, product_id)
    return store.list_characteristics(actor, product_id=product_id)


@router.get("/products/{product_id}/bom", response_model=list[BomLine])
def bom(product_id: Id, actor: Actor = Depends(get_actor), store: Store = Depends(get_store)):
    return store.bom(actor, product_id)


@router.get("/characteristics/{characteristic_id}", response_model=Characteristic)
def characteristic(characteristic_id: Id, actor: Actor = Depends(get_actor), store: Store = Depends(get_store)):
    return store.get_characteristic(actor, characteristic_id)


class LineageNodePublic(BaseModel):
    part_id: int
    serial: str
    part_number: str
    enterprise: str
    parent_part_id: int | None
    depth: int
    measurements: int
    out_of_spec: int


class LineagePublic(BaseModel):
    root: str
    nodes: list[LineageNodePublic]
    hidden_components: int


@router.get("/parts/{serial}/lineage", response_model=LineagePublic)
def lineage(serial: str, part_number: str | None = Query(None, max_length=64), actor: Actor = Depends(get_actor),
            store: Store = Depends(get_store)):
    """A serial's parts tree across suppliers, with each part's measurement and out-of-spec counts."""
    lin = store.lineage(actor, serial, part_number=part_number)
    m = lin.measurements
    counts: dict[int, list[int]] = {}
    for pid, v, lo, hi in zip(m.column("part_id").to_pylist(), m.column("value").to_pylist(),
                              m.column("lower_limit").to_pylist(), m.column("upper_limit").to_pylist(), strict=True):
        c = counts.setdefault(pid, [0, 0])
        c[0] += 1
        c[1] += int((lo is not None and v < lo) or (hi is not None and v > hi))
    return LineagePublic(root=lin.root.serial, hidden_components=lin.hidden_components, nodes=[
        LineageNodePublic(part_id=n.part_id, serial=n.serial, part_number=n.part_number, enterprise=n.enterprise,
                          parent_part_id=n.parent_part_id, depth=n.depth, measurements=counts.get(n.part_id, [0, 0])[0],
                          out_of_spec=counts.get(n.part_id, [0, 0])[1]) for n in lin.nodes])
