"""Read models of the web pages and dashboards: control-chart data, the enterprise and regulator
dashboards, and the traceability graph of an instrument.

Each view is one use case over the store and the kernels, returning plain JSON-ready data
(numpy arrays are left for the caller's encoder; NaN means "undefined" and is written as null).
Tenancy is the store's: every read goes through the acting user's visibility.
"""

from __future__ import annotations

import datetime as dt
import threading
import warnings
from collections import OrderedDict
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from jingce.errors import InvalidInputError, JingceWarning, NotFoundError, PermissionDeniedError
from jingce.kernels.capability import capability  # loaded now (it brings scipy.stats), not on the first chart
from jingce.kernels.spc import imr, run_rules, xbar_r, xbar_s
from jingce.model import Role
from jingce.services.summary import CPK_CLASSES
from jingce.store import Actor, Store

CHARTS = ("auto", "imr", "xbar_r", "xbar_s")
PANEL_NAMES = {"imr": ("I", "MR"), "xbar_r": ("X̄", "R"), "xbar_s": ("X̄", "S")}
MIN_VALUES_FOR_LIGHT = 30
"""Fewer values than this give a grey light: a capability estimate from so few values is too
uncertain to act on (its 95 % interval is wider than +-0.35 at Cpk 1.33; Bissell 1990)."""
DUE_WITHIN = dt.timedelta(days=30)
"""An instrument whose calibration expires within this period is listed as due."""
HISTOGRAM_MAX_BINS = 60


class Plain(list):
    """A list already made of JSON values (Python str, int, finite float, None, and lists and dicts
    of them): an encoder may write it as it is, without looking inside."""


# -- control chart ---------------------------------------------------------------------------------


def _characteristic_public(ch, enterprise_id: int) -> dict:
    return {"id": ch.id, "code": ch.key, "name": ch.name or ch.key, "unit": ch.unit, "nominal": ch.nominal,
            "lower_limit": ch.lower_limit, "upper_limit": ch.upper_limit, "product_id": ch.product_id,
            "enterprise_id": enterprise_id, "kind": ch.kind.value}


def _nelson_violations(points: np.ndarray, center: float, sigma: float) -> list[dict]:
    """Nelson rules 1-8 on a panel whose points have standard deviation ``sigma``."""
    if not (np.isfinite(center) and np.isfinite(sigma) and sigma > 0) or points.size == 0:
        return Plain()
    v = run_rules(points, center, sigma, rules="nelson")
    numbers = np.array([int(r.name.removeprefix("nelson")) for r in v.rules])
    hits = np.flatnonzero(v.any)
    if hits.size == 0:
        return Plain()
    flags = v.flags[:, hits].T
    return Plain({"index": i, "rules": numbers[f].tolist()} for i, f in zip(hits.tolist(), flags, strict=True))


def _beyond_violations(panel) -> list[dict]:
    return Plain({"index": i, "rules": [1]} for i in panel.beyond.tolist())


