"""The pages in a real browser: each role logs in through the form, the control chart draws the
right points and limits (read back from the ECharts instance), the language switches, and
screenshots are saved.

The limits are checked against the API's numbers and against an independent computation from the
values the test ingested (I-MR: CL = mean, UCL/LCL = mean ± 3·MR̄/d2 with d2 = 2/√π;
X̄-R: X̄̄ ± 3·R̄/(d2(5)·√5) with d2(5) = 2.325929, Montgomery, Introduction to Statistical Quality
Control, 7th ed., Appendix VI); 1e-8 absolute on values near 20 mm (d2(5) is tabulated to 7
digits)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from jingce.model import Role
from jingce.web import session
from tests.browser.conftest import LONG_POINTS
from tests.browser.world import ALARMS, BORE_N, series

OPTION = "(id) => echarts.getInstanceByDom(document.getElementById(id)).getOption()"


def chart_option(page, element_id: str) -> dict:
    return page.evaluate(OPTION, element_id)


def open_chart(page, service, characteristic_id: int, query: str = "") -> dict:
    page.goto(f"{service.url}/characteristics/{characteristic_id}{query}")
    page.wait_for_selector("#chart-page[data-loaded=true]", timeout=30_000)
    return chart_option(page, "control-chart")


def mark_lines(series: dict) -> dict[str, float]:
    return {d["name"]: d["yAxis"] for d in series["markLine"]["data"]}


def api_json(page, url: str) -> dict:
    return page.evaluate("(u) => fetch(u, {credentials: 'same-origin'}).then(r => r.json())", url)


ROLES = {"c": Role.ENTERPRISE_ADMIN, "s": Role.ENTERPRISE_USER, "lab": Role.LAB, "reg": Role.REGULATOR,
         "admin": Role.ADMIN}
NAV = {user: [name for name, _, _ in session.NAV if role in session.PAGE_ROLES[name]] for user, role in ROLES.items()}
"""Each user's navigation, in order: the pages of :data:`jingce.web.session.PAGE_ROLES` its role may open."""
HOME = {"c": "/dashboard", "s": "/dashboard", "lab": "/instruments", "reg": "/region", "admin": "/region"}


@pytest.mark.parametrize("user", list(NAV))
def test_each_role_logs_in_and_sees_its_navigation(login, service, shots, user):
    page = login(user)
    assert page.url.split("?")[0].endswith(HOME[user])
    nav = page.eval_on_selector_all(".mainnav a", "els => els.map(e => e.dataset.nav)")
    assert nav == NAV[user]
    shots(page, f"home-{user}")
    if "region" not in nav:
        page.goto(f"{service.url}/region")
        assert page.locator(".error-status").inner_text() == "403"
    assert not page.js_errors


