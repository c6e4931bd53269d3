"""Root cause of a product characteristic's variation (stream of variation through the supply chain).

For a characteristic of a product (typically a non-conforming one), :func:`root_cause` collects
the upstream candidates and ranks them by how much of the characteristic's variation they explain:

* every characteristic of every component product down the bill of materials (recursively, through
  the suppliers), matched **by serial** through the as-built assembly links (parent part -> child
  part): each component part's last valid value of the characteristic stands for that part, and
  where several parts of one component go into one assembly (four blades, say) their mean does;
* the machines of the product's own measurements (lake column ``machine``).

Continuous candidates are screened one by one (R² alone), the strongest (at most
:data:`MAX_MODEL`) enter one least-squares model on the serials where all of them are known, and
the model's R² is split among them by LMG (:func:`jingce.kernels.variation.attribute`); machines
are ranked by eta² of a one-way ANOVA. The evidence of each candidate: serials matched,
coefficient ± standard error, p value, share, and a scatter of the characteristic against the top
candidate.

Tenancy: candidates are those whose measurements the actor may read (own, or shared with it).
The regulator sees the statistics of the whole region but never another tenant's raw values
unless shared: where either axis of the scatter is not readable by the actor, the scatter comes as
counts in coarse bins (cells with fewer than :data:`MIN_CELL` serials blanked), never as points.
"""

from __future__ import annotations

import copy
import datetime as dt
import math
import warnings

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from jingce.errors import InvalidInputError, JingceWarning
from jingce.kernels.variation import attribute, ols, one_way_anova
from jingce.model import Role
from jingce.services.views import _Cache
from jingce.store import Actor, Store

MAX_MODEL = 8
"""Continuous candidates entering the joint model (LMG over 2**8 subsets)."""
MIN_MATCHED = 10
"""A candidate needs at least this many serials matched with the characteristic."""
MIN_CELL = 3
"""Binned scatters blank cells with fewer serials than this (no single part's values leak)."""
SCATTER_POINTS = 2000
BINS = 12
ALPHA = 0.05


def _elevated(actor: Actor) -> Actor:
    """Reads the structure (parts, as-built links) and, for the regulator, the values behind the
    statistics; only statistics of what the actor may not read leave this module."""
    if actor.is_admin:
        return actor
    return Actor(None, f"{actor.username}:root-cause", actor.tenant_id, Role.ADMIN)


def _utc(x, name: str) -> dt.datetime | None:
    if x is None:
        return None
    if isinstance(x, dt.datetime):
        if x.tzinfo is None:
            raise InvalidInputError("must be timezone-aware", field=name)
        return x
    if isinstance(x, dt.date):
        return dt.datetime(x.year, x.month, x.day, tzinfo=dt.UTC)
    raise InvalidInputError("must be a date or a timezone-aware time", field=name)


def _last_per_serial(table: pa.Table, extra: tuple[str, ...] = ()) -> pa.Table:
    """The last (by time) valid value of each (characteristic, serial); in-service re-measurements
    are left out (they describe wear, not the part as built)."""
    table = table.filter(pc.and_(pc.is_valid(table.column("serial")), pc.not_equal(table.column("stage"),
                                                                                   "in_service")))
    table = table.sort_by([("measured_at", "ascending")])
    aggs = [("value", "last")] + [(c, "last") for c in extra]
    out = table.group_by(["characteristic_id", "serial"], use_threads=False).aggregate(aggs)
    return out  # columns value_last, <extra>_last, characteristic_id, serial


