"""Properties of the supervision model and scoring: the qualification state machine, the CMC check
under a change of unit, and the service's E_n against the kernel."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jingce.errors import ConflictError
from jingce.kernels.proficiency import en_score
from jingce.model import QualificationState, ScopeEntry
from jingce.model.supervision import QUALIFICATION_MOVES, LabAction, PtResult, PtRound, next_state
from jingce.services import supervision as sv

NOW = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
DECISIONS = [a for a in LabAction if a is not LabAction.APPLY]


@given(st.lists(st.sampled_from(DECISIONS), max_size=30))
def test_state_machine(actions):
    """Legal moves go where the table says; illegal ones raise and name the state; once revoked,
    nothing moves a lab again; only qualify and reinstate lead to qualified."""
    state = QualificationState.APPLIED
    for action in actions:
        sources, target = QUALIFICATION_MOVES[action]
        if state in sources:
            new = next_state(state, action)
            assert new is target
            if new is QualificationState.QUALIFIED:
                assert action in (LabAction.QUALIFY, LabAction.REINSTATE)
            state = new
        else:
            with pytest.raises(ConflictError) as e:
                next_state(state, action)
            assert e.value.details["state"] == state.value and state.value in str(e.value)
    if state is QualificationState.REVOKED:
        for action in DECISIONS:
            with pytest.raises(ConflictError):
                next_state(state, action)


def _round(unit="mm", x=100.0):
    return PtRound(code="R", title="r", quantity="length", unit=unit, artefact="a", assigned_value=x,
                   assigned_uncertainty=1e-4, opened_at=NOW, deadline=NOW + dt.timedelta(days=1))


positive = st.floats(1e-6, 1e-2, allow_nan=False)


@settings(max_examples=200, deadline=None)
@given(value=st.floats(0.0, 600.0), big_u=positive, k=st.floats(1.0, 3.0), cmc_abs=positive,
       cmc_rel=st.floats(0.0, 1e-5))
def test_cmc_flags_do_not_depend_on_the_unit(value, big_u, k, cmc_abs, cmc_rel):
    """The same scope line in mm or in um, the same round in mm or in um: the same flags
    (away from the tie within rounding)."""
    line_mm = ScopeEntry(quantity="length", range_min=0, range_max=500, unit="mm", cmc_absolute=cmc_abs,
                         cmc_relative=cmc_rel)
    line_um = ScopeEntry(quantity="length", range_min=0, range_max=500_000, unit="um", cmc_absolute=cmc_abs * 1e3,
                         cmc_relative=cmc_rel)
    u95 = 2 * big_u / k
    cmc = line_mm.cmc_at(value)
    if abs(u95 - cmc) <= 1e-6 * cmc or abs(value - 500) < 1e-6:
        return
    flags = sv.cmc_flags(_round("mm"), value, big_u, k, (line_mm,))
    assert flags == sv.cmc_flags(_round("mm"), value, big_u, k, (line_um,))
    assert flags == sv.cmc_flags(_round("um"), value * 1e3, big_u * 1e3, k, (line_mm,))
    if value > 500:
        assert [f.value for f in flags] == ["outside_scope"]
    else:
        assert [f.value for f in flags] == ([] if u95 >= cmc else ["uncertainty_below_cmc"])


@given(x=st.floats(-1e3, 1e3), big_u=positive, x_pt=st.floats(-1e3, 1e3), u_pt=st.floats(0, 1e-2))
def test_service_en_is_the_kernel_en(x, big_u, x_pt, u_pt):
    """Also for a negative assigned value, which the kernel's en_score refuses as x_pt < 0."""
    rnd = _round(x=x_pt).model_copy(update={"assigned_uncertainty": u_pt})
    res = PtResult(round_id=1, lab_id=1, value=x, expanded_uncertainty=big_u, submitted_at=NOW)
    score, evaluation = sv.score_result(rnd, res)
    if x_pt >= 0:
        assert score == en_score(x, big_u, x_pt, u_pt)
    assert score == pytest.approx((x - x_pt) / (big_u**2 + u_pt**2) ** 0.5, rel=1e-12, abs=1e-300)
    assert evaluation.value == ("satisfactory" if abs(score) <= 1 else "unsatisfactory")