def _limit(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None


def _panel(name: str, p, violations: list[dict]) -> dict:
    return {"name": name, "center": _limit(p.center[0]) if p.center.size else None,
            "lcl": _limit(p.lcl[0]) if p.lcl.size else None, "ucl": _limit(p.ucl[0]) if p.ucl.size else None,
            "points": p.statistic, "violations": violations}


def _empty_panel(name: str) -> dict:
    return {"name": name, "center": None, "lcl": None, "ucl": None, "points": np.zeros(0), "violations": Plain()}


def _capability(x: np.ndarray, ch, subgroup_size: int, sigma_within: float) -> dict:
    """Capability of the plotted values (ISO 22514-2 normal method), the histogram and the fitted
    normal density scaled to the histogram's counts."""
    n = int(x.size)
    out: dict[str, Any] = {"n": n, "mean": None, "sigma_within": _limit(sigma_within), "sigma_overall": None,
                           "cp": None, "cpk": None, "cpk_ci": [None, None], "pp": None, "ppk": None,
                           "ppk_ci": [None, None], "ppm_overall": None,
                           "histogram": {"edges": [], "counts": []}, "density": {"x": [], "y": []}}
    if n == 0:
        return out
    ref = x[0]
    d = x - ref
    mean = float(ref + d.mean())
    s = float(np.sqrt(np.sum((d - d.mean()) ** 2) / (n - 1))) if n > 1 else float("nan")
    out["mean"], out["sigma_overall"] = mean, _limit(s)
    lo, hi = ch.lower_limit, ch.upper_limit
    if (lo is not None or hi is not None) and n >= 2:
        m = (n // subgroup_size) * subgroup_size
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", JingceWarning)
            with np.errstate(all="ignore"):
                cap = capability(x[:m], lo, hi, ch.nominal, subgroup_size if m >= 2 * subgroup_size else 1)
        out.update(cp=_limit(cap.cp), cpk=_limit(cap.cpk), cpk_ci=[_limit(v) for v in cap.cpk_ci],
                   pp=_limit(cap.pp), ppk=_limit(cap.ppk), ppk_ci=[_limit(v) for v in cap.ppk_ci],
                   ppm_overall=_limit(cap.ppm_overall[2]), cpm=_limit(cap.cpm), cp_ci=[_limit(v) for v in cap.cp_ci],
                   sigma_within=_limit(cap.sigma_within), sigma_method=cap.sigma_method,
                   normality_p=_limit(cap.normality.p_value))
    lo_x, hi_x = float(x.min()), float(x.max())
    bins = int(min(HISTOGRAM_MAX_BINS, max(5, np.ceil(np.log2(n) + 1), np.ceil(np.sqrt(n) / 4))))
    if hi_x == lo_x:
        lo_x, hi_x = lo_x - 0.5, hi_x + 0.5
    counts, edges = np.histogram(x, bins=bins, range=(lo_x, hi_x))
    out["histogram"] = {"edges": edges, "counts": counts.astype(np.int64)}
    if np.isfinite(s) and s > 0:
        span_lo = min(edges[0], mean - 4 * s, *(v for v in (lo,) if v is not None))
        span_hi = max(edges[-1], mean + 4 * s, *(v for v in (hi,) if v is not None))
        xs = np.linspace(span_lo, span_hi, 200)
        width = edges[1] - edges[0]
        ys = n * width * np.exp(-0.5 * ((xs - mean) / s) ** 2) / (s * np.sqrt(2 * np.pi))
        out["density"] = {"x": xs, "y": ys}
    return out


def chart_view(store: Store, actor: Actor, characteristic_id: int, *, chart: str = "auto",
               subgroup_size: int | None = None, start: dt.datetime | None = None, end: dt.datetime | None = None,
               limit: int = 100_000) -> dict:
    """Control-chart data of a characteristic: the chart's two panels with limits and Nelson
    rule violations, the capability of the plotted values with histogram and fitted density.

    ``chart="auto"`` plots individuals (I-MR) unless ``subgroup_size`` > 1 is given (then X-bar/R).
    Of more than ``limit`` values in the period the latest ``limit`` are shown (``truncated``).
    Limits are the characteristic's frozen limits (phase II) when it has some, else estimated
    from the values shown (phase I). Subgroups are consecutive values; an incomplete last
    subgroup is not plotted.

    References
    ----------
    ISO 7870-2:2013 clauses 7-8 and Annex B (Nelson tests); ISO 22514-2:2017 (capability).
    """
    if chart not in CHARTS:
        raise InvalidInputError(f"must be one of {', '.join(CHARTS)}", field="chart")
    if subgroup_size is not None and not 1 <= subgroup_size <= 25:
        raise InvalidInputError("must be between 1 and 25", field="subgroup_size")
    if chart == "auto":
        chart = "xbar_r" if subgroup_size and subgroup_size > 1 else "imr"
    if chart == "imr":
        if subgroup_size not in (None, 1):
            raise InvalidInputError("an I-MR chart plots single values (subgroup_size 1)", field="subgroup_size")
        n_sub = 1
    else:
        n_sub = subgroup_size or 5
        if n_sub < 2:
            raise InvalidInputError(f"a {chart} chart needs subgroups of 2 or more", field="subgroup_size")
    for name, t in (("start", start), ("end", end)):
        if t is not None and t.tzinfo is None:
            raise InvalidInputError("must carry a UTC offset", field=name)
    if start is not None and end is not None and end <= start:
        raise InvalidInputError("must be after start", field="end")
    ch = store.get_characteristic(actor, characteristic_id)
    product = store.get_product(actor, ch.product_id)
    table = store.series(actor, characteristic_id, start=start, end=end)
    total = table.num_rows
    if total > limit:  # a chart shows the latest values of a long history
        table = table.slice(total - limit)
    x = np.asarray(table.column("value").to_numpy(zero_copy_only=False), dtype=float)
    t_us = np.asarray(pc.cast(table.column("measured_at"), pa.int64()).to_numpy(zero_copy_only=False), np.int64)
    frozen = store.frozen_limits(actor, [characteristic_id]).get(characteristic_id)
    first, second = PANEL_NAMES[chart]
    result: dict[str, Any] = {"characteristic": _characteristic_public(ch, product.enterprise_id), "chart": chart,
                              "subgroup_size": n_sub, "n_values": int(x.size), "truncated": total > limit,
                              "limits_source": f"frozen v{frozen.version}" if frozen else "phase_i"}
    phase = {"mu": frozen.mu, "sigma": frozen.sigma} if frozen else {}
    m = x.size // n_sub
    enough = m >= (1 if frozen else 2)
    sigma_within = float("nan")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", JingceWarning)
        if not enough:
            result.update(t=np.zeros(0, np.int64), panels=[_empty_panel(first), _empty_panel(second)])
        elif chart == "imr":
            c = imr(x, **phase)
            sigma_within = c.sigma
            result.update(t=t_us // 1000, panels=[
                _panel(first, c.i, _nelson_violations(c.i.statistic, c.mean, c.sigma)),
                _panel(second, c.mr, _beyond_violations(c.mr))])
        else:
            data = x[: m * n_sub].reshape(m, n_sub)
            c = (xbar_r if chart == "xbar_r" else xbar_s)(data, **phase)
            sigma_within = c.sigma
            other = c.r if chart == "xbar_r" else c.s
            result.update(t=t_us[: m * n_sub: n_sub] // 1000, panels=[
                _panel(first, c.xbar, _nelson_violations(c.xbar.statistic, c.grand_mean, c.sigma / np.sqrt(n_sub))),
                _panel(second, other, _beyond_violations(other))])
    result["capability"] = _capability(x, ch, n_sub, sigma_within)
    return result