def test_control_chart_draws_every_point_and_the_limits(login, service, world, shots):
    page = login("c")
    opt = open_chart(page, service, world.bore_id, "?lang=en")
    api = api_json(page, f"/api/v1/characteristics/{world.bore_id}/chart")
    x = series(BORE_N, shift_from=440)
    individuals, moving_range = opt["series"][0], opt["series"][2]
    assert len(individuals["data"]) == BORE_N and len(moving_range["data"]) == BORE_N
    assert individuals["data"][:3] == pytest.approx(x[:3].tolist(), abs=1e-12)
    mr_bar = np.abs(np.diff(x)).mean()
    d2 = 2 / math.sqrt(math.pi)
    lines = mark_lines(individuals)
    assert lines["CL"] == pytest.approx(x.mean(), abs=1e-8)
    assert lines["UCL"] == pytest.approx(x.mean() + 3 * mr_bar / d2, abs=1e-8)
    assert lines["LCL"] == pytest.approx(x.mean() - 3 * mr_bar / d2, abs=1e-8)
    assert lines == {"CL": api["panels"][0]["center"], "UCL": api["panels"][0]["ucl"],
                     "LCL": api["panels"][0]["lcl"]}
    assert mark_lines(moving_range)["UCL"] == pytest.approx(api["panels"][1]["ucl"], abs=0)
    # rule violations: red points exactly where the API found them (the shift at 440 gives many)
    red = opt["series"][1]
    assert red["type"] == "scatter" and red["itemStyle"]["color"] == "#c62828"
    flagged = [v["index"] for v in api["panels"][0]["violations"]]
    assert len(flagged) > 20 and sum(i >= 440 for i in flagged) > 20
    assert [p[0] for p in red["data"]] == flagged
    assert page.locator("#violations-table tbody tr").count() == len(flagged) + len(api["panels"][1]["violations"])
    # capability: histogram with the specification limits, indices with confidence intervals
    hist = chart_option(page, "histogram")
    assert len(hist["series"][0]["data"]) == len(api["capability"]["histogram"]["counts"])
    spec = {d["name"]: d["xAxis"] for d in hist["series"][0]["markLine"]["data"]}
    assert spec["LSL"] == 19.97 and spec["USL"] == 20.03
    assert len(hist["series"][1]["data"]) == len(api["capability"]["density"]["x"])
    cpk = page.locator('#capability-table td[data-index="Cpk"]').inner_text()
    assert cpk == f"{api['capability']['cpk']:.2f}"
    lo, hi = api["capability"]["cpk_ci"]
    assert f"[{lo:.2f}, {hi:.2f}]" in page.locator("#capability-table").inner_text()
    shots(page, "control-chart-imr")
    # X-bar/R with subgroups of five: 100 means, limits from R-bar
    page.select_option("#chart-form select[name=chart]", "xbar_r")
    page.fill("#chart-form input[name=subgroup_size]", "5")
    page.evaluate("() => { document.getElementById('chart-page').dataset.loaded = ''; }")
    page.click("#chart-form button[type=submit]")
    page.wait_for_selector("#chart-page[data-loaded=true]")
    opt = chart_option(page, "control-chart")
    xs = x.reshape(-1, 5)
    r_bar = (xs.max(axis=1) - xs.min(axis=1)).mean()
    assert len(opt["series"][0]["data"]) == BORE_N // 5
    assert mark_lines(opt["series"][0])["UCL"] == pytest.approx(xs.mean() + 3 * r_bar / (2.325929 * math.sqrt(5)),
                                                                abs=1e-8)
    assert "chart=xbar_r" in page.url
    shots(page, "control-chart-xbar-r")
    assert not page.js_errors


def test_a_long_series_keeps_all_points_and_zooms(login, service, world, shots):
    page = login("c")
    page.goto(f"{service.url}/characteristics/{world.long_id}")
    page.wait_for_selector("#chart-page[data-loaded=true]", timeout=30_000)
    opt = page.evaluate("""() => {  // the option without its 200,000 values (they stay in the browser)
        const o = echarts.getInstanceByDom(document.getElementById('control-chart')).getOption();
        return {lengths: o.series.map(s => s.data.length), sampling: o.series[0].sampling,
                showSymbol: o.series[0].showSymbol, dataZoom: o.dataZoom}; }""")
    assert opt["lengths"][0] == LONG_POINTS and opt["lengths"][2] == LONG_POINTS
    assert opt["sampling"] == "lttb" and opt["showSymbol"] is False
    zoom = opt["dataZoom"]
    assert {z["type"] for z in zoom} == {"inside", "slider"} and all(z["xAxisIndex"] == [0, 1] for z in zoom)
    assert zoom[0]["startValue"] == LONG_POINTS - 5000
    page.evaluate("""() => { const c = echarts.getInstanceByDom(document.getElementById('control-chart'));
        for (let i = 0; i < 20; i++) c.dispatchAction({type: 'dataZoom', start: i * 2, end: 100 - i * 2}); }""")
    after = page.evaluate("() => echarts.getInstanceByDom(document.getElementById('control-chart'))"
                          ".getOption().dataZoom[0]")
    assert after["start"] == pytest.approx(38) and after["end"] == pytest.approx(62)
    shots(page, "control-chart-100k", full_page=False)
    assert not page.js_errors


