"""The supervision pages through the ASGI app: a lab applies, the regulator qualifies, publishes a
round, the lab submits, the regulator closes it (the round page draws the scores), findings are
raised, answered and closed; the lab directory marks states; both languages, CSRF, roles."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest

from tests.e2e.test_web_pages import CJK, login, page_csrf, world  # noqa: F401 - world is a fixture

pytestmark = pytest.mark.xdist_group("web_supervision")


def _post(c, url, data, page="/supervision"):
    csrf = page_csrf(c.get(page).text)
    return c.post(url, data=data | {"csrf": csrf}, follow_redirects=False)


def test_supervision_flow_through_the_pages(world):  # noqa: F811
    lab, reg, ent = login(world, "lab"), login(world, "reg"), login(world, "c")
    assert ent.get("/supervision").status_code == 403
    page = lab.get("/supervision")
    assert page.status_code == 200 and 'id="apply-form"' in page.text and "pending-table" not in page.text
    # no CSRF token: refused, nothing applied
    r = lab.post("/supervision/applications", data={"code": "LAB-W", "name": "web lab", "scope": "length,0,100,mm,0.001"},
                 follow_redirects=False)
    assert r.status_code == 403
    r = _post(lab, "/supervision/applications", {"code": "LAB-W", "name": "web lab",
                                                 "scope": "length, 0, 100, mm, 0.001, 0, 90\nmass, 0, 1, kg, 1e-6"})
    assert r.status_code == 303, r.text
    bad = _post(lab, "/supervision/applications", {"code": "LAB-V", "name": "bad", "scope": "length, 100, 0, mm, 0.001"})
    assert bad.status_code == 422 and "range_min" in bad.text
    new = world.store.get_lab(world.store.actor("reg"), code="LAB-W")
    assert new.qualification.value == "applied" and new.scope[0].price == 90
    assert 'data-lab="LAB-W"' not in ent.get("/labs").text  # applications are not in the enterprises' directory
    assert ent.get(f"/labs/{new.id}").status_code == 404
    # the regulator sees it among the applications, with buttons
    rp = reg.get("/supervision")
    pending = rp.text.split('id="pending-table"', 1)[1].split("</table>", 1)[0]
    assert 'data-lab="LAB-W"' in pending and 'data-decide="qualify"' in pending and 'data-decide="reject"' in pending
    admin = login(world, "admin")
    ap = admin.get("/supervision")
    assert ap.status_code == 200 and 'data-decide="qualify"' not in ap.text  # the admin sees, does not decide
    assert _post(admin, f"/supervision/labs/{new.id}/decide", {"action": "qualify"}).status_code == 403
    assert _post(reg, f"/supervision/labs/{new.id}/decide", {"action": "qualify"}).status_code == 303
    again = _post(reg, f"/supervision/labs/{new.id}/decide?lang=en", {"action": "qualify"})
    assert again.status_code == 409 and "cannot qualify a lab that is qualified" in again.text
    # a round: published, answered by the lab, closed and scored
    day = (dt.datetime.now(dt.UTC) + dt.timedelta(days=10)).date().isoformat()
    r = _post(reg, "/supervision/rounds", {"code": "PT-WEB", "title": "gauge block 25 mm", "quantity": "length",
                                           "unit": "mm", "artefact": "gauge block", "assigned_value": "25.0001",
                                           "assigned_uncertainty": "0.0002", "score_kind": "en", "deadline": day})
    assert r.status_code == 303
    rid = int(r.headers["location"].rsplit("/", 1)[1])
    lp = lab.get("/supervision").text
    assert 'data-submit="PT-WEB"' in lp and "25.0001" not in lp  # the assigned value stays hidden
    for lab_id, value, u in ((world.region.lab.id, "25.0003", "0.0006"), (new.id, "25.0031", "0.0004")):
        assert _post(lab if lab_id == world.region.lab.id else admin, f"/supervision/rounds/{rid}/results",
                     {"lab_id": str(lab_id), "value": value, "expanded_uncertainty": u}).status_code == 303
    assert _post(lab, f"/supervision/rounds/{rid}/close", {}).status_code == 403
    assert _post(reg, f"/supervision/rounds/{rid}/close", {}).status_code == 303
    rp = reg.get(f"/supervision/rounds/{rid}")
    assert rp.status_code == 200 and 'id="round-chart"' in rp.text and "/static/js/supervision.js" in rp.text
    chart = json.loads(re.search(r'id="round-chart-data">(.*?)</script>', rp.text, re.S).group(1))
    assert chart["band"] == 1.0 and dict(zip(chart["labs"], chart["evaluations"], strict=True)) == {
        "LAB": "satisfactory", "LAB-W": "unsatisfactory"}
    # E_n(LAB-W) = 0.0030 / sqrt(0.0004^2 + 0.0002^2) = 6.708; U 0.0004 < CMC 0.001: flagged
    assert 'data-flag="uncertainty_below_cmc"' in rp.text and "6.708" in rp.text
    assert ent.get(f"/supervision/rounds/{rid}").status_code == 403  # the page is for regulator and labs
    assert "pill" in ent.get("/labs").text and 'data-pt="satisfactory"' in ent.get("/labs").text
    # findings: raised, answered, closed
    assert _post(reg, f"/supervision/labs/{world.region.lab.id}/findings",
                 {"severity": "major", "clause": "17025 7.7", "description": "no PT plan", "due": day}).status_code == 303
    fid = world.store.list_findings(world.store.actor("reg"))[0].id
    assert f'data-answer="{fid}"' in lab.get("/supervision").text
    assert _post(lab, f"/supervision/findings/{fid}/answer", {"corrective_action": "PT plan 2027 adopted"}).status_code == 303
    assert _post(lab, f"/supervision/findings/{fid}/review", {"decision": "close"}).status_code == 403
    assert _post(reg, f"/supervision/findings/{fid}/review", {"decision": "close", "note": "ok"}).status_code == 303
    assert f'data-finding="{fid}" data-status="closed"' in reg.get("/supervision").text
    # the lab's own page shows its history; others see the state only
    mine = lab.get(f"/labs/{world.region.lab.id}").text
    assert 'id="history-table"' in mine
    assert 'id="history-table"' not in ent.get(f"/labs/{world.region.lab.id}").text


@pytest.mark.parametrize("url", ["/supervision", "/labs"])
def test_english_pages_have_no_chinese(world, url):  # noqa: F811
    for user in ("reg", "lab"):
        c = login(world, user)
        html = c.get(url + "?lang=en").text
        body = html.split("<main", 1)[1].split("</main>", 1)[0]
        # lab and enterprise names of the test world are ASCII; labels must be English
        assert not CJK.search(body), (user, url, CJK.findall(body)[:5])
