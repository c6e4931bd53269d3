"""Build the demo region, deterministically from a seed.

Three industry chains of fictional Heilongjiang manufacturers (aero-engine parts, automotive
powertrain, precision bearings) with supplier relations and bills of materials; thousands of
characteristics with ISO 286 tolerances; millions of measurements from a process model with
drift, shifts, tool wear and out-of-control episodes plus measurement noise matching each
instrument's calibration uncertainty; instruments whose calibration chains reach national
standards (some expired, some out of tolerance); labs with scopes; a regulator.

Values travel the same ingest path as files (:meth:`jingce.store.Store.ingest`), one batch per
enterprise, so a second build finds every batch already in and changes nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from jingce.model import (
    BomLine,
    Calibration,
    Enterprise,
    Instrument,
    Lab,
    MeasurementPlan,
    PlanItem,
    Role,
    ScopeEntry,
    Share,
    Site,
    Tenant,
    User,
)
from jingce.services.demo import catalog as cat
from jingce.store import Actor, Store

UTC = dt.UTC
START = dt.datetime(2026, 1, 5, tzinfo=UTC)
END = dt.datetime(2026, 10, 30, tzinfo=UTC)
REGULATOR = "regulator"

# Coupled characteristics (stream of variation): a parent's deviation follows its components'.
COUPLINGS = {
    ("ROTOR", "RUNOUT_1"): (("SHAFT", "RUNOUT_1", 1.6), ("BEARING", "KIA", 1.2)),
    ("GEARBOX", "BACKLASH_1"): (("GEAR", "OBD_1", -0.9),),
    ("ENGINE", "CRANK_EP"): (("CRANK", "STROKE_1", 0.0), ("CRANK", "MAIN_1", -2.0)),
    ("BEARING", "KIA"): (("INRING", "RUNOUT", 0.8),),
}


@dataclass
class _Product:
    id: int
    enterprise: str
    part_number: str
    family: cat.Family
    features: list[dict]  # key, name, kind, nominal, lower, upper, unit, criticality, instrument
    n_parts: int
    serials: list[str] = field(default_factory=list)
    values: dict[str, np.ndarray] = field(default_factory=dict)  # deviations of coupled features


@dataclass(frozen=True, slots=True)
class DemoSummary:
    enterprises: int
    characteristics: int
    measurements: int
    labs: int
    instruments: int
    created: bool


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class _Builder:
    def __init__(self, store: Store, seed: int, scale: float, progress: Callable[[str, float], None]):
        self.store, self.rng, self.scale, self.progress = store, np.random.default_rng(seed), scale, progress
        self.seed = seed
        self.admin = store.bootstrap()
        self.tenants: dict[str, int] = {}
        self.enterprises: dict[str, Enterprise] = {}
        self.roles_of: dict[str, list[str]] = {}  # role code -> enterprise codes
        self.products: dict[str, list[_Product]] = {}  # enterprise code -> products
        self.instruments: dict[tuple[str, str], list[Instrument]] = {}  # (enterprise, kind) -> instruments
        self.labs: dict[str, Lab] = {}
        self.standards: dict[tuple[str, str], Instrument] = {}  # (lab code, quantity) -> standard
        self.n_measurements = 0
        self.story_results: dict[str, object] = {}

    # -- organisations --------------------------------------------------------------------------

    def tenant(self, code: str, name: str, kind: str, username: str, role: Role) -> int:
        t = self.store.add_tenant(self.admin, Tenant(code=code, name=name, kind=kind))
        self.store.add_user(self.admin, User(tenant_id=t.id, username=username, role=role, display_name=name))
        self.tenants[code] = t.id
        return t.id

    def organisations(self) -> None:
        self.tenant("SAMR-HRB", "哈尔滨市市场监督管理局（示例）/ Harbin market regulator (demo)", "regulator",
                    REGULATOR, Role.REGULATOR)
        places = list(cat.PLACES)
        self.rng.shuffle(places)
        k = 0
        for chain, (_zh, _en, roles) in cat.CHAINS.items():
            for role in roles:
                self.roles_of[role.code] = []
                for i in range(role.count):
                    code = f"{role.code}{i + 1:02d}"
                    place = places[k % len(places)]
                    k += 1
                    tid = self.tenant(code, f"{place}{role.zh}", "enterprise", code.lower(), Role.ENTERPRISE_ADMIN)
                    ent = self.store.add_enterprise(self.admin, Enterprise(
                        tenant_id=tid, code=code, name=f"{place}{role.zh}（示例）", name_en=f"{place} {role.en} (demo)",
                        industry_chain=chain, district=place))
                    zone = "Europe/Berlin" if code == "PT-VLV02" else "Asia/Shanghai"
                    self.store.add_site(self.admin, Site(enterprise_id=ent.id, code="P1", name=f"{place}一厂 plant 1",
                                                         timezone=zone))
                    self.enterprises[code] = ent
                    self.roles_of[role.code].append(code)

    # -- metrology infrastructure ---------------------------------------------------------------

    def labs_and_standards(self) -> None:
        quantities = list(cat.STANDARDS)
        specs = [("NIM", "中国计量科学研究院（示例）", "national metrology institute (demo)", "national", quantities),
                 ("HLJIM", "黑龙江省计量检定测试研究院（示例）", "provincial metrology institute (demo)", "provincial",
                  quantities)]
        lab_names = ("精准", "北方", "龙江", "冰城", "恒信", "中测", "华测", "松花江", "远东", "金桥", "天鹅")
        for i, nm in enumerate(lab_names[:10]):
            qs = [q for j, q in enumerate(quantities) if (i + j) % 3 != 2] or quantities[:2]
            specs.append((f"LAB{i + 1:02d}", f"{nm}计量检测有限公司（示例）", f"{nm} calibration services (demo)", "lab", qs))
        for code, zh, en, level, qs in specs:
            tid = self.tenant(code, zh, "lab", code.lower(), Role.LAB)
            scope = []
            for q in qs:
                unit, u_std = cat.STANDARDS[q][2], cat.STANDARDS[q][3]
                factor = {"national": 0.2, "provincial": 0.5, "lab": 2.0}[level]
                scope.append(ScopeEntry(quantity=q, range_min=0, range_max=1000, unit=unit,
                                        cmc_absolute=round(u_std * factor, 8), cmc_relative=1e-6 if q == "length" else 0))
            qualification = "suspended" if code == "LAB07" else ("applied" if code == "LAB10" else "qualified")
            lab = self.store.add_lab(self.admin, Lab(
                tenant_id=tid, code=code, name=f"{zh} / {en}", level=level, qualification=qualification,
                accreditation_no=None if level != "lab" else f"CNAS L{1000 + len(self.labs)}", scope=tuple(scope)))
            self.labs[code] = lab
            for q in qs:
                zh_s, en_s, unit, u = cat.STANDARDS[q]
                kind = {"national": "national_standard", "provincial": "provincial_standard", "lab": "reference_standard"}[level]
                if level == "national":
                    zh_s, en_s = cat.NATIONAL[q]
                    u = u * 0.05
                elif level == "provincial":
                    u = u * 0.3
                inst = self.store.add_instrument(self.admin, Instrument(
                    tenant_id=tid, code=f"{code}-STD-{q.upper()}", name=f"{zh_s} / {en_s}", kind=kind, quantity=q,
                    unit=unit, uncertainty=u / 2, lab_id=lab.id, calibration_interval_days=365 if level == "lab" else 730))
                self.standards[(code, q)] = inst
        # provincial standards <- national; lab standards <- provincial (two of them directly <- national)
        for q in quantities:
            self.calibrate(self.standards[("HLJIM", q)], "NIM", dt.datetime(2025, 3, 10, tzinfo=UTC), 730,
                           self.standards[("NIM", q)])
        for code in (c for c in self.labs if c.startswith("LAB")):
            for q in quantities:
                if (code, q) not in self.standards:
                    continue
                std = self.standards[(code, q)]
                upstream = "NIM" if code in ("LAB01", "LAB02") else "HLJIM"
                day = 10 + int(self.rng.integers(0, 15))
                self.calibrate(std, upstream, dt.datetime(2025, 5, day, tzinfo=UTC), 365, self.standards[(upstream, q)])
                if (code, q) == ("LAB05", "hardness"):
                    continue  # never recalibrated: expires in May 2026
                result = "adjusted" if (code, q) == ("LAB03", "length") else "pass"
                self.calibrate(std, upstream, dt.datetime(2026, 5, day, tzinfo=UTC), 365, self.standards[(upstream, q)],
                               result=result, error_as_found=0.00045 if result == "adjusted" else None)

    def calibrate(self, inst: Instrument, lab_code: str, when: dt.datetime, days: int, standard: Instrument, *,
                  result: str = "pass", error_as_found: float | None = None) -> None:
        lab = self.labs[lab_code]
        u = (inst.uncertainty or 0.001) * 2
        self.store.add_calibration(self.admin, Calibration(
            instrument_id=inst.id, lab_id=lab.id, certificate_no=f"{lab_code}-{when:%Y%m%d}-{inst.id:05d}",
            calibrated_at=when, valid_until=when + dt.timedelta(days=days), result=result,
            error_as_found=error_as_found, expanded_uncertainty=round(u, 9), coverage_factor=2.0, unit=inst.unit,
            standard_ids=(standard.id,)))

    def working_instruments(self, ent: str, kinds: set[str]) -> None:
        e = self.enterprises[ent]
        service_labs = [c for c in self.labs if c.startswith("LAB")]
        for kind in sorted(kinds):
            zh, en, quantity, unit, res, u_k2 = cat.INSTRUMENTS[kind]
            n = 2 if kind == "cmm" else 1
            insts = []
            for k in range(n):
                inst = self.store.add_instrument(self.admin, Instrument(
                    tenant_id=e.tenant_id, code=f"{ent}-{kind.upper()}-{k + 1}", name=f"{zh} / {en}", quantity=quantity,
                    unit=unit, resolution=res, uncertainty=u_k2 / 2, mpe=u_k2 * 2, enterprise_id=e.id,
                    calibration_interval_days=365))
                labs = [c for c in service_labs if (c, quantity) in self.standards] or ["HLJIM"]
                lab = labs[int(self.rng.integers(0, len(labs)))]
                month = 1 + int(self.rng.integers(0, 9))
                self.calibrate(inst, lab, dt.datetime(2025, month, 3, tzinfo=UTC), 365, self.standards[(lab, quantity)])
                fate = self.rng.random()
                if fate < 0.08:
                    pass  # not recalibrated: expired during the year
                else:
                    result = "out_of_tolerance" if fate < 0.12 else "pass"
                    self.calibrate(inst, lab, dt.datetime(2026, month, 3, tzinfo=UTC), 365,
                                   self.standards[(lab, quantity)], result=result,
                                   error_as_found=u_k2 * 3 if result == "out_of_tolerance" else None)
                insts.append(inst)
            self.instruments[(ent, kind)] = insts

    # -- products and characteristics -----------------------------------------------------------

    def products_for(self, ent: str, role: cat.Role) -> None:
        rng = self.rng
        out = []
        for fam_code in role.families:
            fam = cat.FAMILIES[fam_code]
            for v in range(int(rng.integers(3, 6))):
                pn = f"{ent}-{fam.code}-{v + 1:02d}"
                feats = []
                for f in fam.features:
                    for c in range(f.count):
                        key = f.key if f.count == 1 else f"{f.key}_{c + 1}"
                        feats.append(self.feature(f, key, c))
                n_parts = int(max(60, rng.integers(900, 2600) * self.scale))
                prod = self.store.add_product(self.admin, _product(self.enterprises[ent].id, pn, fam))
                out.append(_Product(prod.id, ent, pn, fam, feats, n_parts))
        self.products[ent] = out

    def feature(self, f: cat.Feature, key: str, c: int) -> dict:
        rng = self.rng
        lo_n, hi_n = f.nominal
        nominal = round(float(rng.uniform(lo_n, hi_n)), 3) if hi_n > lo_n else lo_n
        if f.spec in ("shaft", "hole"):
            tol = round(cat.it_tolerance_um(nominal, int(f.grade_or_tol)) / 1000, 4)
            lower, upper = (nominal - tol, nominal) if f.spec == "shaft" else (nominal, nominal + tol)
        elif f.spec == "sym":
            half = f.grade_or_tol / 2 if f.grade_or_tol < 5 or f.unit != "mm" else \
                round(cat.it_tolerance_um(nominal, int(f.grade_or_tol)) / 2000, 4)
            lower, upper = nominal - half, nominal + half
        elif f.spec == "upper":
            nominal, lower, upper = 0.0, None, f.grade_or_tol
        else:  # range
            lower, upper = lo_n, hi_n
            nominal = (lo_n + hi_n) / 2
        return {"key": key, "name": f"{f.zh} {f.en}" + (f" {c + 1}" if f.count > 1 else ""), "kind": f.kind,
                "nominal": round(nominal, 6), "lower": None if lower is None else round(lower, 6),
                "upper": round(upper, 6), "unit": f.unit, "criticality": f.criticality, "instrument": f.instrument,
                "one_sided": f.spec == "upper", "spec_kind": f.spec}

    # -- the process model ----------------------------------------------------------------------

    def simulate(self, prod: _Product, feat: dict, n: int, uncertainty: float, resolution: float) -> np.ndarray:
        """True process values + measurement noise for n consecutive parts of one characteristic.

        Mean offset, linear drift, tool wear (a sawtooth reset at each tool change), step shifts
        and out-of-control episodes, on a process spread chosen for a realistic Cp spread
        (most capable, some not); then instrument noise (standard uncertainty) and rounding to
        the instrument's resolution.
        """
        rng = self.rng
        lower, upper = feat["lower"], feat["upper"]
        width = (upper - lower) if lower is not None else upper
        cp = float(np.exp(rng.normal(np.log(2.0), 0.3)))
        sigma = width / (6 * cp) if lower is not None else width / (3.5 * cp)
        t = np.arange(n)
        x = np.zeros(n)
        stable = rng.random() < 0.45  # a stable process: only common-cause variation
        x += rng.normal(0, 0.5) * sigma  # centring error
        if not stable:
            x += rng.normal(0, 0.6) * sigma * t / n  # drift over the period
            if feat["kind"] in ("diameter", "size") and rng.random() < 0.5:  # tool wear, reset at tool change
                period = int(rng.integers(80, 300))
                sign = 1 if feat["spec_kind"] == "shaft" else -1
                x += sign * 0.8 * sigma * ((t % period) / period - 0.5)
            for _ in range(int(rng.integers(0, 3))):  # shifts (new batch of material, re-setting)
                at = int(rng.integers(0, n))
                x[at:] += rng.normal(0, 0.6) * sigma
            if rng.random() < 0.4:  # an out-of-control episode
                a = int(rng.integers(0, max(1, n - 60)))
                b = a + int(rng.integers(10, 60))
                if rng.random() < 0.5:
                    x[a:b] += rng.choice([-1, 1]) * rng.uniform(2.5, 4.0) * sigma
                else:
                    x[a:b] += rng.normal(0, 2.0 * sigma, size=len(x[a:b]))
        noise = rng.normal(0, sigma, n)
        if feat["one_sided"]:  # form and position: folded, non-negative
            value = np.abs(noise + x * 0.5) + abs(x.mean()) * 0.2
        else:
            value = feat["nominal"] + (lower + upper) / 2 - feat["nominal"] + x + noise
        value = value + rng.normal(0, uncertainty, n)
        value = np.round(value / resolution) * resolution
        if feat["one_sided"]:
            value = np.abs(value)
        return value

    # -- measurements ---------------------------------------------------------------------------

    def measurements(self, ent: str) -> pa.Table:
        rng = self.rng
        pieces: list[pa.Table] = []
        span = (END - START).total_seconds()
        start_us = int(START.timestamp() * 1e6)
        operators = np.array([f"OP{k:03d}" for k in range(int(rng.integers(3, 9)))])
        for prod in self.products[ent]:
            n = prod.n_parts
            prod.serials = [f"{prod.part_number}-{i + 1:06d}" for i in range(n)]
            serials = np.array(prod.serials)
            part_time = start_us + np.sort(rng.uniform(0, span, n)) * 1e6
            machine = f"M{int(rng.integers(1, 40)):02d}"
            for j, feat in enumerate(prod.features):
                insts = self.instruments[(ent, feat["instrument"])]
                inst = insts[j % len(insts)]
                uncertainty = inst.uncertainty or 0.0
                resolution = inst.resolution or 1e-4
                value = self.simulate(prod, feat, n, uncertainty, resolution)
                coupled = COUPLINGS.get((prod.family.code, feat["key"]))
                if coupled:
                    value = np.round((value + self.coupled_deviation(prod, coupled, n)) / resolution) * resolution
                    if feat["one_sided"]:
                        value = np.abs(value)
                if (prod.family.code, feat["key"]) in _COMPONENT_KEYS:
                    prod.values[feat["key"]] = value - feat["nominal"]
                if feat["criticality"] == "critical":
                    idx = np.arange(n)  # every part
                elif feat["instrument"] in ("rough", "hard"):
                    idx = np.flatnonzero((np.arange(n) // 5) % 5 == 0)  # 5 parts in 25
                else:
                    idx = np.flatnonzero((np.arange(n) // 5) % 2 == 0)  # 5 parts in 10
                stage = "in_process" if feat["instrument"] in ("rough", "hard", "thick") else "final"
                times = part_time[idx] + (j * 20 + (-3600 if stage == "in_process" else 0)) * 1e6
                status = np.where(rng.random(len(idx)) < 0.001, "invalid", "valid")
                vals = value[idx].copy()
                vals[status == "invalid"] = feat["nominal"] + (feat["upper"] - (feat["lower"] or 0)) * 5
                pieces.append(_rows(prod, feat, serials[idx], vals, times, stage, operators[(idx // 40) % len(operators)],
                                    machine, inst.code, status))
                if prod.family.code == "ROTOR" and feat["key"].startswith("TIPCLR"):
                    # in service: re-measured at overhaul, the clearance grown by wear
                    svc = idx[::7]
                    grown = np.round((value[svc] + np.abs(rng.normal(0.02, 0.01, len(svc)))) / resolution) * resolution
                    svc_t = np.minimum(part_time[svc] + rng.uniform(20, 120, len(svc)) * 86400e6, END.timestamp() * 1e6)
                    pieces.append(_rows(prod, feat, serials[svc], grown, svc_t, "in_service",
                                        operators[(svc // 40) % len(operators)], machine, inst.code,
                                        np.full(len(svc), "valid")))
        table = pa.concat_tables(pieces)
        table = table.add_column(0, "enterprise", pa.array(np.full(table.num_rows, ent), pa.string()))
        return table.append_column("position", pa.array(np.arange(table.num_rows), pa.int64()))

    def coupled_deviation(self, prod: _Product, coupled, n: int) -> np.ndarray:
        """Sum of coefficient x component deviation over the components built into each part."""
        out = np.zeros(n)
        for fam, key, coef in coupled:
            child = self.child_of(prod, fam)
            if child is None or key not in child.values:
                continue
            dev = child.values[key]
            k = min(n, len(dev))
            out[:k] += coef * dev[:k]
        return out

    def child_of(self, prod: _Product, family: str) -> _Product | None:
        for child, _q in self.bom.get(prod.part_number, []):
            if child.family.code == family:
                return child
        return None

    # -- supply chain ---------------------------------------------------------------------------

    def supply_chain(self) -> None:
        """BOM lines from each customer product to one product of each supplying role."""
        self.bom: dict[str, list[tuple[_Product, int]]] = {}
        rng = self.rng
        for _chain, (_zh, _en, roles) in cat.CHAINS.items():
            for role in roles:
                for customer_role in role.supplies:
                    for cust in self.roles_of[customer_role]:
                        for parent in self.products[cust]:
                            suppliers = self.roles_of[role.code]
                            sup = suppliers[int(rng.integers(0, len(suppliers)))]
                            for child in self.products[sup][:: max(1, len(self.products[sup]) // 2)][:1] + [
                                    p for p in self.products[sup] if p.family.code != self.products[sup][0].family.code][:1]:
                                q = 4 if child.family.code in ("BLADE", "BALL") else 1
                                self.bom.setdefault(parent.part_number, []).append((child, q))

    def record_supply_chain(self) -> None:
        store, admin = self.store, self.admin
        shared: set[tuple[int, int, int]] = set()
        for ent, prods in self.products.items():
            for parent in prods:
                parents: list[int] = []
                children: list[int] = []
                positions: list[str] = []
                for child, q in self.bom.get(parent.part_number, []):
                    store.add_bom_line(admin, BomLine(parent_product_id=parent.id, child_product_id=child.id, quantity=q))
                    cust_tenant = self.enterprises[ent].tenant_id
                    sup = self.enterprises[child.enterprise]
                    key = (sup.tenant_id, cust_tenant, child.id)
                    if key not in shared and sup.tenant_id != cust_tenant:
                        store.add_share(admin, Share(owner_tenant_id=sup.tenant_id, grantee_tenant_id=cust_tenant,
                                                     enterprise_id=sup.id, product_id=child.id))
                        shared.add(key)
                    n = min(parent.n_parts, child.n_parts // q)
                    pid = store.part_ids(admin, parent.id, parent.serials[:n])
                    cid = store.part_ids(admin, child.id, child.serials[: n * q])
                    for i in range(n):
                        for r in range(q):
                            ps, cs = parent.serials[i], child.serials[i * q + r]
                            if ps in pid and cs in cid:
                                parents.append(pid[ps])
                                children.append(cid[cs])
                                positions.append(f"{child.family.code}{r + 1}")
                store.add_assemblies(admin, parent.id, parents, children, positions)

    def plans(self) -> None:
        by_product: dict[int, list] = {}
        for c in self.store.list_characteristics(self.admin):
            by_product.setdefault(c.product_id, []).append(c)
        for prods in self.products.values():
            for prod in prods:
                chars = by_product.get(prod.id, [])
                items = tuple(PlanItem(characteristic_id=c.id, stage="final", sample_size=1 if c.criticality == "critical"
                                       else 5, frequency="every part" if c.criticality == "critical" else "5 of 10 parts")
                              for c in chars)
                self.store.add_plan(self.admin, MeasurementPlan(product_id=prod.id, name=f"{prod.part_number} 控制计划 control plan",
                                                                items=items))

    # -- the whole build ------------------------------------------------------------------------

    def build(self) -> None:
        self.progress("organisations 组织", 0.02)
        self.organisations()
        self.progress("labs and standards 实验室与计量标准", 0.05)
        self.labs_and_standards()
        roles = {r.code: r for _c, (_z, _e, rs) in cat.CHAINS.items() for r in rs}
        for role_code, ents in self.roles_of.items():
            for ent in ents:
                self.products_for(ent, roles[role_code])
                kinds = {f["instrument"] for p in self.products[ent] for f in p.features}
                self.working_instruments(ent, kinds)
        self.supply_chain()
        # suppliers first, so that coupled assemblies see their components' values
        order = self._topological_enterprises()
        total = len(order)
        for k, ent in enumerate(order):
            self.progress(f"measurements 测量数据 {ent}", 0.1 + 0.8 * k / total)
            table = self.measurements(ent)
            digest = _hash(f"jingce-demo/{self.seed}/{self.scale}/{ent}")
            self.store.ingest(self.admin, table, content_hash=digest, source_format="demo",
                              source_name=f"demo:{ent}")
            self.n_measurements += table.num_rows
        self.progress("bills of materials and assemblies 物料清单与装配", 0.92)
        self.record_supply_chain()
        self.progress("measurement plans 测量计划", 0.95)
        self.plans()
        self.stories()
        self.progress("done 完成", 1.0)

    def stories(self) -> None:
        """The issue-9 stories on top of the base region, in this order: an out-of-tolerance
        standard and its impact; lab qualification, proficiency testing and findings; the
        service market; the precision planner's inadequate measurements; a root-cause case."""
        from jingce.services.demo import (
            market_demo,
            planner_demo,
            quality_demo,
            supervision_demo,
            traceability_demo,
        )

        stories = (("out-of-tolerance impact 超差影响", traceability_demo), ("lab supervision 实验室监管", supervision_demo),
                   ("service market 服务市场", market_demo), ("precision planner 测量能力规划", planner_demo),
                   ("root cause 质量溯源", quality_demo))
        for k, (label, module) in enumerate(stories):
            self.progress(label, 0.96 + 0.04 * k / len(stories))
            self.story_results[module.__name__.rsplit(".", 1)[-1]] = module.extend(self.store, self.admin, self)

    def _topological_enterprises(self) -> list[str]:
        depth: dict[str, int] = {}

        def level(pn: str) -> int:
            kids = self.bom.get(pn, [])
            return 0 if not kids else 1 + max(level(c.part_number) for c, _ in kids)

        for ent, prods in self.products.items():
            depth[ent] = max(level(p.part_number) for p in prods)
        return sorted(self.products, key=lambda e: (depth[e], e))


