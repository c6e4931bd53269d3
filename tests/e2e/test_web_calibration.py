"""The calibration pages: management (/calibration), the uncertainty along an instrument's chain,
the trace of a measured value (/trace), running and reading an out-of-tolerance impact report."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from jingce.model import Calibration, Instrument
from jingce.web import create_service
from tests.browser.world import build_world
from tests.e2e.test_web_pages import CJK, _visible_text, login, login_csrf

pytestmark = pytest.mark.xdist_group("web_calibration")


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    w = build_world(tmp_path_factory.mktemp("webcal"))
    r = w.region
    for inst, no, month in ((r.gauge_c, "LAB-2026-200", 4), (r.gauge_x, "LAB-2026-201", 2)):
        w.store.add_calibration(r.admin, Calibration(
            instrument_id=inst.id, lab_id=r.lab.id, certificate_no=no, calibrated_at=dt.datetime(2026, month, 1,
                                                                                                 tzinfo=dt.UTC),
            valid_until=dt.datetime(2099, 1, 1, tzinfo=dt.UTC), expanded_uncertainty=0.001,
            standard_ids=(r.lab_std.id,)))
    old = w.store.add_instrument(r.admin, Instrument(tenant_id=r.tenants["C"].id, code="C-PLUG", name="plug gauge",
                                                     enterprise_id=r.ent["C"].id))
    w.store.add_calibration(r.admin, Calibration(
        instrument_id=old.id, lab_id=r.lab.id, certificate_no="LAB-2025-009",
        calibrated_at=dt.datetime(2025, 1, 1, tzinfo=dt.UTC), valid_until=dt.datetime(2025, 12, 31, tzinfo=dt.UTC),
        expanded_uncertainty=0.001, standard_ids=(r.lab_std.id,)))
    w.oot = w.store.add_calibration(r.admin, Calibration(
        instrument_id=r.lab_std.id, lab_id=r.nmi.id, certificate_no="NMI-2026-OOT",
        calibrated_at=dt.datetime(2026, 6, 1, tzinfo=dt.UTC), valid_until=dt.datetime(2099, 6, 1, tzinfo=dt.UTC),
        result="out_of_tolerance", error_as_found=0.004, expanded_uncertainty=0.00005,
        standard_ids=(r.national.id,)))
    w.app = create_service(w.settings, store=w.store)
    yield w
    w.store.close()


def test_calibration_page(world):
    c = login(world, "c")
    page = c.get("/calibration?lang=en")
    assert page.status_code == 200
    assert 'id="recall-chart"' in page.text and 'id="recall-data"' in page.text
    due = re.findall(r'<tr data-status="(\w+)">\s*<td><a href="/instruments/\d+">([^<]+)</a>', page.text)
    assert ("overdue", "C-PLUG") in due and "C-CMM" not in [d[1] for d in due]  # C-CMM is valid
    assert "X-MIC" not in page.text  # another tenant's instrument
    assert not CJK.search(_visible_text(page.text))
    assert CJK.search(_visible_text(c.get("/calibration?lang=zh").text))
    assert 'action="/calibration/dcc"' in login(world, "lab").get("/calibration").text  # labs import DCCs


def test_instrument_page_shows_the_uncertainty_along_the_chain(world):
    x = login(world, "x")
    page = x.get(f"/instruments/{world.region.gauge_x.id}?lang=en").text
    assert 'id="uncertainty-table"' in page
    assert 'href="/api/v1/calibrations/' in page  # DCC export of each calibration
    # u = 0.001/2 for the micrometer's link; the lab standard's calibration in force now found it out of
    # tolerance: the chain breaks there, and the page says why
    assert "0.0005" in page
    assert "Why it breaks" in page and "found it out of tolerance" in page


def test_trace_page(world):
    x = login(world, "x")
    page = x.get("/trace", params={"characteristic_id": world.other_char_id, "serial": "X1", "lang": "en"})
    assert page.status_code == 200
    assert "X-MIC" in page.text and 'id="uncertainty-table"' in page.text
    assert login(world, "c").get("/trace", params={"characteristic_id": world.other_char_id,
                                                    "serial": "X1"}).status_code == 404
    assert x.get("/trace").status_code == 200  # the empty form


def test_run_and_read_an_impact_report(world):
    r = world.region
    reg = login(world, "reg")
    resp = reg.post(f"/calibrations/{world.oot.id}/impact", data={"csrf": login_csrf(reg, "/calibration")},
                    follow_redirects=False)
    assert resp.status_code == 303, resp.text
    url = resp.headers["location"]
    assert re.fullmatch(r"/impact/\d+", url)
    whole = reg.get(url + "?lang=en").text
    assert "C-CMM" in whole and "X-MIC" in whole and not CJK.search(_visible_text(whole))
    x = login(world, "x")
    mine = x.get(url + "?lang=en").text
    assert "X Ltd" in mine and "C Ltd" not in mine  # X reads its own part only
    assert 'id="impact-values"' in mine
    # C was told too (its CMM was calibrated against the standard); S, with no instrument, was not
    assert login(world, "s").get(url).status_code == 404
    assert "NMI-2026-OOT" in login(world, "c").get("/notifications?lang=en").text
    # an enterprise may not run it; without the CSRF token nothing runs
    c = login(world, "c")
    assert c.post(f"/calibrations/{world.oot.id}/impact", data={"csrf": login_csrf(c, "/calibration")},
                  follow_redirects=False).status_code == 403
    before = len(world.store.impact_reports(r.admin))
    assert reg.post(f"/calibrations/{world.oot.id}/impact", data={"csrf": "nope"},
                    follow_redirects=False).status_code in (400, 403)
    assert len(world.store.impact_reports(r.admin)) == before