def _walk(store: Store, admin: Actor, product_id: int, follow, max_depth: int = 6):
    """Component products down the BOM and, for each, its parts' serials mapped to the root
    product's serials: ``{product_id: (depth, child serials, root serials)}``. The walk goes on
    below a component only where ``follow(product_id)`` (as a lineage stops at a component the
    actor may not see). One registry query per level (:meth:`Store.assembly_links`)."""
    out: dict[int, tuple[int, np.ndarray, np.ndarray]] = {}
    root_of: dict[tuple[int, str], str] | None = None  # level 0: the root's own serials
    frontier, seen, depth = [product_id], {product_id}, 0
    while frontier and depth < max_depth:
        depth += 1
        children = sorted({line.child_product_id for pid in frontier for line in store.bom(admin, pid)} - seen)
        if not children:
            break
        seen |= set(children)
        links = store.assembly_links(admin, children)
        parents = set(frontier)
        next_root: dict[tuple[int, str], str] = {}
        per: dict[int, tuple[list, list]] = {c: ([], []) for c in children}
        # a component part may also be linked to parents outside this tree: keep the links into it
        for c_prod, c_serial, p_prod, p_serial in zip(
                links.column("child_product_id").to_pylist(), links.column("child_serial").to_pylist(),
                links.column("parent_product_id").to_pylist(), links.column("parent_serial").to_pylist(),
                strict=True):
            if p_prod not in parents:
                continue
            root = p_serial if root_of is None else root_of.get((p_prod, p_serial))
            if root is None or c_prod not in per:
                continue
            next_root[(c_prod, c_serial)] = root
            per[c_prod][0].append(c_serial)
            per[c_prod][1].append(root)
        for c, (cs, rs) in per.items():
            if cs:
                out[c] = (depth, np.array(cs, dtype=object), np.array(rs, dtype=object))
        root_of = next_root
        frontier = [c for c in children if c in out and follow(c)]
    return out


class _EnterpriseValues:
    """The valid values of the component products, read once per (enterprise, reader) with a plain
    pyarrow scan of the enterprise's partitions (no SQL), then split by product."""

    COLUMNS = ("product_id", "characteristic_id", "serial", "value", "measured_at", "stage")

    def __init__(self, store: Store, wanted: dict[int, set[int]]) -> None:
        self.store, self.wanted = store, wanted  # enterprise -> component products in the tree
        self.tables: dict[tuple[int, str], pa.Table] = {}

    def of(self, reader: Actor, enterprise_id: int, product_id: int) -> pa.Table:
        key = (enterprise_id, reader.username)
        if key not in self.tables:
            t = self.store.scan(reader, enterprise_id=enterprise_id, columns=self.COLUMNS, valid_only=True)
            keep = pa.array(sorted(self.wanted.get(enterprise_id, {product_id})), t.schema.field("product_id").type)
            self.tables[key] = t.filter(pc.is_in(t.column("product_id"), keep))
        t = self.tables[key]
        return t.filter(pc.equal(t.column("product_id"), pa.scalar(product_id, t.schema.field("product_id").type)))


def _component_values(values: _EnterpriseValues, reader: Actor, enterprise_id: int, product_id: int, child_serials,
                      root_serials) -> pa.Table:
    """``characteristic_id, serial (root), value``: each component characteristic per root serial
    (mean over the component parts built into it, each part's last value)."""
    t = values.of(reader, enterprise_id, product_id)
    if t.num_rows == 0:
        return pa.table({"characteristic_id": pa.array([], pa.int32()), "serial": pa.array([], pa.string()),
                         "value": pa.array([], pa.float64())})
    last = _last_per_serial(t)
    link = pa.table({"serial": pa.array(child_serials.tolist(), pa.string()),
                     "root": pa.array(root_serials.tolist(), pa.string())})
    joined = last.join(link, "serial", join_type="inner")
    agg = joined.group_by(["characteristic_id", "root"], use_threads=False).aggregate([("value_last", "mean")])
    return pa.table({"characteristic_id": agg.column("characteristic_id"), "serial": agg.column("root"),
                     "value": agg.column("value_last_mean")})


