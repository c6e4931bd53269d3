"""Screenshots of the demo region for the README (docs/screenshots/), not a test.

Run the demo service first (``jingce demo --serve --port 8000``), then
``python -m tests.browser.demo_screenshots http://127.0.0.1:8000 docs/screenshots``.
Chinese pages need a CJK font on the machine (Debian: fonts-wqy-microhei).
"""

from __future__ import annotations

import sys
from pathlib import Path
from urllib.parse import urlencode

from playwright.sync_api import sync_playwright

PASSWORD = "jingce-demo"


def main(url: str, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium")

        def login(user: str, lang: str):
            page = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
            page.goto(f"{url}/login?lang={lang}")
            page.fill("input[name=username]", user)
            page.fill("input[name=password]", PASSWORD)
            page.click("#login-form button")
            page.wait_for_load_state("networkidle")
            return page

        def get(page, path: str):
            return page.evaluate("(u) => fetch(u).then(r => r.json())", path)

        def shot(page, name: str, path: str | None = None, ready: str | None = None, top: str | None = None) -> None:
            if path:
                page.goto(url + path)
            page.wait_for_load_state("networkidle")
            if ready:
                page.wait_for_selector(ready)
            if top:  # the part of a long page worth showing, at the top of the picture
                page.evaluate("(s) => document.querySelector(s).scrollIntoView()", top)
            page.wait_for_timeout(400)
            page.screenshot(path=str(out / f"{name}.png"))
            print(name, page.url)

        for lang in ("en", "zh"):
            page = login("ae-oem01", lang)
            if lang == "zh":
                dash = get(page, "/api/v1/dashboard/enterprise")
                worst = min(dash["characteristics"], key=lambda c: c["cpk"] if c["cpk"] is not None else 9)
                shot(page, "control-chart-zh", f"/characteristics/{worst['id']}", "#chart-page[data-loaded]")
                break
            shot(page, "dashboard")
            dash = get(page, "/api/v1/dashboard/enterprise")
            worst = min(dash["characteristics"], key=lambda c: c["cpk"] if c["cpk"] is not None else 9)
            shot(page, "control-chart", f"/characteristics/{worst['id']}", "#chart-page[data-loaded]")
            shot(page, "control-chart-xbar-s", f"/characteristics/{worst['id']}?chart=xbar_s&subgroup_size=5",
                 "#chart-page[data-loaded]")
            ent = next(e for e in get(page, "/api/v1/enterprises") if e["tenant_id"] == get(page, "/api/v1/auth/me")[
                "tenant_id"])
            for product in get(page, f"/api/v1/enterprises/{ent['id']}/products"):
                if get(page, f"/api/v1/products/{product['id']}/bom"):
                    char = get(page, f"/api/v1/products/{product['id']}/characteristics")[0]
                    serial = get(page, f"/api/v1/characteristics/{char['id']}/values?limit=1")["serial"][0]
                    shot(page, "lineage", f"/parts/{serial}")
                    break
            if dash["instruments_due"]:
                shot(page, "instrument", f"/instruments/{dash['instruments_due'][0]['id']}", "#instrument-page[data-chain]")
        page = login("regulator", "en")
        shot(page, "region", None, "#region-page[data-loaded]")
        region = get(page, "/api/v1/dashboard/region")
        biggest = max(region["enterprises"], key=lambda e: e["characteristics"])
        shot(page, "region-enterprise", f"/region/enterprises/{biggest['id']}", "#region-enterprise-page[data-loaded]")
        shot(page, "labs", "/labs")
        shot(page, "supervision", "/supervision")
        reports = get(page, "/api/v1/impact-reports")
        if reports:
            shot(page, "impact", f"/impact/{reports[0]['id']}")
        page = login("ae-oem01", "en")
        shot(page, "calibration", "/calibration")
        shot(page, "market", "/market")
        worst = get(page, "/api/v1/quality/worst?limit=1")["characteristics"]
        if worst:
            shot(page, "quality", f"/quality?characteristic={worst[0]['id']}", "#quality-page[data-loaded]", "#rc-result")
            first = get(page, f"/api/v1/characteristics/{worst[0]['id']}/values?limit=1")  # the trace of one value
            q = {"characteristic_id": worst[0]["id"], "serial": first["serial"][0], "at": first["time"][0]}
            shot(page, "trace", f"/trace?{urlencode(q)}")
        # the planner's story (a worn caliper) is in the first enterprise by code: the admin sees it
        page = login("admin", "en")
        worn = [i for i in get(page, "/api/v1/instruments") if i["code"].endswith("-CALIPER-OLD")]
        if worn:
            shot(page, "planner", f"/planner?enterprise_id={worn[0]['enterprise_id']}")
        browser.close()


if __name__ == "__main__":
    main(sys.argv[1].rstrip("/"), Path(sys.argv[2]))