_COMPONENT_KEYS = {(c[0], c[1]) for cs in COUPLINGS.values() for c in cs}


def _rows(prod: _Product, feat: dict, serials, values, times, stage: str, operators, machine: str, inst_code: str,
          status) -> pa.Table:
    """The measurement rows of one characteristic of one product."""
    m = len(values)

    def const(v, typ=pa.string()):
        return pa.array(np.full(m, v), typ) if v is not None else pa.nulls(m, typ)

    return pa.table({
        "part_number": const(prod.part_number), "serial": pa.array(serials, pa.string()),
        "characteristic": const(feat["key"]), "value": pa.array(values, pa.float64()), "unit": const(feat["unit"]),
        "measured_at": pa.array(np.asarray(times).astype(np.int64), pa.int64()).cast(pa.timestamp("us", tz="UTC")),
        "stage": const(stage), "operator": pa.array(operators, pa.string()), "machine": const(machine),
        "instrument": const(inst_code), "status": pa.array(status, pa.string()),
        "nominal": const(feat["nominal"], pa.float64()), "lower_limit": const(feat["lower"], pa.float64()),
        "upper_limit": const(feat["upper"], pa.float64()), "characteristic_name": const(feat["name"]),
        "kind": const(feat["kind"]), "criticality": const(feat["criticality"]),
    })