def chart_state(store: Store, actor: Actor, characteristic_id: int) -> tuple:
    """What a chart's data depends on besides its parameters: the characteristic (checked visible
    to ``actor`` first), what the actor may see, the lake's contents and the frozen limits. Two
    requests with equal states and parameters get the same chart, so it may be served again."""
    ch = store.get_characteristic(actor, characteristic_id)
    vis = store.visibility(actor)
    stats = store.lake_stats()
    frozen = store.frozen_limits(actor, [characteristic_id]).get(characteristic_id)
    return (id(store), ch, vis.everything, vis.enterprises, tuple(sorted(vis.products.items())),
            stats["files"], stats["rows"], frozen.version if frozen else None)


# -- summaries behind the dashboards ----------------------------------------------------------------


class _Cache:
    """A small LRU of computed summaries, keyed by who asks and the state of the lake (a new
    ingest or analysis run changes the key, so nothing stale is served)."""

    def __init__(self, size: int = 32) -> None:
        self._items: OrderedDict = OrderedDict()
        self._lock = threading.Lock()
        self.size = size

    def get(self, key, compute):
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = compute()
        with self._lock:
            self._items[key] = value
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return value


_CACHE = _Cache()


def _state(store: Store, actor: Actor) -> tuple:
    stats = store.lake_stats()
    return (id(store), actor.tenant_id, actor.role.value, stats["files"], stats["rows"],
            hash(tuple(store.summary_files(actor, "daily"))))


