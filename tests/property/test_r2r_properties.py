"""Properties of run-to-run controllers: the stability bound separates converging and diverging loops."""

import warnings

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from jingce.errors import JingceWarning
from jingce.kernels import r2r

lams = st.floats(0.05, 1.0)


@given(lams, lams, st.floats(0.02, 12.0), st.booleans())
@settings(max_examples=80)
def test_bound_predicts_the_simulation(l1, l2, xi, double):
    c = r2r.double_ewma_controller(0.0, 1.0, l1, l2) if double else r2r.ewma_controller(0.0, 1.0, l1)
    st_ = r2r.stability(c, xi)
    assume(abs(st_.spectral_radius - 1.0) > 0.02)  # away from the boundary the transient is short
    assert st_.stable == (st_.xi_min < xi < st_.xi_max)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", JingceWarning)  # the unstable loops warn
        sim = r2r.simulate(c, 2500, process_intercept=3.0, process_gain=xi)
    assert (abs(sim.y[-1]) < 1e-6) == st_.stable
