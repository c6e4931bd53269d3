"""An assembly's stack-up follows its suppliers' measured data in the store."""

import numpy as np
import pyarrow as pa
import pytest

from jingce.errors import InvalidInputError, NotFoundError
from jingce.services.stackup import ChainLink, stackup_from_store
from tests.integration.conftest import h, rows


def _ingest(region, ent, pn, key, values, nominal, lower, upper, tag):
    t = rows(ent, pn, [key], [f"{tag}{i}" for i in range(len(values))], nominal=nominal, lower=lower, upper=upper)
    t = t.set_column(t.column_names.index("value"), "value", pa.array(values))
    region.store.ingest(region.admin, t, content_hash=h(tag), source_format="t")


def test_measured_supplier_data_drives_the_prediction(region):
    rng = np.random.default_rng(4)
    housing = rng.normal(50.02, 0.010, 400)  # customer's housing bore depth, off centre
    ring = rng.normal(19.99, 0.004, 400)  # supplier's ring width (shared with the customer)
    _ingest(region, "C", "ASSY", "DEPTH", housing, 50.0, 49.95, 50.05, "hb")
    _ingest(region, "S", "RING", "WIDTH", ring, 20.0, 19.97, 20.03, "rw")
    st = region.store
    depth = st.find_characteristic(region.admin, "C", "ASSY", "DEPTH").id
    width = st.find_characteristic(region.admin, "S", "RING", "WIDTH").id
    chain = [ChainLink(depth, +1), ChainLink(width, -1)]  # gap = depth - width
    r = stackup_from_store(st, region.c, chain, lsl=29.95, usl=30.1, n_monte_carlo=20000, seed=1)
    assert r.worst_case == pytest.approx(0.05 + 0.03)
    assert r.predicted_mean == pytest.approx(housing.mean() - ring.mean(), abs=1e-12)
    assert r.predicted_sd == pytest.approx(np.hypot(housing.std(ddof=1), ring.std(ddof=1)), rel=1e-9)
    assert r.variance_contributions[0] > 80  # the housing's spread dominates
    assert r.monte_carlo is not None
    # the supplier's data is used only because it was shared with the customer; X sees neither
    with pytest.raises(NotFoundError):
        stackup_from_store(st, region.x, chain)


def test_unmeasured_links_use_the_tolerance_and_one_sided_specs_are_refused(region):
    st, a = region.store, region.admin
    _ingest(region, "C", "ASSY", "FLAT", np.abs(np.random.default_rng(1).normal(0, 0.01, 50)), 0.0, None, 0.05, "fl")
    _ingest(region, "C", "ASSY", "L1", np.full(5, 10.0), 10.0, 9.9, 10.1, "l1")  # too few values
    l1 = st.find_characteristic(a, "C", "ASSY", "L1").id
    r = stackup_from_store(st, a, [ChainLink(l1)])
    assert r.input_sds[0] == pytest.approx(0.1 / 3)
    flat = st.find_characteristic(a, "C", "ASSY", "FLAT").id
    with pytest.raises(InvalidInputError, match="two-sided"):
        stackup_from_store(st, a, [ChainLink(l1), ChainLink(flat)])