def _aggregate_actor(actor: Actor) -> Actor:
    """The regulator sees the region's aggregates (never raw values): its summaries are computed
    over every enterprise, and only indicators leave this module."""
    if actor.is_regulator:
        return Actor(None, f"{actor.username}:aggregates", actor.tenant_id, Role.ADMIN)
    return actor


def _per_characteristic(store: Store, actor: Actor, *, enterprise_ids: list[int] | None = None,
                        start: dt.date | None = None, end: dt.date | None = None) -> tuple[pa.Table, str]:
    """One row per characteristic with data (enterprise_id, product_id, characteristic_id, n_values,
    out_of_spec, mean, sigma_within, sigma_overall, cp, cpk, pp, ppk, cpk_lo, cpk_hi, ppm_overall,
    alarms): from the region's summaries when an analysis has written them, else computed from
    the lake (the whole history). Returns the table and its source."""
    from jingce.services.region import region_view

    def compute():
        if store.summary_files(actor, "daily"):
            view = region_view(store, actor, start=start, end=end)
            return view.per_characteristic, "summaries"
        if start is not None or end is not None:
            raise InvalidInputError("a period needs the region's summaries: run `jingce analyse region` first",
                                    field="start" if start is not None else "end")
        from jingce.engine.local import characteristic_summary

        return characteristic_summary(store, _aggregate_actor(actor)), "lake"

    per, source = _CACHE.get(("per", _state(store, actor), start, end), compute)
    if enterprise_ids is not None:
        per = per.filter(pc.is_in(per.column("enterprise_id"), pa.array(enterprise_ids, per.schema.field(
            "enterprise_id").type)))
    return per, source


def _light(n: int, cpk: float) -> str:
    if n < MIN_VALUES_FOR_LIGHT or not np.isfinite(cpk):
        return "grey"
    return "green" if cpk >= 1.33 else "yellow" if cpk >= 1.0 else "red"


def _f(x) -> float | None:
    return float(x) if x is not None and np.isfinite(x) else None


def _columns(per: pa.Table, *names: str) -> dict[str, np.ndarray]:
    out = {}
    for n in names:
        col = per.column(n)
        if pa.types.is_integer(col.type):
            out[n] = np.asarray(col.fill_null(0).to_numpy(zero_copy_only=False), np.int64)
        else:
            out[n] = np.asarray(col.to_numpy(zero_copy_only=False), float)
    return out


def _instrument_status(store: Store, actor: Actor, enterprise_ids: list[int] | None,
                       now: dt.datetime) -> list[dict]:
    """Working instruments of the enterprises (all visible ones when None) with their calibration
    state now: ``ok``, ``due`` (expires within :data:`DUE_WITHIN`), ``overdue`` (expired, out of
    tolerance as last found, or never calibrated)."""
    insts = [i for i in store.list_instruments(actor) if i.kind.value == "working"
             and (enterprise_ids is None or i.enterprise_id in enterprise_ids)]
    cals = store.latest_calibrations(actor, [i.id for i in insts], now)
    out = []
    for i in insts:
        cal = cals.get(i.id)
        if cal is None:
            status, until = "overdue", None
        elif cal.result.value in ("out_of_tolerance", "fail") or cal.valid_until < now:
            status, until = "overdue", cal.valid_until
        elif cal.valid_until < now + DUE_WITHIN:
            status, until = "due", cal.valid_until
        else:
            status, until = "ok", cal.valid_until
        out.append({"id": i.id, "code": i.code, "name": i.name, "enterprise_id": i.enterprise_id,
                    "valid_until": until.isoformat() if until else None, "status": status,
                    "result": cal.result.value if cal else None})
    return out


# -- enterprise dashboard ----------------------------------------------------------------------------


