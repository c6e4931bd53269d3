"""Enterprises, sites, products, characteristics, bills of materials and part lineage."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from jingce.api.deps import get_actor, get_store
from jingce.model import BomLine, Characteristic, Enterprise, Product, Site
from jingce.store import Actor, Store

router = APIRouter(tags=["registry"])


@router.get("/enterprises", response_model=list[Enterprise])
def enterprises(industry_chain: str | None = None, actor: Actor = Depends(get_actor),
                store: Store = Depends(get_store)):
    return store.list_enterprises(actor, industry_chain=industry_chain)


@router.post("/enterprises", response_model=Enterprise, status_code=201)
def add_enterprise(body: Enterprise, actor: Actor = Depends(get_actor), store: Store = Depends(get_store)):
    return store.add_enterprise(actor, body)


@router.get("/enterprises/{enterprise_id}", response_model=Enterprise)
def enterprise(enterprise_id: int, actor: Actor = Depends(get_actor), store: Store = Depends(get_store)):
    return store.get_enterprise(actor, enterprise_id)


@router.get("/enterprises/{enterprise_id}/sites", response_model=list[Site])
def sites(enterprise_id: int, actor: Actor = Depends(get_actor), store: Store = Depends(get_store)):
    return store.list_sites(actor, enterprise_id)


@router.get("/enterprises/{enterprise_id}/products", response_model=list[Product])
def products(enterprise_id: int, actor: Actor = Depends(get_actor), store: Store = Depends(get_store)):
    return store.list_products(actor, enterprise_id)


@router.get("/products/{product_id}", response_model=Product)
def product(product_id: int, actor: Actor = Depends(get_actor), store: Store = Depends(get_store)):
    return store.get_product(actor, product_id)


@router.get("/products/{product_id}/characteristics", response_model=list[Characteristic])
def characteristics(product_id: int, actor: Actor = Depends(get_actor), store: Store = Depends(get_store)):
    store.get_product(actor, product_id)
    return store.list_characteristics(actor, product_id=product_id)


@router.get("/products/{product_id}/bom", response_model=list[BomLine])
def bom(product_id: int, actor: Actor = Depends(get_actor), store: Store = Depends(get_store)):
    return store.bom(actor, product_id)


@router.get("/characteristics/{characteristic_id}", response_model=Characteristic)
def characteristic(characteristic_id: int, actor: Actor = Depends(get_actor), store: Store = Depends(get_store)):
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
