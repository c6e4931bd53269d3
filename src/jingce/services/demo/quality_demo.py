"""The demo's root-cause case: a supplier's shafts drift, and the rotors they go into fail.

On top of the base region (whose assemblies already follow their components, see
``build.COUPLINGS``), :func:`extend` adds one clear case for the region quality view: in the last
weeks of the demo period a lot of rotors of the first rotor product that has both a shaft and a
bearing supplier is built; halfway through the lot the shaft supplier's runout shifts upwards
(a worn centre, say: the shafts stay close to their own limit), and the rotors' runout, which
follows the shaft's (x1.6) and the bearing's radial runout (x1.2), goes out of specification. The
rotor's runout becomes a non-conforming characteristic whose root cause analysis ranks the
supplier's shaft runout first. Deterministic (its own generator, seeded from the demo's seed).
"""

from __future__ import annotations

import datetime as dt
import hashlib

import numpy as np
import pyarrow as pa

from jingce.services.demo import build as demo
from jingce.store import Actor, Store

LOT = 160
"""Rotors in the lot (the shift starts at the middle)."""
LOT_START = demo.END - dt.timedelta(days=24)
LOT_DAYS = 20


def _feature(prod, key: str) -> dict:
    for f in prod.features:
        if f["key"] == key:
            return f
    raise LookupError(f"{prod.part_number} has no feature {key}")


def _instrument(builder, prod, feat: dict) -> str:
    return builder.instruments[(prod.enterprise, feat["instrument"])][0].code


def _limit(feat: dict) -> float:
    return float(feat["upper"])


def find_case(builder):
    """The rotor product with a shaft and a bearing supplier, and those two components."""
    for ent in sorted(builder.products):
        for prod in builder.products[ent]:
            if prod.family.code != "ROTOR":
                continue
            shaft, bearing = builder.child_of(prod, "SHAFT"), builder.child_of(prod, "BEARING")
            if shaft is not None and bearing is not None:
                return prod, shaft, bearing
    return None


def extend(store: Store, admin: Actor, builder) -> dict | None:
    """Add the lot (values, parts, as-built links) to the demo region; returns what it made:
    ``rotor`` / ``shaft`` / ``bearing`` part numbers, ``characteristic`` (the rotor's runout
    characteristic id), ``upstream`` (the shaft's runout characteristic id) and the ``serials``.
    A region without a suitable rotor is left as it is (None)."""
    case = find_case(builder)
    if case is None:
        return None
    rotor, shaft, bearing = case
    rng = np.random.default_rng([builder.seed, 9_7])
    f_rot, f_sh, f_br = _feature(rotor, "RUNOUT_1"), _feature(shaft, "RUNOUT_1"), _feature(bearing, "KIA")
    u_rot, u_sh, u_br = _limit(f_rot), _limit(f_sh), _limit(f_br)
    half = LOT // 2
    shifted = np.arange(LOT) >= half
    # the components: runouts folded at zero, the shafts' shifting up in the second half of the lot
    sh = np.abs(rng.normal(0.25 * u_sh, 0.08 * u_sh, LOT))
    br = np.abs(rng.normal(0.35 * u_br, 0.15 * u_br, LOT))
    base = np.abs(rng.normal(0.15 * u_rot, 0.05 * u_rot, LOT))
    before = base + 1.6 * sh + 1.2 * br
    # the shift of the shafts that takes the rotors' mean to 1.15 x their limit
    shift = max(0.0, (1.15 * u_rot - float(np.mean(before[~shifted]))) / 1.6)
    sh = sh + np.where(shifted, shift, 0.0)
    rot = base + 1.6 * sh + 1.2 * br

    start_us = int(LOT_START.timestamp() * 1e6)
    made = start_us + np.sort(rng.uniform(0, LOT_DAYS * 86400, LOT)) * 1e6
    tag = "Q"
    serials = {p.part_number: np.array([f"{p.part_number}-{tag}{i + 1:05d}" for i in range(LOT)])
               for p in (rotor, shaft, bearing)}
    operators = np.array(["OP900", "OP901"])[np.arange(LOT) % 2]
    machines = {p.part_number: np.full(LOT, _machine(store, admin, p, f))
                for p, f in ((shaft, f_sh), (bearing, f_br), (rotor, f_rot))}
    lead = {shaft.part_number: 6 * 86400e6, bearing.part_number: 5 * 86400e6, rotor.part_number: 0.0}
    for prod, feat, values in ((shaft, f_sh, sh), (bearing, f_br, br), (rotor, f_rot, rot)):
        code = _instrument(builder, prod, feat)
        inst = next(i for i in builder.instruments[(prod.enterprise, feat["instrument"])] if i.code == code)
        res = inst.resolution or 1e-4
        vals = np.round(values / res) * res
        times = made - lead[prod.part_number]
        table = _rows(prod, feat, serials[prod.part_number], vals, times, operators, machines[prod.part_number], code)
        digest = hashlib.sha256(f"jingce-demo-quality/{builder.seed}/{builder.scale}/{prod.part_number}".encode())
        store.ingest(admin, table, content_hash=digest.hexdigest(), source_format="demo",
                     source_name=f"demo:quality:{prod.part_number}")
    # as built: rotor i holds shaft i and bearing i
    pid = store.part_ids(admin, rotor.id, serials[rotor.part_number].tolist())
    for child, pos in ((shaft, "SHAFT1"), (bearing, "BEARING1")):
        cid = store.part_ids(admin, child.id, serials[child.part_number].tolist())
        parents = [pid[s] for s in serials[rotor.part_number]]
        children = [cid[s] for s in serials[child.part_number]]
        store.add_assemblies(admin, rotor.id, parents, children, [pos] * LOT)
    char = {c.key: c.id for c in store.list_characteristics(admin, product_id=rotor.id)}
    up = {c.key: c.id for c in store.list_characteristics(admin, product_id=shaft.id)}
    return {"rotor": rotor.part_number, "shaft": shaft.part_number, "bearing": bearing.part_number,
            "characteristic": char["RUNOUT_1"], "upstream": up["RUNOUT_1"],
            "serials": serials[rotor.part_number].tolist(), "start": LOT_START.date().isoformat(),
            "out_of_spec": int(np.sum(np.round(rot / 1e-4) * 1e-4 > u_rot))}


def _machine(store: Store, admin: Actor, prod, feat: dict) -> str:
    """The machine the product's characteristic was made on so far (the lot is made there too)."""
    c = next(c for c in store.list_characteristics(admin, product_id=prod.id) if c.key == feat["key"])
    t = store.measurements(admin, characteristic_id=c.id, product_id=prod.id, columns=("machine",), limit=1)
    return (t.column("machine")[0].as_py() if t.num_rows else None) or "M00"


def _rows(prod, feat: dict, serials, values, times, operators, machines, inst_code: str) -> pa.Table:
    m = len(values)
    table = demo._rows(prod, feat, serials, values, times, "final", operators, "M00", inst_code,
                       np.full(m, "valid"))
    table = table.set_column(table.column_names.index("machine"), "machine", pa.array(machines, pa.string()))
    table = table.add_column(0, "enterprise", pa.array(np.full(m, prod.enterprise), pa.string()))
    return table.append_column("position", pa.array(np.arange(m), pa.int64()))
