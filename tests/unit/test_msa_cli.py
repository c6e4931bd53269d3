"""Every msa calculation runs from the command line, with its example input and pictures."""

import json

import pytest
import yaml
from typer.testing import CliRunner

from jingce.cli.app import app
from jingce.services import calculations

NAMES = ["msa.type1", "msa.bias_linearity", "msa.stability", "msa.grr_anova", "msa.grr_average_range",
         "msa.grr_anova_batch", "msa.fleiss_kappa", "msa.cohen_kappa", "msa.attribute_agreement",
         "msa.measurement_process_capability", "msa.measurement_fitness"]


def run(*args):
    res = CliRunner().invoke(app, ["calc", "run", *args])
    return res


def test_all_registered():
    assert set(NAMES) <= set(calculations.names())


@pytest.mark.parametrize("name", NAMES)
def test_example_runs(name, tmp_path):
    example = run(name, "--example")
    assert example.exit_code == 0, example.output
    path = tmp_path / "in.yaml"
    path.write_text(yaml.safe_dump(json.loads(example.output)))
    res = run(name, str(path))
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert isinstance(data, dict) and data


def test_grr_from_yaml_long_table_with_plot(tmp_path):
    parts, apps, vals = [], [], []
    ex = json.loads(run("msa.grr_anova", "--example").output)["readings"]
    for i, part in enumerate(ex):
        for j, cell in enumerate(part):
            for v in cell:
                parts.append(i + 1)
                apps.append("ABC"[j])
                vals.append(v)
    path = tmp_path / "grr.yaml"
    path.write_text(yaml.safe_dump({"part": parts, "appraiser": apps, "value": vals, "tolerance": 6.0}))
    for suffix in ("png", "svg"):
        out = tmp_path / f"six.{suffix}"
        res = run("msa.grr_anova", str(path), "--plot", str(out))
        assert res.exit_code == 0, res.output
        assert out.stat().st_size > 10_000
    data = json.loads(res.output)
    assert data["ndc"] == 4 and data["interaction_pooled"] is True
    assert data["pct_study_variation"]["grr"] == pytest.approx(27.86, abs=0.01)


def test_missing_reading_as_null_uses_reml(tmp_path):
    ex = json.loads(run("msa.grr_anova", "--example").output)
    ex["readings"][0][0][2] = None
    path = tmp_path / "grr.yaml"
    path.write_text(yaml.safe_dump(ex))
    res = run("msa.grr_anova", str(path))
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["method"] == "reml"


@pytest.mark.parametrize("name", ["msa.type1", "msa.bias_linearity", "msa.stability", "msa.grr_average_range",
                                  "msa.attribute_agreement", "msa.measurement_process_capability"])
def test_pictures(name, tmp_path):
    path = tmp_path / "in.json"
    path.write_text(run(name, "--example").output)
    out = tmp_path / "pic.png"
    res = run(name, str(path), "--plot", str(out))
    assert res.exit_code == 0, res.output
    assert out.read_bytes()[:4] == b"\x89PNG"


def test_bad_input_reaches_the_user(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump({"readings": [[[1.0, 1.1]], [[2.0, 2.1]]], "tolerance": 1.0}))
    res = run("msa.grr_anova", str(path))
    assert res.exit_code != 0
    assert "appraiser" in (res.output + str(res.exception))