def enterprise_dashboard(store: Store, actor: Actor, enterprise_id: int | None = None) -> dict:
    """An enterprise's characteristics with capability traffic lights, its open alarms and its
    instruments due for calibration (default: the first enterprise whose data the actor sees)."""
    if enterprise_id is None:
        ents = store.list_enterprises(actor)
        own = [e for e in ents if e.tenant_id == actor.tenant_id]
        if not (own or ents):
            raise NotFoundError("no enterprise is visible to this account", field="enterprise_id")
        enterprise_id = (own or ents)[0].id
    ent = store.get_enterprise(actor, enterprise_id)
    chars = store.list_characteristics(actor, enterprise_id=enterprise_id)
    products = {p.id: p for p in store.list_products(actor, enterprise_id)}
    now = dt.datetime.now(dt.UTC)
    # the enterprise's own numbers come from its values (summaries may lag); never elevated
    per = _enterprise_summary(store, actor, enterprise_id)
    cols = _columns(per, "characteristic_id", "n_values", "cpk", "ppk", "cpk_lo", "cpk_hi", "alarms")
    row_of = {int(c): i for i, c in enumerate(cols["characteristic_id"])}
    open_alarms = store.alarms(actor, enterprise_id=enterprise_id, open_only=True, limit=1000)
    per_char_alarms: dict[int, int] = {}
    for a in open_alarms:
        per_char_alarms[a.characteristic_id] = per_char_alarms.get(a.characteristic_id, 0) + 1
    rows = []
    for c in chars:
        i = row_of.get(c.id)
        n = int(cols["n_values"][i]) if i is not None else 0
        cpk = float(cols["cpk"][i]) if i is not None else float("nan")
        p = products.get(c.product_id)
        rows.append({"id": c.id, "code": c.key, "name": c.name or c.key, "product": p.part_number if p else None,
                     "product_id": c.product_id, "unit": c.unit, "n": n, "cpk": _f(cpk),
                     "ppk": _f(cols["ppk"][i]) if i is not None else None,
                     "cpk_ci": [_f(cols["cpk_lo"][i]), _f(cols["cpk_hi"][i])] if i is not None else [None, None],
                     "light": _light(n, cpk), "alarms": per_char_alarms.get(c.id, 0),
                     "rule_alarms": int(cols["alarms"][i]) if i is not None else 0})
    instruments = _instrument_status(store, actor, [enterprise_id], now)
    return {"enterprise": ent.model_dump(mode="json"), "characteristics": rows,
            "alarms": [{"id": a.id, "characteristic_id": a.characteristic_id, "measured_at": a.measured_at.isoformat(),
                        "value": _f(a.value), "kind": a.kind, "rule": a.rule, "detail": a.detail, "serial": a.serial,
                        "raised_at": a.raised_at.isoformat()} for a in open_alarms],
            "instruments_due": [i for i in instruments if i["status"] != "ok"],
            "lights": {k: sum(r["light"] == k for r in rows) for k in ("green", "yellow", "red", "grey")}}


def _enterprise_summary(store: Store, actor: Actor, enterprise_id: int) -> pa.Table:
    from jingce.engine.local import characteristic_summary

    key = ("enterprise", _state(store, actor), enterprise_id)
    return _CACHE.get(key, lambda: characteristic_summary(store, actor, enterprise_ids=[enterprise_id]))


# -- regulator dashboard ------------------------------------------------------------------------------


def _require_supervisor(actor: Actor) -> None:
    if not (actor.is_admin or actor.is_regulator):
        raise PermissionDeniedError(f"role {actor.role.value} may not see the region (needs regulator or admin)",
                                    field="role")


