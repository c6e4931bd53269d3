"""The local engine: DuckDB streams each enterprise's sorted values into the batch kernels."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyarrow as pa

from jingce.kernels.spc import batch_summary
from jingce.store import Actor, Store

SUMMARY_FIELDS = ("n_values", "n_subgroups", "mean", "sigma_overall", "sigma_within", "center", "lcl", "ucl",
                  "alarms", "last_alarm", "cp", "cpk", "pp", "ppk", "cpk_lo", "cpk_hi", "ppm_overall")


def characteristic_summary(store: Store, actor: Actor, *, subgroup_size: int = 5, rules: str = "nelson",
                           enterprise_ids: list[int] | None = None,
                           progress: Callable[[int], None] | None = None) -> pa.Table:
    """One row per characteristic the actor may see: control limits (phase I, X-bar/R with
    subgroups of ``subgroup_size`` consecutive values), capability with confidence intervals,
    run-rule alarms (``rules``), values out of specification, and the specification itself.

    Values marked invalid are left out. Limits and indices are those of
    :func:`jingce.kernels.spc.batch_summary`.
    """
    parts = []
    for ent, table in store.sorted_tables(actor, enterprise_ids=enterprise_ids):
        if table.num_rows == 0:
            continue
        cid = table.column("characteristic_id").to_numpy()
        starts = np.flatnonzero(np.concatenate(([True], cid[1:] != cid[:-1])))
        offsets = np.concatenate((starts, [cid.size])).astype(np.int64)
        last = offsets[1:] - 1
        v = table.column("value").to_numpy()
        lsl = table.column("lower_limit").to_numpy(zero_copy_only=False).astype(float)[last]
        usl = table.column("upper_limit").to_numpy(zero_copy_only=False).astype(float)[last]
        nom = table.column("nominal").to_numpy(zero_copy_only=False).astype(float)[last]
        res = batch_summary(v, offsets, subgroup_size=subgroup_size, lsl=lsl, usl=usl, nominal=nom, rules=rules)
        lo_row = np.repeat(lsl, np.diff(offsets))
        hi_row = np.repeat(usl, np.diff(offsets))
        with np.errstate(invalid="ignore"):
            outside = (v < lo_row) | (v > hi_row)
        out_of_spec = np.add.reduceat(outside.astype(np.int64), offsets[:-1])
        cols = {"enterprise_id": np.full(starts.size, ent, np.int64), "characteristic_id": cid[starts],
                "lower_limit": lsl, "upper_limit": usl, "nominal": nom, "out_of_spec": out_of_spec}
        cols |= {f: getattr(res, f) for f in SUMMARY_FIELDS}
        parts.append(pa.table(cols))
        if progress:
            progress(ent)
    if not parts:
        return pa.table({k: pa.array([], pa.float64()) for k in ("enterprise_id", "characteristic_id", *SUMMARY_FIELDS)})
    return pa.concat_tables(parts)
