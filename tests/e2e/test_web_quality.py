"""The quality root-cause page and the region pages' new indicators (through the ASGI app)."""

from __future__ import annotations

import re

import pytest

from jingce.web.i18n import TEXT
from tests.e2e.test_web_pages import CJK, WEB, _visible_text, login, world  # noqa: F401 - world is a fixture
from tests.integration.test_rootcause import build_chain

pytestmark = pytest.mark.xdist_group("web_pages")


@pytest.fixture(scope="module")
def chained(world):  # noqa: F811 - the shared module world, with the supply chain of the root-cause tests
    build_chain(world.region)
    return world


def test_quality_page_for_enterprises_regulator_and_admin_only(chained):
    runout = chained.region.runout.id
    for user in ("c", "reg", "admin"):
        r = login(chained, user).get(f"/quality?characteristic={runout}")
        assert r.status_code == 200, (user, r.text[:200])
        assert f'data-characteristic="{runout}"' in r.text and "/static/js/region_quality.js" in r.text
    assert login(chained, "lab").get("/quality", follow_redirects=False).status_code == 403
    assert login(chained, "c").get("/quality?characteristic=abc").status_code in (400, 422)


def test_quality_page_in_both_languages(chained):
    c = login(chained, "c")
    en = _visible_text(c.get("/quality?lang=en").text)
    assert "Quality root cause" in en and not CJK.search(en)
    assert "质量根因分析" in c.get("/quality?lang=zh").text
    for key in re.findall(r"t\('([a-z0-9_.]+)'", (WEB / "templates" / "quality.html").read_text()):
        assert key in TEXT, key
    for key in re.findall(r'T\("([a-z0-9_.]+)"\)', (WEB / "static" / "js" / "region_quality.js").read_text()):
        assert key in TEXT, key


def test_the_page_data_is_served_to_the_page(chained):
    c = login(chained, "c")
    d = c.get(f"/api/v1/characteristics/{chained.region.runout.id}/root-cause").json()
    assert d["candidates"][0]["code"] == "OD"
    worst = c.get("/api/v1/quality/worst?limit=30").json()["characteristics"]
    assert chained.region.runout.id in [w["id"] for w in worst]
    assert c.get("/static/js/region_quality.js").status_code == 200


def test_region_pages_show_the_new_indicators_and_link_to_root_cause(chained):
    reg = login(chained, "reg")
    page = reg.get("/region?lang=en").text
    assert "Traceability coverage" in page and 'id="nonconforming-table"' in page and 'id="proficiency"' in page
    js = reg.get("/static/js/region.js").text
    assert "/quality?characteristic=" in js and "traceability_coverage" in js
    ent = reg.get(f"/region/enterprises/{chained.region.ent['C'].id}")
    assert ent.status_code == 200
    assert login(chained, "c").get("/region", follow_redirects=False).status_code == 403