def test_language_switch_changes_the_page(login, service, world, shots):
    page = login("c", lang="en")
    page.goto(f"{service.url}/characteristics/{world.bore_id}")
    page.wait_for_selector("#chart-page[data-loaded=true]")
    assert page.get_attribute("html", "lang") == "en"
    assert page.locator(".mainnav a.active").inner_text() == "Dashboard"
    assert page.locator("#chart-heading").inner_text().startswith("Control chart and capability")
    with page.expect_navigation():
        page.click("#lang-switch")
    page.wait_for_selector("#chart-page[data-loaded=true]")
    assert page.get_attribute("html", "lang") == "zh-CN"
    assert page.locator(".mainnav a.active").inner_text() == "企业看板"
    assert page.locator("#chart-heading").inner_text().startswith("控制图与过程能力")
    shots(page, "control-chart-zh")
    page.goto(f"{service.url}/labs")  # the choice is remembered
    assert page.locator("h1").inner_text() == "实验室名录"
    with page.expect_navigation():
        page.click("#lang-switch")
    assert page.locator("h1").inner_text() == "Lab directory"


def test_enterprise_dashboard_lights_alarms_and_due_instruments(login, service, world, shots):
    page = login("c")
    page.wait_for_selector("#char-table tbody tr[data-characteristic]")
    rows = page.locator("#char-table tbody tr[data-characteristic]")
    lights = dict(zip(rows.evaluate_all("els => els.map(e => e.cells[1].innerText)"),
                      rows.evaluate_all("els => els.map(e => e.querySelector('[data-light]').dataset.light)"),
                      strict=True))
    assert lights["BORE"] == "green" and lights["RUNOUT"] == "grey"  # 3 values are too few to judge
    assert page.locator("#due-table").inner_text().count("C-CMM") == 1
    assert "overdue" in page.locator("#due-table").inner_text()
    assert page.locator("#alarm-table tbody tr[data-alarm]").count() == ALARMS
    assert page.locator("#kpi-alarms").inner_text() == str(ALARMS)
    shots(page, "dashboard")
    # sorting by a column, then acknowledging an alarm (a POST with the page's CSRF token)
    codes = rows.evaluate_all("els => els.map(e => e.cells[1].innerText)")
    page.click("#char-table th:nth-child(2)")
    assert rows.evaluate_all("els => els.map(e => e.cells[1].innerText)") == sorted(codes, key=str.lower)
    page.click("#char-table th:nth-child(2)")
    assert rows.evaluate_all("els => els.map(e => e.cells[1].innerText)") == sorted(codes, key=str.lower)[::-1]
    page.click("#alarm-table button[data-ack] >> nth=0")
    page.wait_for_function(f"() => document.querySelectorAll('#alarm-table tr[data-alarm]').length == {ALARMS - 1}")
    assert page.locator("#kpi-alarms").inner_text() == str(ALARMS - 1)
    page.reload()
    page.wait_for_selector("#char-table tbody tr[data-characteristic]")
    assert page.locator("#alarm-table tbody tr[data-alarm]").count() == ALARMS - 1
    page.click("#char-table a:text('BORE')")
    page.wait_for_selector("#chart-page[data-loaded=true]")
    assert not page.js_errors


def test_instrument_page_draws_the_chain_to_the_national_standard(login, service, world, shots):
    page = login("c")
    page.goto(f"{service.url}/instruments/{world.region.gauge_c.id}")
    page.wait_for_selector("#instrument-page[data-chain]")
    assert page.get_attribute("#instrument-page", "data-chain") == "broken"  # the CMM's calibration expired
    graph = chart_option(page, "chain-graph")["series"][0]
    names = {n["id"] for n in graph["data"] if not n["id"].startswith("anchor")}
    r = world.region
    assert names == {str(r.gauge_c.id), str(r.lab_std.id), str(r.national.id), "SI"}
    links = {(x["source"], x["target"]): x["lineStyle"] for x in graph["links"]}
    expired = links[(str(r.gauge_c.id), str(r.lab_std.id))]
    assert expired["color"] == "#c62828" and expired["type"] == "dashed"
    assert links[(str(r.lab_std.id), str(r.national.id))]["color"] != "#c62828"
    assert "LAB-2025-117" in page.locator("#calibration-table").inner_text()
    shots(page, "instrument")
    assert not page.js_errors


def test_lineage_and_labs(login, service, shots):
    page = login("c")
    page.goto(f"{service.url}/parts")
    page.fill("#parts-form input[name=serial]", "A1")
    page.click("#parts-form button[type=submit]")
    page.wait_for_selector("#lineage-tree")
    assert page.locator("#lineage-tree .tree-serial").all_inner_texts() == ["A1", "R0", "R1"]
    shots(page, "lineage")
    page.goto(f"{service.url}/labs")
    assert "length · 0–500 mm" in page.locator("#lab-table").inner_text()
    shots(page, "labs")


