"""The web pages through the ASGI app: roles, login/logout forms with CSRF, languages, tenancy."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from jingce.api.security import LoginLimiter
from jingce.model import CalibrationResult, InstrumentKind, LabLevel, QualificationState, Role
from jingce.web import create_service, session
from jingce.web.i18n import TEXT
from tests.browser.world import PASSWORD, build_world

pytestmark = pytest.mark.xdist_group("web_pages")  # one module world under -n --dist loadgroup
WEB = Path(__file__).resolve().parents[2] / "src" / "jingce" / "web"
CJK = re.compile(r"[\u3400-\u9fff\uff00-\uffef\u3000-\u303f]")


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    w = build_world(tmp_path_factory.mktemp("web"))
    w.app = create_service(w.settings, store=w.store)
    yield w
    w.store.close()


def login_csrf(c: TestClient, url: str = "/login") -> str:
    page = c.get(url)
    assert page.status_code == 200
    return re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)


def login(world, user: str) -> TestClient:
    c = TestClient(world.app)
    r = c.post("/login", data={"username": user, "password": PASSWORD, "csrf": login_csrf(c)},
               follow_redirects=False)
    assert r.status_code == 303, r.text
    return c


def page_csrf(html: str) -> str:
    return re.search(r'<meta name="csrf-token" content="([^"]+)"', html).group(1)


def _pages(w) -> dict[str, str]:
    r = w.region
    return {
        "dashboard": "/dashboard", "chart": f"/characteristics/{w.bore_id}", "parts": "/parts",
        "lineage": "/parts/A1", "instruments": "/instruments", "instrument": f"/instruments/{r.gauge_c.id}",
        "labs": "/labs", "lab": f"/labs/{r.lab.id}", "region": "/region",
        "region_enterprise": f"/region/enterprises/{r.ent['C'].id}",
    }


ALLOWED = {
    "c": {"dashboard", "chart", "parts", "lineage", "instruments", "instrument", "labs", "lab"},
    "lab": {"instruments", "labs", "lab"},
    "reg": {"instruments", "instrument", "labs", "lab", "region", "region_enterprise"},
    "admin": {"dashboard", "chart", "parts", "lineage", "instruments", "instrument", "labs", "lab", "region",
              "region_enterprise"},
}
ROLES = {"c": Role.ENTERPRISE_ADMIN, "lab": Role.LAB, "reg": Role.REGULATOR, "admin": Role.ADMIN}
NAV = {user: {name for name, _, _ in session.NAV if role in session.PAGE_ROLES[name]} for user, role in ROLES.items()}
"""The navigation each user sees: the pages of :data:`jingce.web.session.PAGE_ROLES` its role may open."""


@pytest.mark.parametrize("user", sorted(ALLOWED))
def test_every_page_renders_for_its_roles_and_is_refused_to_others(world, user):
    c = login(world, user)
    for name, url in _pages(world).items():
        r = c.get(url, follow_redirects=False)
        if name in ALLOWED[user]:
            assert r.status_code == 200, (user, url, r.text[:300])
            assert r.headers["content-type"].startswith("text/html")
            assert set(re.findall(r'data-nav="(\w+)"', r.text)) == NAV[user], (user, url)
        elif name == "instrument" and user == "lab":
            assert r.status_code == 404  # the lab does not see the customer's CMM at all
        else:
            assert r.status_code == 403, (user, url, r.status_code)
            assert "<html" in r.text and "403" in r.text


def test_enterprise_user_sees_own_dashboard_and_never_the_regulator_page(world):
    c = login(world, "s")
    r = c.get("/dashboard")
    assert r.status_code == 200 and "S Ltd" in r.text and "/region" not in r.text
    assert c.get("/region").status_code == 403
    assert c.get(f"/region/enterprises/{world.region.ent['S'].id}").status_code == 403
    assert c.get("/api/v1/dashboard/region").status_code == 403  # and the API behind it refuses too


def test_start_page_follows_the_role(world):
    homes = {"c": "/dashboard", "lab": "/instruments", "reg": "/region", "admin": "/region"}
    for user, home in homes.items():
        assert login(world, user).get("/", follow_redirects=False).headers["location"] == home


def test_without_session_pages_redirect_to_login_and_api_stays_json(world):
    c = TestClient(world.app)
    for url in ("/", "/dashboard", f"/characteristics/{world.bore_id}?chart=imr", "/region"):
        r = c.get(url, follow_redirects=False)
        assert r.status_code == 303, url
        assert r.headers["location"].startswith("/login?next=%2F")
    api = c.get("/api/v1/enterprises")
    assert api.status_code == 401 and api.json()["error"]["code"] == "unauthenticated"
    forged = TestClient(world.app, cookies={"jingce_session": "forged.token"})
    assert forged.get("/dashboard", follow_redirects=False).status_code == 303


def test_login_form_needs_its_csrf_token(world):
    c = TestClient(world.app)
    r = c.post("/login", data={"username": "c", "password": PASSWORD}, follow_redirects=False)
    assert r.status_code == 403 and "jingce_session" not in r.cookies
    login_csrf(c)
    r = c.post("/login", data={"username": "c", "password": PASSWORD, "csrf": "0" * 64}, follow_redirects=False)
    assert r.status_code == 403 and "jingce_session" not in r.cookies
    other = TestClient(world.app)  # a token from another browser's form does not fit this one's nonce
    token = login_csrf(other)
    fresh = TestClient(world.app)
    login_csrf(fresh)
    r = fresh.post("/login", data={"username": "c", "password": PASSWORD, "csrf": token}, follow_redirects=False)
    assert r.status_code == 403


def test_login_sets_an_httponly_lax_session_and_only_local_next(world):
    c = TestClient(world.app)
    token = login_csrf(c, "/login?next=/labs")
    r = c.post("/login", data={"username": "c", "password": PASSWORD, "csrf": token, "next": "/labs"},
               follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/labs"
    cookie = next(v for k, v in r.headers.multi_items() if k == "set-cookie" and v.startswith("jingce_session="))
    assert "HttpOnly" in cookie and "samesite=lax" in cookie.lower()
    assert c.get("/api/v1/auth/me").json()["username"] == "c"  # the same session serves the API
    c2 = TestClient(world.app)
    r = c2.post("/login", data={"username": "c", "password": PASSWORD, "csrf": login_csrf(c2),
                                "next": "//evil.example/x"}, follow_redirects=False)
    assert r.headers["location"] == "/dashboard"


def test_wrong_password_is_refused_in_both_languages_and_rate_limited(world):
    world.app.state.login_limiter = LoginLimiter()  # a fresh one: other tests log in from the same address
    c = TestClient(world.app)
    r = c.post("/login", data={"username": "c", "password": "wrong password", "csrf": login_csrf(c)})
    assert r.status_code == 401 and "用户名或密码错误" in r.text and "jingce_session" not in r.cookies
    r = c.post("/login?lang=en", data={"username": "c", "password": "wrong password", "csrf": login_csrf(c)})
    assert r.status_code == 401 and "Wrong user name or password" in r.text
    r = c.post("/login", data={"username": "nobody", "password": "wrong password", "csrf": login_csrf(c)})
    assert r.status_code == 401 and "Wrong user name or password" in r.text  # the language cookie holds
    for _ in range(3):
        c.post("/login", data={"username": "c", "password": "wrong password", "csrf": login_csrf(c)})
    r = c.post("/login", data={"username": "c", "password": PASSWORD, "csrf": login_csrf(c)},
               follow_redirects=False)
    assert r.status_code == 429 and "Too many failed logins" in r.text and "jingce_session" not in r.cookies
    world.app.state.login_limiter = LoginLimiter()


def test_logout_needs_the_session_csrf_token(world):
    c = login(world, "c")
    html = c.get("/labs").text
    assert c.post("/logout", data={}, follow_redirects=False).status_code == 403
    assert c.post("/logout", data={"csrf": "f" * 64}, follow_redirects=False).status_code == 403
    assert c.get("/labs").status_code == 200  # still logged in
    r = c.post("/logout", data={"csrf": page_csrf(html)}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    assert c.get("/labs", follow_redirects=False).status_code == 303


def test_the_page_csrf_token_works_for_the_api(world):
    c = login(world, "c")
    token = page_csrf(c.get("/dashboard").text)
    assert c.post("/api/v1/alarms/999999/acknowledge").status_code == 403
    assert c.post("/api/v1/alarms/999999/acknowledge", headers={"X-CSRF-Token": token}).status_code == 404


def test_language_switch(world):
    c = login(world, "c")
    zh = c.get("/labs")
    assert '<html lang="zh-CN">' in zh.text and "实验室名录" in zh.text and "Lab directory" not in zh.text
    en = c.get("/labs?lang=en")
    assert '<html lang="en">' in en.text and "Lab directory" in en.text and "实验室名录" not in en.text
    assert "jingce_lang=en" in en.headers["set-cookie"]
    assert '<html lang="en">' in c.get("/labs").text  # remembered
    assert 'href="/labs?lang=zh"' in c.get("/labs").text  # the switch leads back
    assert "实验室名录" in c.get("/labs?lang=zh").text
    assert "Lab directory" not in c.get("/labs?lang=xx").text  # unknown language: the default, Chinese


def _visible_text(html: str) -> str:
    html = re.sub(r"<script.*?</script>", " ", html, flags=re.S)
    html = re.sub(r'<a class="lang-switch".*?</a>', " ", html, flags=re.S)  # "中文" on the English pages
    return re.sub(r"<[^>]+>", " ", html)


def test_every_label_exists_in_both_languages(world):
    used = set()
    for path in (WEB / "templates").glob("*.html"):
        used |= set(re.findall(r"t\('([a-z0-9_.]+)'", path.read_text()))
    dynamic = {k for k in used if k.endswith(".")}  # t('kind.' ~ value): every value of the enum
    assert {"kind.", "level.", "link.", "qual.", "result.", "role."} <= dynamic
    for prefix in dynamic:  # the pages' own enumerations (notif.kind. ...) at least exist
        assert any(k.startswith(prefix) for k in TEXT), prefix
    assert used - dynamic <= set(TEXT), used - dynamic - set(TEXT)
    for prefix, values in (("kind.", InstrumentKind), ("level.", LabLevel), ("qual.", QualificationState),
                           ("result.", CalibrationResult), ("role.", Role),
                           ("link.", ("ok", "expired", "out_of_tolerance", "missing", "cycle"))):
        for v in values:
            assert prefix + str(v) in TEXT, prefix + str(v)
    for key, (zh, en) in TEXT.items():
        assert zh.strip() and en.strip(), key
        assert key == "lang.switch" or not CJK.search(en), key  # the switch names the other language
    c = login(world, "admin")
    for url in _pages(world).values():
        en = _visible_text(c.get(url + ("&" if "?" in url else "?") + "lang=en").text)
        assert not CJK.search(en), (url, CJK.findall(en)[:10])
        zh = _visible_text(c.get(url + "?lang=zh").text)
        assert CJK.search(zh), url
    for bundle_key in re.findall(r'T\("([a-z0-9_.]+)"\)', "".join(
            p.read_text() for p in (WEB / "static" / "js").glob("*.js"))):
        assert bundle_key in TEXT, bundle_key


def test_other_tenants_page_urls_give_404(world):
    r, c = world.region, login(world, "c")
    for url in (f"/characteristics/{world.other_char_id}", f"/instruments/{r.gauge_x.id}", "/parts/X1",
                f"/dashboard?enterprise_id={r.ent['X'].id}", f"/dashboard?enterprise_id={r.ent['S'].id}",
                "/labs/999999", "/characteristics/999999", "/instruments/999999"):
        resp = c.get(url)
        assert resp.status_code == 404, url
        assert "<html" in resp.text and "X Ltd" not in resp.text and "micrometer" not in resp.text
    x = login(world, "x")
    for url in (f"/characteristics/{world.bore_id}", f"/instruments/{r.gauge_c.id}", "/parts/A1"):
        assert x.get(url).status_code == 404, url
    assert "X Ltd" in x.get("/dashboard").text
    # shared data stays visible: C follows its assembly into the supplier's rings
    lineage = c.get("/parts/A1").text
    assert "R0" in lineage and "R1" in lineage and "S" in lineage


def test_lineage_shows_each_components_measurements_and_conformity(world):
    c = login(world, "c")
    html = c.get("/parts/A1?lang=en").text
    tree = re.search(r'<ul class="tree" id="lineage-tree">(.*?)</ul>', html, re.S).group(1)
    assert [s for s in re.findall(r'class="tree-serial">(\w+)<', tree)] == ["A1", "R0", "R1"]
    assert html.count("part-card") == 3 and "RUNOUT" in html and "OD" in html and "ID" in html
    assert "≤ 0.05" in html  # a one-sided tolerance
    ambiguous = c.get("/parts/NOPE")
    assert ambiguous.status_code == 404


def test_instrument_page_lists_the_calibration_history(world):
    c = login(world, "c")
    html = c.get(f"/instruments/{world.region.gauge_c.id}?lang=en").text
    assert "LAB-2025-117" in html and "expired" in html and "0.0012 mm (k=2)" in html
    assert 'id="chain-graph"' in html and "/static/vendor/echarts/echarts.min.js" in html


def test_pages_are_not_in_the_api_schema_and_errors_stay_apart(world):
    c = login(world, "c")
    paths = c.get("/api/v1/openapi.json").json()["paths"]
    assert all(p.startswith("/api/v1/") for p in paths)
    api404 = c.get("/api/v1/nope")
    assert api404.status_code == 404 and set(api404.json()) == {"error"}
    page404 = c.get("/nope?lang=en")
    assert page404.status_code == 404 and "Page or data not found" in page404.text
    bad = c.get("/dashboard?enterprise_id=abc")
    assert bad.status_code == 422 and bad.headers["content-type"].startswith("text/html")


def test_static_files_are_vendored_and_no_page_loads_from_elsewhere(world):
    c = TestClient(world.app)
    js = c.get("/static/vendor/echarts/echarts.min.js")
    assert js.status_code == 200 and len(js.content) > 500_000
    for name in ("LICENSE.txt", "NOTICE.txt", "VERSION.txt"):
        assert c.get(f"/static/vendor/echarts/{name}").status_code == 200
    for name in ("css/jingce.css", "js/jingce.js", "js/chart.js", "js/dashboard.js", "js/region.js",
                 "js/instrument.js"):
        assert c.get(f"/static/{name}").status_code == 200, name
    for path in (WEB / "templates").glob("*.html"):
        assert not re.search(r'(src|href)="(https?:)?//', path.read_text()), path.name


def test_instrument_list_shows_validity_and_only_visible_instruments(world):
    c = login(world, "c")
    html = c.get("/instruments?lang=en").text
    rows = dict(re.findall(r'<a href="/instruments/\d+">([\w-]+)</a>.*?<span class="pill[^"]*">([^<]+)</span>',
                           html, re.S))
    assert rows == {"C-CMM": "expired", "LAB-GB": "valid", "NAT-LEN": "realises the SI unit"}
    assert "X-MIC" not in html and "3 in total" in html
    found = c.get("/instruments?q=cmm&lang=en").text
    assert "C-CMM" in found and "LAB-GB" not in found and "1 in total" in found
    assert "X-MIC" in login(world, "x").get("/instruments").text


def test_pages_carry_security_headers_and_the_api_keeps_its_own(world):
    c = login(world, "c")
    page = c.get("/labs")
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY" and page.headers["cache-control"] == "no-store"
    assert "content-security-policy" not in c.get("/api/v1/labs").headers  # the API docs page loads its CDN
    login_page = TestClient(world.app).get("/login")
    assert login_page.headers["x-frame-options"] == "DENY"


def test_part_search_redirects_to_the_serial(world):
    c = login(world, "c")
    r = c.get("/parts?serial=A1&part_number=ASSY", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/parts/A1?part_number=ASSY"
    odd = c.get("/parts", params={"serial": "x/y?z #1"}, follow_redirects=False)
    assert odd.headers["location"] == "/parts/x%2Fy%3Fz%20%231"
    assert c.get(odd.headers["location"]).status_code == 404
    assert "A1" in c.get(r.headers["location"]).text


def test_a_calibration_out_of_tolerance_is_not_shown_as_valid(tmp_path):
    import datetime as dt

    from jingce.model import Calibration

    world = build_world(tmp_path)  # its own: this test adds a calibration
    world.app = create_service(world.settings, store=world.store)
    r = world.region
    world.store.add_calibration(r.admin, Calibration(
        instrument_id=r.lab_std.id, lab_id=r.nmi.id, certificate_no="NMI-OOT", result="out_of_tolerance",
        calibrated_at=dt.datetime(2026, 2, 1, tzinfo=dt.UTC), valid_until=dt.datetime(2099, 2, 1, tzinfo=dt.UTC),
        expanded_uncertainty=0.00005, standard_ids=(r.national.id,)))
    html = login(world, "lab").get(f"/instruments/{r.lab_std.id}?lang=en").text
    row = re.search(r"<tr>\s*<td>NMI-OOT</td>(.*?)</tr>", html, re.S).group(1)
    assert "out of tolerance" in row and ">valid<" not in row
    listing = login(world, "lab").get("/instruments?lang=en").text
    assert re.search(r'>LAB-GB</a>.*?<span class="pill pill-red">out of tolerance</span>', listing, re.S)


def test_a_suppliers_shared_characteristic_charts_without_a_dead_link(world):
    ring_od = world.store.find_characteristic(world.region.admin, "S", "RING", "OD").id
    c = login(world, "c")
    html = c.get(f"/characteristics/{ring_od}").text
    assert "S Ltd" in html and f"/dashboard?enterprise_id={world.region.ent['S'].id}" not in html
    assert c.get(f"/api/v1/characteristics/{ring_od}/chart").status_code == 200
    own = login(world, "s").get(f"/characteristics/{ring_od}").text
    assert f"/dashboard?enterprise_id={world.region.ent['S'].id}" in own
