"""The region's quality summary: per characteristic (SPC limits, capability, alarms), rolled up
per enterprise and industry chain."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from jingce.engine.local import characteristic_summary
from jingce.store import Actor, Store

CPK_CLASSES = (("≥1.67", 1.67, np.inf), ("1.33–1.67", 1.33, 1.67), ("1.00–1.33", 1.0, 1.33), ("<1.00", -np.inf, 1.0))
"""Capability classes of the usual traffic light (AIAG PPAP: 1.67 for new processes, 1.33
ongoing; below 1.00 not capable)."""


@dataclass(frozen=True, slots=True)
class EnterpriseRow:
    code: str
    name: str
    industry_chain: str
    characteristics: int
    values: int
    out_of_spec_ppm: float
    cpk_classes: tuple[int, ...]  # counts per CPK_CLASSES (characteristics with two-sided specs)
    with_alarms: int  # characteristics with at least one run-rule alarm


@dataclass(frozen=True, slots=True)
class QualitySummary:
    per_characteristic: pa.Table
    enterprises: tuple[EnterpriseRow, ...]

    def chains(self) -> dict[str, list[EnterpriseRow]]:
        out: dict[str, list[EnterpriseRow]] = {}
        for e in self.enterprises:
            out.setdefault(e.industry_chain or "-", []).append(e)
        return out

    def worst(self, n: int = 10) -> pa.Table:
        """The ``n`` characteristics with the lowest Cpk (two-sided specifications)."""
        t = self.per_characteristic
        cpk = t.column("cpk").to_numpy(zero_copy_only=False)
        order = np.argsort(np.where(np.isfinite(cpk), cpk, np.inf))[:n]
        return t.take(pa.array(order[np.isfinite(cpk[order])]))


def quality_summary(store: Store, actor: Actor, *, subgroup_size: int = 5,
                    progress: Callable[[int], None] | None = None) -> QualitySummary:
    """Summarise every characteristic the actor may see, and roll it up per enterprise."""
    per = characteristic_summary(store, actor, subgroup_size=subgroup_size, progress=progress)
    chars = {c.id: c for c in store.list_characteristics(actor)}
    products = {}
    keys = []
    for cid in per.column("characteristic_id").to_pylist():
        c = chars.get(cid)
        if c is None:
            keys.append("")
            continue
        if c.product_id not in products:
            products[c.product_id] = store.get_product(actor, c.product_id).part_number
        keys.append(f"{products[c.product_id]}/{c.key}")
    per = per.append_column("characteristic", pa.array(keys, pa.string()))
    rows = []
    ents = {e.id: e for e in store.list_enterprises(actor)}
    ent_col = per.column("enterprise_id").to_numpy()
    cpk = per.column("cpk").to_numpy(zero_copy_only=False)
    n_values = per.column("n_values").to_numpy()
    oos = per.column("out_of_spec").to_numpy()
    alarms = per.column("alarms").to_numpy()
    for eid in np.unique(ent_col):
        m = ent_col == eid
        e = ents.get(int(eid))
        classes = tuple(int(np.sum(m & (cpk >= lo) & (cpk < hi))) for _, lo, hi in CPK_CLASSES)
        total = int(n_values[m].sum())
        rows.append(EnterpriseRow(
            code=e.code if e else str(eid), name=e.name if e else "", industry_chain=e.industry_chain if e else "",
            characteristics=int(m.sum()), values=total,
            out_of_spec_ppm=float(oos[m].sum() / total * 1e6) if total else float("nan"),
            cpk_classes=classes, with_alarms=int(np.sum(m & (alarms > 0)))))
    return QualitySummary(per, tuple(rows))
