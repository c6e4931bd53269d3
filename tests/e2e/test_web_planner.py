"""The precision planner page (/planner): roles, the table with lights and options, the scatter data."""

from __future__ import annotations

import json
import re

import pytest

from jingce.services import planner
from jingce.services.calculations.msa import _AIAG_GRR
from jingce.web import create_service
from tests.browser.world import build_world
from tests.e2e.test_web_pages import CJK, _visible_text, login

pytestmark = pytest.mark.xdist_group("web_planner")


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    w = build_world(tmp_path_factory.mktemp("webplanner"))
    r = w.region
    planner.record_gage_study(w.store, r.c, w.bore_id, r.gauge_c.id, "grr", {"readings": _AIAG_GRR})
    w.app = create_service(w.settings, store=w.store)
    yield w
    w.store.close()


def test_planner_page_shows_the_plan_of_the_users_enterprise(world):
    c = login(world, "c")
    page = c.get("/planner?lang=en")
    assert page.status_code == 200
    html = page.text
    assert "Precision planner" in html and 'id="planner-table"' in html
    rows = re.findall(r'<tr data-status="(\w+)" data-characteristic="(\d+)"', html)
    assert (("inadequate", str(world.bore_id)) in rows) and len(rows) == 2  # BORE and RUNOUT, not S's or X's
    assert "light-red" in html and "%GRR &gt; 30 %" in html
    assert not CJK.search(_visible_text(html))
    points = json.loads(re.search(r'id="planner-data">(.*?)</script>', html, re.S).group(1))
    assert all(set(p) == {"key", "tur", "risk", "status", "id"} for p in points)
    assert "X-MIC" not in html and "/static/js/planner.js" in html
    zh = c.get("/planner?lang=zh").text
    assert "精度规划" in zh and "最经济的可行方案" in zh


def test_planner_page_roles(world):
    for user in ("lab", "reg"):
        assert login(world, user).get("/planner").status_code == 403
    x = login(world, "x")
    html = x.get(f"/planner?enterprise_id={world.region.ent['C'].id}&lang=en").text  # not X's: its own shown
    assert "X Ltd" in html and "BORE" not in html
    admin = login(world, "admin")
    html = admin.get(f"/planner?enterprise_id={world.region.ent['C'].id}&lang=en").text
    assert 'name="enterprise_id"' in html and "BORE" in html