def _product(enterprise_id: int, pn: str, fam: cat.Family):
    from jingce.model import Product

    return Product(enterprise_id=enterprise_id, part_number=pn, name=f"{fam.zh} {fam.en}")


def demo_exists(store: Store) -> bool:
    admin = store.bootstrap()
    return bool(store.list_enterprises(admin))


def build_demo(store: Store, *, seed: int = 20261128, scale: float = 1.0,
               progress: Callable[[str, float], None] = lambda msg, frac: None) -> DemoSummary:
    """Build the demo region into ``store`` (an empty one); a store that has it already is left as
    it is and only summarised.

    Parameters
    ----------
    seed : int
        Seed of the random generator: the same seed builds the same region, value for value.
    scale : float
        Multiplies the number of parts made (1.0: about 2.3 million measurements).
    """
    admin: Actor = store.bootstrap()
    if demo_exists(store):
        st = store.lake_stats()
        return DemoSummary(len(store.list_enterprises(admin)), len(store.list_characteristics(admin)), st["rows"],
                           len(store.list_labs(admin)), len(store.list_instruments(admin)), created=False)
    b = _Builder(store, seed, scale, progress)
    b.build()
    return DemoSummary(len(b.enterprises), sum(len(p.features) for ps in b.products.values() for p in ps),
                       store.lake_stats()["rows"], len(b.labs), sum(len(v) for v in b.instruments.values()), created=True)
