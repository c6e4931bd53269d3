"""The market pages: a manufacturer posts a need and orders from a ranked lab, the lab accepts and
delivers through its forms, the order page shows the delivery and links its traceability."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from tests.e2e.test_web_pages import CJK, _visible_text, login, page_csrf, world  # noqa: F401

pytestmark = pytest.mark.xdist_group("web_market")
DEADLINE = (dt.date.today() + dt.timedelta(days=14)).isoformat()


def _post_need(c, w, **over):
    page = c.get("/market")
    data = {"csrf": page_csrf(page.text), "kind": "measurement", "characteristic_id": str(w.bore_id),
            "serials": "B000001, B000002", "decision_rule": "simple", "deadline": DEADLINE, "location": "Harbin"} | over
    return c.post("/market/requests", data=data, follow_redirects=False)


def test_manufacturer_posts_orders_lab_accepts_and_delivers(world):  # noqa: F811
    r = world.region
    c = login(world, "c")
    resp = _post_need(c, world)
    assert resp.status_code == 303 and resp.headers["location"].startswith("/market#need-")
    need_id = int(resp.headers["location"].rsplit("-", 1)[1])
    page = c.get("/market?lang=en").text
    block = page[page.index(f'id="ranking-{need_id}"'):]
    block = block[:block.index('class="ranking"', 10)] if block.count('class="ranking"') > 1 else block
    assert 'data-lab="LAB"' in block.split("excluded-table")[0]
    assert "scope has no length" in block.split("excluded-table")[1]  # the NMI publishes no length scope
    assert "TUR" in block and "Z540.3" in block
    assert not CJK.search(_visible_text(page))
    assert "能力范围中没有 length" in c.get("/market?lang=zh").text
    order = c.post(f"/market/requests/{need_id}/order", data={"csrf": page_csrf(page), "lab_id": str(r.lab.id)},
                   follow_redirects=False)
    assert order.status_code == 303
    order_url = order.headers["location"]
    assert c.get(order_url).status_code == 200

    lab = login(world, "lab")
    lab_page = lab.get("/market").text
    assert order_url in lab_page and f'id="need-{need_id}"' not in lab_page  # orders only, no needs table
    assert lab.post(order_url + "/accept", data={"csrf": page_csrf(lab_page)}, follow_redirects=False).status_code == 303
    form_page = lab.get(order_url).text
    assert 'id="deliver"' in form_page
    done = lab.post(order_url + "/deliver", data={"csrf": page_csrf(form_page), "certificate_no": "WEB-1",
                                                  "instrument_id": str(r.lab_std.id),
                                                  "values": "B000001 20.004\nB000002 19.998\n"},
                    follow_redirects=False)
    assert done.status_code == 303, done.text
    shown = c.get(order_url + "?lang=en").text
    assert "WEB-1" in shown and f'href="/instruments/{r.lab_std.id}"' in shown
    values = re.findall(r"<td>(B00000\d)</td><td class=\"r num\">([0-9.]+)</td>", shown)
    assert values == [("B000001", "20.004"), ("B000002", "19.998")]
    # delivering again through the form lands nothing twice
    again = lab.post(order_url + "/deliver", data={"csrf": page_csrf(form_page), "certificate_no": "WEB-1",
                                                   "instrument_id": str(r.lab_std.id),
                                                   "values": "B000001 20.004\nB000002 19.998\n"},
                     follow_redirects=False)
    assert again.status_code in (303, 409)

    assert login(world, "x").get(order_url).status_code == 404
    reg = login(world, "reg")
    reg_page = reg.get("/market").text
    assert 'id="market-overview"' in reg_page and 'id="post-need"' not in reg_page
    reg_order = reg.get(order_url).text
    assert "WEB-1" in reg_order and 'id="value-table"' not in reg_order  # no raw values for the regulator


def test_bad_need_from_the_form_is_refused_with_the_field(world):  # noqa: F811
    c = login(world, "c")
    r = _post_need(c, world, range_min="30", range_max="10")
    assert r.status_code == 422 and "range_min" in r.text
    r = _post_need(c, world, deadline="2020-01-01")
    assert r.status_code == 422 and "deadline" in r.text
    r = _post_need(c, world, unit="bogus_unit_zz")
    assert r.status_code == 422 and "unit" in r.text


def test_lab_cannot_post_and_other_roles_see_their_view(world):  # noqa: F811
    lab = login(world, "lab")
    page = lab.get("/market").text
    assert 'id="post-need"' not in page
    r = lab.post("/market/requests", data={"csrf": page_csrf(page), "kind": "measurement", "deadline": DEADLINE})
    assert r.status_code == 403
    assert login(world, "admin").get("/market").status_code == 200
