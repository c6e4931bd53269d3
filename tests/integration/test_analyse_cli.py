"""``jingce analyse``: region (runs the analyses, writes back, shows progress), view, impact, runs.

The commands are invoked through ``analyse_app`` itself (the lead registers it in ``jingce``);
the Spark variant of ``analyse region`` is in the engine conformance suite, which holds the one
Spark session of the test run."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from jingce.cli.analyse_cmd import analyse_app
from jingce.errors import InvalidInputError
from jingce.settings import Settings
from jingce.store import Store
from tests.integration.test_engine_regions import build_edge

ENV = {"COLUMNS": "200", "JINGCE_LANG": "both", "JINGCE_ENGINE": "local"}


@pytest.fixture
def data(tmp_path):
    d = tmp_path / "data"
    store = Store(Settings(data_dir=d))
    build_edge(store)
    store.close()
    return d


def run(*args):
    return CliRunner().invoke(analyse_app, [str(a) for a in args], env=ENV)


def test_region_then_view_impact_runs(data):
    r = run("region", "--data", data, "--engine", "local")
    assert r.exit_code == 0, r.output + repr(r.exception)
    assert "分析批次 1（local）：汇总 141 个测量值" in r.output and "analysis run 1 (local): 141 values" in r.output
    assert "批量分析 / batch analyses" in r.output  # the progress bar, counted in enterprises
    assert "3/3" in r.output
    assert "能力最差的特性 / Least capable characteristics" in r.output and "ASSY/RUNOUT" in r.output
    store = Store(Settings(data_dir=data))
    admin = store.bootstrap()
    assert store.analysis_runs(admin)[0].status == "done"
    assert len(store.summary_files(admin, "daily")) == 3

    v = run("view", "--data", data, "--from", "2026-03-21", "--to", "2026-04-12")
    assert v.exit_code == 0, v.output
    assert "RING/OD" in v.output and "ASSY/SINGLE" not in v.output  # SINGLE was measured on 20 March only

    i = run("impact", "--data", data)
    assert i.exit_code == 0, i.output
    assert "C-CMM" in i.output and "器具超差 / out_of_tolerance" in i.output and "17" in i.output

    runs = run("runs", "--data", data)
    assert runs.exit_code == 0 and "done" in runs.output and "141" in runs.output


def test_region_as_an_enterprise_user_for_its_enterprise(data):
    r = run("region", "--data", data, "--as", "c", "--enterprise", "C", "--subgroup-size", "3", "--rules",
            "western_electric", "--no-show")
    assert r.exit_code == 0, r.output + repr(r.exception)
    store = Store(Settings(data_dir=data))
    run_ = store.analysis_runs(store.bootstrap())[0]
    assert run_.actor == "c" and run_.params["subgroup_size"] == 3 and run_.params["rules"] == "western_electric"
    assert "能力最差" not in r.output  # --no-show


def test_view_before_any_run(data):
    r = run("view", "--data", data)
    assert r.exit_code == 0 and "jingce analyse region" in r.output


@pytest.mark.parametrize("args, field", [
    (["region", "--engine", "duckdb"], "JINGCE_ENGINE"),
    (["region", "--engine", "local", "--conf", "spark.x=1"], "--engine"),
    (["region", "--engine", "local[2]", "--conf", "novalue"], "--conf"),
    (["region", "--engine", "local", "--plan", "files"], "--engine"),
    (["region", "--engine", "local[2]", "--plan", "scatter"], "plan"),
    (["view", "--from", "March"], "--from"),
])
def test_bad_options_are_refused(data, args, field):
    r = run(*args, "--data", data)
    assert r.exit_code != 0
    assert isinstance(r.exception, InvalidInputError) and r.exception.details["field"] == field