def _indicators(cols: dict[str, np.ndarray], mask: np.ndarray, instruments: list[dict]) -> dict:
    """Region indicators of the characteristics selected by ``mask`` and the given instruments."""
    n = cols["n_values"][mask]
    cpk = cols["cpk"][mask]
    with_data = int(np.sum(n > 0))
    total = int(n.sum())
    calibrated = sum(i["status"] != "overdue" for i in instruments)
    traceable = sum(bool(i.get("traceable")) for i in instruments)
    return {
        "characteristics": int(mask.sum()), "values": total,
        "cpk_classes": {name: int(np.sum((cpk >= lo) & (cpk < hi))) for name, lo, hi in CPK_CLASSES}
        | {"n/a": int(np.sum(~np.isfinite(cpk)))},
        "out_of_control_rate": _f(np.sum(cols["alarms"][mask] > 0) / with_data) if with_data else None,
        "ppm_out_of_spec": _f(cols["out_of_spec"][mask].sum() / total * 1e6) if total else None,
        "nonconforming_characteristics": int(np.sum(cols["out_of_spec"][mask] > 0)),
        "calibration_compliance": _f(calibrated / len(instruments)) if instruments else None,
        "traceability_coverage": _f(traceable / len(instruments)) if instruments else None,
        "instruments": len(instruments),
    }


_BROKEN = ("out_of_tolerance", "fail")


def _aware(x: dt.datetime) -> dt.datetime:
    return x if x.tzinfo is not None else x.replace(tzinfo=dt.UTC)


def traceable_instruments(store: Store, actor: Actor, now: dt.datetime) -> dict[int, bool]:
    """For every instrument of the region: is its calibration chain unbroken up to a national
    standard at ``now`` (each link's calibration in force, neither expired nor found out of
    tolerance, made against standards that are themselves traceable; the rule of
    :meth:`jingce.store.Store.calibration_chain`)? Computed for all instruments at once from two
    batch reads (the calibrations, and the standards each was made against), so thousands of
    instruments cost a few queries, not a chain walk each."""
    admin = _aggregate_actor(actor) if not actor.is_admin else actor
    insts = {i.id: i for i in store.list_instruments(admin)}
    if not (hasattr(store, "calibration_records") and hasattr(store, "calibrations_against")):
        return {i: store.calibration_chain(admin, i, now).unbroken for i in insts}  # older store: per chain
    in_force: dict[int, tuple] = {}
    for r in store.calibration_records(admin):  # ordered by instrument and time
        if _aware(r[2]) <= now:
            in_force[r[1]] = r
    standards = [i for i, x in insts.items() if x.kind.value != "working"]
    used: dict[int, list[int]] = {}
    for cal_id, _inst, std, _at in store.calibrations_against(admin, standards):
        used.setdefault(cal_id, []).append(std)
    memo: dict[int, bool] = {}

    def ok(i: int, path: frozenset) -> bool:
        if i in memo:
            return memo[i]
        inst = insts.get(i)
        if inst is None or i in path:
            return False
        if inst.kind.value == "national_standard":
            memo[i] = True
            return True
        cal = in_force.get(i)
        good = (cal is not None and cal[4] not in _BROKEN and _aware(cal[3]) >= now and bool(used.get(cal[0]))
                and all(ok(s, path | {i}) for s in used[cal[0]]))
        memo[i] = good
        return good

    return {i: ok(i, frozenset()) for i in insts}


def _traceable(store: Store, actor: Actor, now: dt.datetime) -> dict[int, bool]:
    return traceable_instruments(store, actor, now)  # a few queries: not cached, calibrations change often


def _proficiency(store: Store, actor: Actor) -> dict | None:
    """The lab supervision indicators (proficiency results, labs by state, open findings)."""
    try:
        from jingce.services.supervision import supervision_indicators
    except ImportError:
        return None
    return supervision_indicators(store, actor)


