"""The msa pictures draw for every design and chart kind, as PNG and SVG."""

import numpy as np
import pytest

from jingce.charts import msa as charts
from jingce.kernels import msa


def study(shape, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(0, 1, shape[:1] + (1,) * (len(shape) - 1)) + rng.normal(0, 0.2, shape)


@pytest.mark.parametrize(("make", "suffix"), [
    (lambda: msa.grr_anova(study((6, 3, 2)), tolerance=5.0, process_sigma=1.0), "svg"),
    (lambda: msa.grr_anova(study((6, 3, 2)), design="nested"), "png"),
    (lambda: msa.grr_anova(study((5, 2, 2, 2))), "png"),
    (lambda: msa.grr_average_range(study((6, 3, 2))), "png"),
])
def test_sixpack(make, suffix, tmp_path):
    out = tmp_path / f"six.{suffix}"
    charts.plot_grr_sixpack(make(), str(out))
    assert out.stat().st_size > 5000


def test_sixpack_with_missing_readings(tmp_path):
    y = study((6, 3, 3))
    y[0, 0, :2] = np.nan
    out = tmp_path / "six.png"
    charts.plot_grr_sixpack(msa.grr_anova(y), str(out))
    assert out.read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize("chart", ["xbar_r", "xbar_s", "imr"])
def test_stability_pictures(chart, tmp_path):
    x = np.random.default_rng(1).normal(6.0, 0.1, (20, 4))
    r = msa.stability(x.ravel() if chart == "imr" else x, 6.0, chart=chart)
    out = tmp_path / "st.svg"
    charts.plot_stability(r, str(out))
    assert out.read_text().lstrip().startswith("<?xml")


def test_one_sided_type1_picture(tmp_path):
    r = msa.type1(np.random.default_rng(2).normal(1.0, 0.01, 30), 1.0, usl=1.5)
    out = tmp_path / "t1.png"
    charts.plot_type1(r, str(out))
    assert out.stat().st_size > 5000


def test_unknown_suffix_is_refused(tmp_path):
    from jingce.errors import InvalidInputError

    with pytest.raises(InvalidInputError):
        charts.plot_type1(msa.type1([1.0, 1.1, 0.9], 1.0, tolerance=1.0), str(tmp_path / "x.gif"))
