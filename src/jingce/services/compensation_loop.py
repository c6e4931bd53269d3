"""The error-compensation loop of a machine axis: measure -> evaluate -> compensate -> verify -> repeat.

Each submitted positioning test (ISO 230-2) is evaluated and kept. A test of the uncompensated
axis yields the first pitch-error table. A test measured with a table loaded verifies that table
against the test it was built from; if the error E shrank by more than the tests can resolve
(the expanded uncertainty of the difference, ISO/TR 230-9), the residual errors give the next
table (the active table plus a table of the residuals); otherwise the loop stops and says why.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from jingce.errors import InvalidInputError, NotFoundError
from jingce.kernels import positioning as pos
from jingce.model.machine import Compensation, PositioningTest
from jingce.store import Actor, Store


@dataclass(frozen=True, slots=True)
class LoopIteration:
    """One test of the loop and what it led to.

    ``decision`` is ``"compensate"`` (a new table was built: ``table_iteration``) or ``"stop"``;
    ``reason_en``/``reason_zh`` say why. ``E_before`` is the E of the test the active table was
    built from (None for an uncompensated test); ``ratios`` are after/before of E, M, A, R, B.
    """

    iteration: int
    test_id: int
    compensated_with: int | None
    E: float
    M: float
    A: float
    R: float
    B: float
    uncertainty: float
    E_before: float | None
    ratios: dict
    in_sample: bool
    decision: str
    table_iteration: int | None
    reason_en: str
    reason_zh: str


def _result(test: PositioningTest, kind: str, unit: str) -> pos.PositioningResult:
    d = test.data
    return pos.evaluate(d["targets"], d["up"], d["down"], axis=kind, unit=unit)


def submit_test(store: Store, actor: Actor, axis_id: int, targets, up, down, *, uncertainty: float,
                compensated: bool, measured_at: dt.datetime | None = None, instrument_id: int | None = None,
                spacing: float | None = None, reference: float | None = None, mode: str = "backlash") -> LoopIteration:
    """Record and evaluate one positioning test of an axis and take the loop's next step.

    Parameters
    ----------
    targets, up, down : array_like
        Target positions and actual positions (runs x targets, positive and negative approach).
    uncertainty : float
        Expanded uncertainty U (k = 2) of E for this test, e.g. from the interferometer's
        calibration and the environment (ISO/TR 230-9).
    compensated : bool
        Whether the axis's latest table was loaded in the controller during the test.
    spacing, reference, mode
        Of a new table (:func:`jingce.kernels.positioning.compensation_table`); default the
        previous table's, or the mean target spacing and the first target for the first table.
    """
    axis = store.get_axis(actor, axis_id)
    if uncertainty is None or not np.isfinite(uncertainty) or uncertainty < 0:
        raise InvalidInputError("must be a finite expanded uncertainty >= 0", field="uncertainty")
    result = pos.evaluate(targets, up, down, axis=axis.kind, unit=axis.unit)
    comps = store.compensations(actor, axis_id)
    active = comps[-1] if (compensated and comps) else None
    if compensated and active is None:
        raise InvalidInputError("the axis has no compensation table yet; measure it uncompensated first",
                                field="compensated")
    data = {"targets": np.asarray(targets, float).tolist(), "up": np.asarray(up, float).tolist(),
            "down": np.asarray(down, float).tolist()}
    test = store.add_positioning_test(actor, PositioningTest(
        axis_id=axis_id, iteration=0, measured_at=measured_at or dt.datetime.now(dt.UTC),
        compensation_id=active.id if active else None, instrument_id=instrument_id, uncertainty=float(uncertainty),
        data=data, result=result.axis_values()))
    return _step(store, actor, axis, test, result, active, comps, spacing=spacing, reference=reference, mode=mode)


def _step(store, actor, axis, test, result, active, comps, *, spacing, reference, mode) -> LoopIteration:
    if active is None:
        comp = _save(store, actor, axis.id, len(comps) + 1, test.id,
                     _new_table(result, spacing, reference, mode))
        return _iteration(axis, test, result, active, None, None, comp)
    tests = {t.id: t for t in store.positioning_tests(actor, axis.id)}
    baseline, ver, check = _assess(axis, result, active, tests[active.test_id], test)
    comp = None
    if not check.below_uncertainty:
        table = pos.table_from_json(active.table_json)
        residual = pos.compensation_table(result, spacing=table.spacing, reference=table.reference,
                                          start=float(table.positions[0]), end=float(table.positions[-1]),
                                          mode=table.mode)
        comp = _save(store, actor, axis.id, len(comps) + 1, test.id, pos.combine_tables(table, residual))
    return _iteration(axis, test, result, active, (baseline, ver), check, comp)


def _assess(axis, result, active, source, test):
    """Verify the active table with this test against the test it was built from."""
    baseline = _result(source, axis.kind, axis.unit)
    ver = pos.verify(pos.table_from_json(active.table_json), result.targets, _positions(result, "up"),
                     _positions(result, "down"), compensated=True, baseline=baseline)
    check = pos.improvement_below_uncertainty(baseline.E, result.E, source.uncertainty,
                                              after_uncertainty=test.uncertainty, quantity="E")
    return baseline, ver, check


def _iteration(axis, test, result, active, verified, check, comp) -> LoopIteration:
    """The iteration record with its decision and the reason, in English and Chinese."""
    vals = result.axis_values()
    base = dict(iteration=test.iteration, test_id=test.id, compensated_with=active.iteration if active else None,
                E=vals["E"], M=vals["M"], A=vals["A"], R=vals["R"], B=vals["B"], uncertainty=test.uncertainty,
                decision="compensate" if comp else "stop", table_iteration=comp.iteration if comp else None)
    unit = axis.unit
    if verified is None and comp is None:  # not reached through submit_test, which always builds one
        return LoopIteration(**base, E_before=None, ratios={}, in_sample=False, reason_en="uncompensated test",
                             reason_zh="未补偿测试")
    if verified is None:
        return LoopIteration(**base, E_before=None, ratios={}, in_sample=False,
                             reason_en=f"uncompensated axis: E = {vals['E']:.6g} {unit}; table {comp.iteration} built",
                             reason_zh=f"未补偿轴：E = {vals['E']:.6g} {unit}；已生成第 {comp.iteration} 版补偿表")
    baseline, ver = verified
    common = dict(E_before=baseline.E, ratios=ver.ratios, in_sample=ver.in_sample)
    gain, u = check.improvement, check.uncertainty
    if comp is not None:
        return LoopIteration(
            **base, **common,
            reason_en=(f"E improved from {baseline.E:.6g} to {result.E:.6g} {unit} (by {gain:.3g}, more than the test "
                       f"uncertainty {u:.3g}); table {comp.iteration} adds the residual errors"),
            reason_zh=(f"E 由 {baseline.E:.6g} 改善到 {result.E:.6g} {unit}（改善 {gain:.3g}，大于测试不确定度 "
                       f"{u:.3g}）；第 {comp.iteration} 版补偿表叠加了残余误差"))
    worse = gain < -u  # significantly worse: the last table did harm
    keep = max(active.iteration - 1, 0) if worse else active.iteration
    return LoopIteration(
        **base, **common,
        reason_en=(f"E went from {baseline.E:.6g} to {result.E:.6g} {unit}: "
                   + ("worse by more than" if worse else "no change larger than")
                   + f" the test uncertainty {u:.3g} {unit}, so a further table cannot be verified; "
                   + (f"keep table {keep}" if keep else "go back to no compensation")),
        reason_zh=(f"E 由 {baseline.E:.6g} 变为 {result.E:.6g} {unit}，"
                   + ("变差超过" if worse else "变化不超过")
                   + f"测试不确定度 {u:.3g} {unit}，继续补偿已无法验证；"
                   + (f"保留第 {keep} 版补偿表" if keep else "恢复为不补偿")))


def _positions(result: pos.PositioningResult, direction: str) -> np.ndarray:
    dev = result.deviations_up if direction == "up" else result.deviations_down
    return result.targets[None, :] + dev


def _new_table(result, spacing, reference, mode) -> pos.CompensationTable:
    if spacing is None:
        spacing = float(np.round(np.median(np.diff(result.targets)), 6))
    return pos.compensation_table(result, spacing=spacing, reference=reference, mode=mode)


def _save(store, actor, axis_id, iteration, test_id, table) -> Compensation:
    return store.add_compensation(actor, Compensation(
        axis_id=axis_id, iteration=iteration, test_id=test_id, created_at=dt.datetime.now(dt.UTC),
        table_json=pos.table_to_json(table)))


def history(store: Store, actor: Actor, axis_id: int) -> list[LoopIteration]:
    """Every iteration of the axis's loop, re-assessed from the stored tests and tables."""
    axis = store.get_axis(actor, axis_id)
    tests = store.positioning_tests(actor, axis_id)
    by_id = {t.id: t for t in tests}
    comps = store.compensations(actor, axis_id)
    active_of = {c.id: c for c in comps}
    out = []
    for test in tests:
        result = _result(test, axis.kind, axis.unit)
        active = active_of.get(test.compensation_id)
        built = next((c for c in comps if c.test_id == test.id), None)
        if active is None:
            out.append(_iteration(axis, test, result, None, None, None, built))
            continue
        baseline, ver, check = _assess(axis, result, active, by_id[active.test_id], test)
        out.append(_iteration(axis, test, result, active, (baseline, ver), check, built))
    return out


def current_table(store: Store, actor: Actor, axis_id: int, fmt: str = "sinumerik", axis_name: str | None = None) -> str:
    """The latest table of the axis as ``sinumerik`` (840D MSEC program), ``csv`` or ``json``."""
    comps = store.compensations(actor, axis_id)
    if not comps:
        raise NotFoundError("the axis has no compensation table yet", field="axis")
    table = pos.table_from_json(comps[-1].table_json)
    if fmt == "json":
        return pos.table_to_json(table)
    if fmt == "csv":
        return pos.table_to_csv(table)
    if fmt == "sinumerik":
        return pos.table_to_sinumerik(table, axis_name=axis_name or store.get_axis(actor, axis_id).name + "1")
    raise InvalidInputError("must be sinumerik, csv or json", field="format")