def region_dashboard(store: Store, actor: Actor, *, chain: str | None = None, start: dt.date | None = None,
                     end: dt.date | None = None) -> dict:
    """The region by industry chain (regulator and admin): per chain and per enterprise the
    distribution of Cpk over the capability classes, the share of characteristics with run-rule
    alarms (out of control), values out of specification (ppm) and the share of working
    instruments calibrated and in force (calibration compliance)."""
    _require_supervisor(actor)
    if start is not None and end is not None and end <= start:
        raise InvalidInputError("must be after start", field="end")
    per, source = _per_characteristic(store, actor, start=start, end=end)
    ents = [e for e in store.list_enterprises(actor) if chain is None or (e.industry_chain or "-") == chain]
    cols = _columns(per, "enterprise_id", "n_values", "cpk", "alarms", "out_of_spec")
    ent_col = cols["enterprise_id"]
    now = dt.datetime.now(dt.UTC)
    instruments = _instrument_status(store, _aggregate_actor(actor), [e.id for e in ents], now)
    traceable = _traceable(store, actor, now)
    for i in instruments:
        i["traceable"] = traceable.get(i["id"], False)
    inst_by_ent: dict[int, list[dict]] = {}
    for i in instruments:
        inst_by_ent.setdefault(i["enterprise_id"], []).append(i)
    enterprises, chains = [], {}
    for e in ents:
        name = e.industry_chain or "-"
        enterprises.append({"id": e.id, "code": e.code, "name": e.name, "chain": name, "district": e.district,
                            **_indicators(cols, ent_col == e.id, inst_by_ent.get(e.id, []))})
        chains.setdefault(name, []).append(e.id)
    chain_rows = []
    for name, ids in sorted(chains.items()):
        mask = np.isin(ent_col, ids)
        insts = [i for eid in ids for i in inst_by_ent.get(eid, [])]
        chain_rows.append({"chain": name, "enterprises": len(ids), **_indicators(cols, mask, insts)})
    return {"chains": chain_rows, "enterprises": enterprises, "source": source,
            "period": {"start": start.isoformat() if start else None, "end": end.isoformat() if end else None},
            "cpk_classes": [c[0] for c in CPK_CLASSES] + ["n/a"], "proficiency": _proficiency(store, actor),
            "nonconforming": _nonconforming(store, actor, per, limit=15)}


def region_enterprise(store: Store, actor: Actor, enterprise_id: int, *, start: dt.date | None = None,
                      end: dt.date | None = None) -> dict:
    """One enterprise's indicators and its per-characteristic summary rows (indicators only, no
    raw values) for the regulator's drill-down."""
    _require_supervisor(actor)
    ent = store.get_enterprise(actor, enterprise_id)
    per, source = _per_characteristic(store, actor, enterprise_ids=[enterprise_id], start=start, end=end)
    cols = _columns(per, "characteristic_id", "product_id", "n_values", "cpk", "ppk", "cpk_lo", "cpk_hi",
                    "alarms", "out_of_spec", "ppm_overall")
    now = dt.datetime.now(dt.UTC)
    instruments = _instrument_status(store, _aggregate_actor(actor), [enterprise_id], now)
    traceable = _traceable(store, actor, now)
    for i in instruments:
        i["traceable"] = traceable.get(i["id"], False)
    chars = {c.id: c for c in store.list_characteristics(actor, enterprise_id=enterprise_id)}
    products = {p.id: p.part_number for p in store.list_products(actor, enterprise_id)}
    rows = []
    for i, cid in enumerate(cols["characteristic_id"].tolist()):
        c = chars.get(cid)
        n = int(cols["n_values"][i])
        rows.append({"id": cid, "code": c.key if c else None, "name": (c.name or c.key) if c else None,
                     "product": products.get(int(cols["product_id"][i])), "n": n, "cpk": _f(cols["cpk"][i]),
                     "ppk": _f(cols["ppk"][i]), "cpk_ci": [_f(cols["cpk_lo"][i]), _f(cols["cpk_hi"][i])],
                     "ppm_expected": _f(cols["ppm_overall"][i]),
                     "ppm_out_of_spec": _f(cols["out_of_spec"][i] / n * 1e6) if n else None,
                     "alarms": int(cols["alarms"][i]), "light": _light(n, float(cols["cpk"][i])),
                     "out_of_spec": int(cols["out_of_spec"][i])})
    return {"enterprise": ent.model_dump(mode="json"),
            "indicators": _indicators(_columns(per, "n_values", "cpk", "alarms", "out_of_spec"),
                                      np.ones(per.num_rows, bool), instruments),
            "characteristics": rows, "instruments": instruments, "source": source}