def _forward(y: np.ndarray, columns: list[np.ndarray], usable: list[int]) -> list[int]:
    """Forward selection: add the candidate whose coefficient is most significant given those
    already chosen (t test, on the serials where all of them are known), while it stays
    significant after Bonferroni over the candidates left (Montgomery, Peck and Vining 2012,
    10.2.2); at most :data:`MAX_MODEL`."""
    chosen: list[int] = []
    left = list(usable)
    while left and len(chosen) < MAX_MODEL:
        best, best_p = None, 1.0
        base = np.ones(y.size, bool)
        for i in chosen:
            base &= np.isfinite(columns[i])
        for i in left:
            rows = base & np.isfinite(columns[i])
            if rows.sum() < max(MIN_MATCHED, 5 * (len(chosen) + 2)):
                continue
            xm = np.column_stack([columns[j][rows] for j in (*chosen, i)])
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", JingceWarning)
                fit = ols(y[rows], xm)
            p = fit.p_values[-1]
            if np.isfinite(p) and p < best_p:
                best, best_p = i, float(p)
        if best is None or best_p * len(left) >= ALPHA:
            break
        chosen.append(best)
        left.remove(best)
    return chosen


def _nice_grid(v: np.ndarray) -> np.ndarray:
    """BINS + 1 edges on a round step (1, 2 or 5 x 10^k) covering the 1st to 99th percentiles of
    ``v``: no edge is a measured value."""
    lo, hi = (float(q) for q in np.percentile(v, [1, 99]))
    span = hi - lo if hi > lo else max(abs(lo), 1.0) * 1e-6
    raw = span / BINS
    mag = 10.0 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw)
    start = math.floor(lo / step) * step
    while start + BINS * step < hi:  # the rounded start may leave the top uncovered
        step = next(m * mag for m in (1, 2, 5, 10, 20, 50, 100) if m * mag > step)
        start = math.floor(lo / step) * step
    return start + step * np.arange(BINS + 1)


def _binned(x: np.ndarray, y: np.ndarray) -> dict:
    """Counts of (x, y) in a BINS x BINS grid of round steps spanning the 1st to 99th percentiles
    (outer values clipped into the edge cells); cells with fewer than MIN_CELL serials are
    blanked (0)."""
    ex, ey = _nice_grid(x), _nice_grid(y)
    counts, _, _ = np.histogram2d(np.clip(x, ex[0], ex[-1]), np.clip(y, ey[0], ey[-1]), bins=(ex, ey))
    counts = counts.astype(np.int64)
    blanked = int(np.sum((counts > 0) & (counts < MIN_CELL)))
    counts[counts < MIN_CELL] = 0
    cells = [[float((ex[i] + ex[i + 1]) / 2), float((ey[j] + ey[j + 1]) / 2), int(counts[i, j])]
             for i in range(BINS) for j in range(BINS) if counts[i, j]]
    return {"kind": "binned", "x_edges": ex.tolist(), "y_edges": ey.tolist(), "cells": cells,
            "blanked_cells": blanked, "min_cell": MIN_CELL}


def _f(x) -> float | None:
    return float(x) if x is not None and np.isfinite(x) else None


_RESULTS = _Cache(16)


def root_cause(store: Store, actor: Actor, characteristic_id: int, *, start: dt.date | dt.datetime | None = None,
               end: dt.date | dt.datetime | None = None) -> dict:
    """Rank the upstream characteristics and machines behind ``characteristic_id``'s variation
    (see :func:`analyse_root_cause`). Answers are kept while the lake and the actor's visibility
    stay as they are (a new ingest or a changed share computes afresh)."""
    vis = store.visibility(actor)
    key = (id(store), actor.tenant_id, actor.role.value, vis.everything, vis.registry_everything,
           tuple(sorted(vis.enterprises)), tuple(sorted((k, tuple(sorted(v))) for k, v in vis.products.items())),
           tuple(store.lake_stats().values()), int(characteristic_id), start, end)
    return copy.deepcopy(_RESULTS.get(key, lambda: analyse_root_cause(store, actor, characteristic_id, start=start,
                                                                      end=end)))