def test_regulator_dashboard_and_drill_down(login, service, world, shots):
    page = login("reg")
    page.wait_for_selector("#region-page[data-loaded=true]")
    cpk = chart_option(page, "cpk-chart")
    assert cpk["yAxis"][0]["data"] == ["bearings"]
    api = api_json(page, "/api/v1/dashboard/region")
    stacked = {s["name"]: s["data"][0] for s in cpk["series"]}
    assert stacked == {f"Cpk {k}": v for k, v in api["chains"][0]["cpk_classes"].items()}
    rates = chart_option(page, "rate-chart")["series"]
    assert rates[1]["data"][0] == pytest.approx(100 * api["chains"][0]["calibration_compliance"])
    assert page.locator("#enterprise-table tbody tr").count() == 3
    bars = page.locator("#enterprise-table .dist-bar-mini")
    assert bars.count() == 3
    page.click("#enterprise-table th:nth-child(5)")  # out-of-control rate, ascending
    page.click("#enterprise-table th:nth-child(5)")  # descending: C (with the shifted BORE) first
    assert page.locator("#enterprise-table tbody tr >> nth=0").inner_text().startswith("C")
    shots(page, "region")
    page.click(f"#enterprise-table a[href='/region/enterprises/{world.region.ent['C'].id}']")
    page.wait_for_selector("#region-enterprise-page[data-loaded=true]")
    assert "BORE" in page.locator("#summary-table").inner_text()
    shots(page, "region-enterprise")
    # a period (local days of the sites; the end date included): May 1st in Shanghai holds the first
    # 16 hours of BORE, 192 values every 5 minutes
    page.goto(f"{service.url}/region")
    page.wait_for_selector("#region-page[data-loaded=true]")  # the first load is done: no race with ours
    page.fill("#region-form input[name=start]", "2026-05-01")
    page.fill("#region-form input[name=end]", "2026-05-01")
    page.evaluate("() => { document.getElementById('region-page').dataset.loaded = ''; }")
    page.click("#region-form button[type=submit]")
    page.wait_for_selector("#region-page[data-loaded=true]")
    link = page.locator(f"#enterprise-table a[href^='/region/enterprises/{world.region.ent['C'].id}']")
    assert link.get_attribute("href").endswith("?start=2026-05-01&end=2026-05-02")
    link.click()
    page.wait_for_selector("#region-enterprise-page[data-loaded=true]")
    rows = page.locator("#summary-table tbody tr").evaluate_all(
        "els => Object.fromEntries(els.map(e => [e.cells[1].innerText, e.cells[4].innerText]))")
    assert rows["BORE"] == "192"
    assert "2026-05-01" in page.locator(".subtitle").inner_text()
    assert not page.js_errors


def test_date_range_and_an_empty_period(login, service, world):
    page = login("c")
    opt = open_chart(page, service, world.bore_id, "?start=2031-01-01&end=2031-02-01")
    assert [len(x["data"]) for x in opt["series"]] == [0, 0, 0, 0]
    assert "No measurements in this period" in page.locator("#violations-table").inner_text()
    # one UTC day: values every 5 minutes from 2026-05-01 00:00, the end date included whole
    opt = open_chart(page, service, world.bore_id, "?start=2026-05-01&end=2026-05-01")
    assert len(opt["series"][0]["data"]) == 24 * 12
    assert not page.js_errors


def test_pages_run_under_the_content_security_policy(login, service, world):
    page = login("admin")
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    for path, ready in ((f"/characteristics/{world.bore_id}", "#chart-page[data-loaded=true]"),
                        ("/dashboard", "#char-table tbody tr[data-characteristic]"),
                        (f"/instruments/{world.region.gauge_c.id}", "#instrument-page[data-chain]"),
                        ("/region", "#region-page[data-loaded=true]")):
        response = page.goto(service.url + path)
        assert "script-src 'self'" in response.headers["content-security-policy"]
        page.wait_for_selector(ready)
    page.goto(service.url + "/dashboard")
    page.select_option("select[name=enterprise_id]", str(world.region.ent["S"].id))  # the autosubmit script
    page.wait_for_url(f"**/dashboard?enterprise_id={world.region.ent['S'].id}")
    assert not violations and not page.js_errors