def _nonconforming(store: Store, actor: Actor, per: pa.Table, *, limit: int) -> list[dict]:
    """The characteristics of ``per`` with values out of specification, the most first (then the
    lowest Cpk): where a root-cause analysis starts. Indicators only, no values."""
    cols = _columns(per, "enterprise_id", "product_id", "characteristic_id", "n_values", "out_of_spec", "cpk")
    oos = cols["out_of_spec"]
    cpk = np.where(np.isfinite(cols["cpk"]), cols["cpk"], np.inf)
    order = [i for i in np.lexsort((cpk, -oos)) if oos[i] > 0][:limit]
    if not order:
        return []
    chars = {c.id: c for c in store.list_characteristics(actor)}
    ents = {e.id: e for e in store.list_enterprises(actor)}
    products: dict[int, str] = {}
    out = []
    for i in order:
        cid, pid, eid = int(cols["characteristic_id"][i]), int(cols["product_id"][i]), int(cols["enterprise_id"][i])
        c = chars.get(cid)
        if c is None:
            continue
        if pid not in products:
            products[pid] = store.get_product(actor, pid).part_number
        n = int(cols["n_values"][i])
        e = ents.get(eid)
        out.append({"id": cid, "code": c.key, "name": c.name or c.key, "product": products[pid], "enterprise_id": eid,
                    "enterprise": e.code if e else None, "n": n, "out_of_spec": int(oos[i]),
                    "ppm_out_of_spec": _f(oos[i] / n * 1e6) if n else None, "cpk": _f(cols["cpk"][i])})
    return out


def worst_characteristics(store: Store, actor: Actor, *, enterprise_id: int | None = None,
                          limit: int = 20) -> list[dict]:
    """The non-conforming characteristics the actor may analyse (its own and shared ones; the
    region's for the regulator and the admin), most values out of specification first."""
    if enterprise_id is not None:
        store.get_enterprise(actor, enterprise_id)
    per, _source = _per_characteristic(store, actor, enterprise_ids=None if enterprise_id is None else [enterprise_id])
    if not (actor.is_admin or actor.is_regulator):
        vis = store.visibility(actor)
        cols = _columns(per, "enterprise_id", "product_id")
        keep = [vis.sees_product_data(int(e), int(p)) for e, p in zip(cols["enterprise_id"], cols["product_id"],
                                                                      strict=True)]
        per = per.filter(pa.array(keep, pa.bool_()))
    return _nonconforming(store, actor, per, limit=limit)


# -- traceability graph -------------------------------------------------------------------------------

_SEVERITY = {"ok": 0, "expired": 1, "missing": 2, "cycle": 2, "out_of_tolerance": 3}
_LEVEL = {"working": 0, "reference_standard": 1, "provincial_standard": 2, "national_standard": 3}


def chain_graph(chain) -> dict:
    """The calibration chain as a graph for drawing: one node per instrument (``level`` 0 for
    working instruments up to 3 for national standards; ``status`` the worst of its own
    calibration links) and one edge per link from an instrument to a standard it was calibrated
    against."""
    worst: dict[int, str] = {}
    for link in chain.links:
        s = "missing" if link.status == "cycle" else link.status
        if _SEVERITY[s] > _SEVERITY[worst.get(link.instrument_id, "ok")]:
            worst[link.instrument_id] = s
        else:
            worst.setdefault(link.instrument_id, s)
    nodes = [{"id": n.instrument_id, "label": f"{n.code} {n.name}", "code": n.code, "kind": n.kind,
              "level": _LEVEL.get(n.kind, 0), "lab": n.lab,
              "status": "ok" if n.kind == "national_standard" else worst.get(n.instrument_id, "missing")}
             for n in chain.nodes]
    edges = [{"from": x.instrument_id, "to": x.standard_id, "certificate": x.certificate_no,
              "valid_until": x.valid_until.isoformat() if x.valid_until else None, "status": x.status}
             for x in chain.links if x.standard_id is not None]
    return {"nodes": nodes, "edges": edges}