def analyse_root_cause(store: Store, actor: Actor, characteristic_id: int, *,
                       start: dt.date | dt.datetime | None = None, end: dt.date | dt.datetime | None = None) -> dict:
    """Rank the upstream characteristics and machines behind ``characteristic_id``'s variation.

    Parameters
    ----------
    start, end : date or aware datetime, optional
        Period of the characteristic's own measurements (``end`` exclusive); components are
        matched whenever they were measured.

    Returns
    -------
    dict
        ``characteristic`` (id, key, product, enterprise, limits, n serials, values out of
        specification), ``candidates`` ranked (``kind`` ``characteristic`` or ``machine``,
        ``share`` of the variation, ``n`` matched serials, ``coefficient``, ``se``, ``p_value``,
        ``r2_alone``, ``in_model``), ``model`` (R², adjusted R², n), ``scatter`` of the
        characteristic against the top continuous candidate (``points`` where the actor may read
        both, else ``binned``), ``hidden_components`` (components the actor may not read) and
        ``notes``.

    References
    ----------
    .. [1] Grömping (2006), LMG; Shi (2006), stream of variation. See :mod:`jingce.kernels.variation`.
    """
    start_t, end_t = _utc(start, "start"), _utc(end, "end")
    if start_t is not None and end_t is not None and end_t <= start_t:
        raise InvalidInputError("must be after start", field="end")
    ch = store.get_characteristic(actor, characteristic_id)  # not found if the actor may not see it
    admin = _elevated(actor)
    product = store.get_product(admin, ch.product_id)
    vis = store.visibility(actor)
    own_visible = vis.sees_product_data(product.enterprise_id, product.id)
    reader = actor if own_visible else admin
    own = store.measurements(reader, characteristic_id=characteristic_id, product_id=product.id, valid_only=True,
                             start=start_t, end=end_t,
                             columns=("characteristic_id", "serial", "value", "measured_at", "stage", "machine",
                                      "lower_limit", "upper_limit"))
    notes: list[str] = []
    y_tab = _last_per_serial(own, ("machine", "lower_limit", "upper_limit")) if own.num_rows else None
    ent = store.get_enterprise(admin, product.enterprise_id)
    head = {"id": ch.id, "code": ch.key, "name": ch.name or ch.key, "unit": ch.unit, "nominal": ch.nominal,
            "lower_limit": ch.lower_limit, "upper_limit": ch.upper_limit, "product_id": product.id,
            "product": product.part_number, "enterprise_id": ent.id, "enterprise": ent.code}
    period = {"start": start_t.isoformat() if start_t else None, "end": end_t.isoformat() if end_t else None}
    if y_tab is None or y_tab.num_rows < MIN_MATCHED:
        n = 0 if y_tab is None else y_tab.num_rows
        return {"characteristic": head | {"serials": n, "out_of_spec": None, "mean": None, "sd": None},
                "period": period, "candidates": [], "model": None, "scatter": None, "components": 0,
                "hidden_components": 0, "raw_values": False,
                "notes": [f"期间内仅测量 {n} 个序列号，至少需要 {MIN_MATCHED} 个 / {n} serial(s) measured in the "
                          f"period: at least {MIN_MATCHED} are needed"]}
    y_serials = y_tab.column("serial").to_pylist()
    y = np.asarray(y_tab.column("value_last").to_numpy(zero_copy_only=False), float)
    machines = np.asarray(y_tab.column("machine_last").fill_null("-").to_numpy(zero_copy_only=False), dtype=object)
    index = {s: i for i, s in enumerate(y_serials)}
    # out of specification by the limits each value was measured against (as the region view counts)
    lo = np.asarray(y_tab.column("lower_limit_last").fill_null(-np.inf).to_numpy(zero_copy_only=False), float)
    hi = np.asarray(y_tab.column("upper_limit_last").fill_null(np.inf).to_numpy(zero_copy_only=False), float)
    oos = int(np.sum((y < lo) | (y > hi)))

    # -- upstream characteristics -------------------------------------------------------------------
    def follow(pid: int) -> bool:
        if actor.is_regulator or actor.is_admin:
            return True
        comp = store.get_product(admin, pid)
        return vis.sees_product_data(comp.enterprise_id, pid)

    walk = _walk(store, admin, product.id, follow)
    cands: list[dict] = []
    columns: list[np.ndarray] = []
    hidden = 0
    ents = {}
    comps = {pid: store.get_product(admin, pid) for pid in walk}
    wanted: dict[int, set[int]] = {}
    for comp in comps.values():
        wanted.setdefault(comp.enterprise_id, set()).add(comp.id)
    values = _EnterpriseValues(store, wanted)
    for comp_id, (depth, child_serials, root_serials) in sorted(walk.items(), key=lambda kv: (kv[1][0], kv[0])):
        comp = comps[comp_id]
        readable = vis.sees_product_data(comp.enterprise_id, comp.id)
        if not readable and not actor.is_regulator:
            hidden += 1
            continue
        if comp.enterprise_id not in ents:
            ents[comp.enterprise_id] = store.get_enterprise(admin, comp.enterprise_id)
        chars = {c.id: c for c in store.list_characteristics(admin, product_id=comp_id)}
        vals = _component_values(values, actor if readable else admin, comp.enterprise_id, comp_id, child_serials,
                                 root_serials)
        cid_col = np.asarray(vals.column("characteristic_id").to_numpy(), dtype=np.int64)
        ser_col = vals.column("serial").to_pylist()
        v_col = np.asarray(vals.column("value").to_numpy(zero_copy_only=False), float)
        for cid in np.unique(cid_col):
            x = np.full(y.size, np.nan)
            for k in np.flatnonzero(cid_col == cid):
                i = index.get(ser_col[k])
                if i is not None:
                    x[i] = v_col[k]
            c = chars.get(int(cid))
            cands.append({"kind": "characteristic", "characteristic_id": int(cid), "code": c.key if c else str(cid),
                          "name": (c.name or c.key) if c else None, "unit": c.unit if c else None,
                          "product_id": comp_id, "product": comp.part_number, "enterprise_id": comp.enterprise_id,
                          "enterprise": ents[comp.enterprise_id].code, "depth": depth, "readable": readable})
            columns.append(x)
    if hidden:
        notes.append(f"{hidden} 个零部件的测量数据未与您共享，未纳入分析 / {hidden} component product(s) whose "
                     "measurements are not shared with you were left out")

    # screening: each candidate alone on the serials it shares with the characteristic; those
    # significant after Bonferroni over all candidates (the 3 strongest if none is) enter the model
    for cand, x in zip(cands, columns, strict=True):
        m = np.isfinite(x)
        cand["n"] = int(m.sum())
        cand["r2_alone"] = cand["p_alone"] = None
        if cand["n"] >= MIN_MATCHED and np.ptp(x[m]) > 0 and np.ptp(y[m]) > 0:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", JingceWarning)
                fit1 = ols(y[m], x[m])
            cand["r2_alone"], cand["p_alone"] = _f(fit1.r_squared), _f(fit1.p_values[1])
    usable = [i for i, c in enumerate(cands) if c["p_alone"] is not None]
    usable.sort(key=lambda i: (cands[i]["p_alone"], -cands[i]["r2_alone"]))
    chosen = _forward(y, columns, usable)
    if usable and not chosen:
        notes.append("没有显著的上游特性（Bonferroni 校正，5 %）：排序仅供参考 / no upstream characteristic is "
                     "significant (Bonferroni, 5 %): the ranking is weak")
        chosen = usable[:3]
    model = None
    # the joint model on the serials where every chosen candidate is known; drop the least matched
    # candidates while that leaves too few serials
    while chosen:
        xm = np.column_stack([columns[i] for i in chosen])
        rows = np.all(np.isfinite(xm), axis=1)
        if rows.sum() >= max(MIN_MATCHED, 5 * (len(chosen) + 1)):
            break
        chosen.remove(min(chosen, key=lambda i: (cands[i]["n"], -cands[i]["p_alone"])))
    if chosen:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", JingceWarning)
            att = attribute(y[rows], xm[rows])
        fit, imp = att.fit, att.importance
        model = {"n": int(rows.sum()), "r_squared": _f(fit.r_squared), "adjusted_r_squared": _f(fit.adjusted_r_squared),
                 "residual_sd": _f(fit.residual_sd), "f_p_value": _f(fit.f_p_value), "predictors": len(chosen),
                 "intercept": _f(fit.coefficients[0])}
        for k, i in enumerate(chosen):
            cands[i].update(in_model=True, share=_f(imp.shares[k]), coefficient=_f(fit.coefficients[k + 1]),
                            se=_f(fit.standard_errors[k + 1]), t=_f(fit.t_values[k + 1]),
                            p_value=_f(fit.p_values[k + 1]))
    for c in cands:
        c.setdefault("in_model", False)
        for key in ("share", "coefficient", "se", "t", "p_value"):
            c.setdefault(key, None)

    # -- machines ---------------------------------------------------------------------------------
    levels = sorted(set(machines.tolist()) - {"-"})
    machine_rows: list[dict] = []
    if len(levels) >= 2:
        m = machines != "-"
        a = one_way_anova(y[m], machines[m].astype(str))
        for lv, n_, mean in zip(a.levels.tolist(), a.counts.tolist(), a.means.tolist(), strict=True):
            shown = own_visible or n_ >= MIN_CELL  # a mean of one or two parts would be their values
            machine_rows.append({"machine": lv, "n": int(n_), "mean": _f(mean) if shown else None})
        cands.append({"kind": "machine", "code": "machine", "name": "machines / 机床", "n": int(m.sum()),
                      "share": _f(a.eta_squared), "r2_alone": _f(a.eta_squared), "p_alone": _f(a.p_value),
                      "in_model": False,
                      "f": _f(a.f_statistic), "p_value": _f(a.p_value), "levels": machine_rows,
                      "coefficient": None, "se": None, "t": None, "readable": own_visible})
    else:
        notes.append("所有序列号在同一台机床上加工：机床不能解释波动 / all serials were made on one machine: "
                     "machines cannot explain the variation" if levels else
                     "测量数据未记录机床 / no machine recorded with the measurements")

    # in the model: by share; the rest after them, by R² alone
    ranked = sorted(cands, key=lambda c: (not (c["in_model"] or c["kind"] == "machine"),
                                          -(c["share"] if c["share"] is not None else -1.0),
                                          -(c["r2_alone"] if c["r2_alone"] is not None else -1.0)))
    for r, c in enumerate(ranked, 1):
        c["rank"] = r

    # -- scatter of the characteristic against the top continuous candidate ---------------------------
    scatter = None
    top = next((i for i in sorted(range(len(cands)), key=lambda i: cands[i]["rank"])
                if cands[i]["kind"] == "characteristic" and cands[i]["r2_alone"] is not None), None)
    if top is not None:
        x = columns[top]
        m = np.isfinite(x)
        c = cands[top]
        slope = ols(y[m], x[m]).coefficients if m.sum() > 2 else [np.nan, np.nan]
        scatter = {"x_label": f"{c['product']}/{c['code']}", "y_label": f"{product.part_number}/{ch.key}",
                   "n": int(m.sum()), "line": {"intercept": _f(slope[0]), "slope": _f(slope[1])}}
        if own_visible and c["readable"]:
            idx = np.flatnonzero(m)
            if idx.size > SCATTER_POINTS:
                idx = idx[np.linspace(0, idx.size - 1, SCATTER_POINTS).astype(int)]
            scatter.update(kind="points", points=[[float(x[i]), float(y[i])] for i in idx])
        else:
            scatter.update(_binned(x[m], y[m]))

    body = {
        "characteristic": head | {"serials": int(y.size), "out_of_spec": oos, "mean": _f(float(np.mean(y))),
                                  "sd": _f(float(np.std(y, ddof=1)))},
        "period": period,
        "candidates": sorted(cands, key=lambda c: c["rank"]), "model": model, "scatter": scatter,
        "components": len(walk), "hidden_components": hidden, "notes": notes,
        "raw_values": bool(own_visible and (scatter is None or scatter["kind"] == "points")),
    }
    return body
