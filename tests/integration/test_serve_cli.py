"""`jingce serve` refuses demo settings and missing secrets; `jingce user` manages accounts."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from jingce.api.security import verify_password
from jingce.cli import serve_cmd
from jingce.cli.app import app
from jingce.model import Role, Tenant
from jingce.settings import Settings
from jingce.store import Store

runner = CliRunner(env={"COLUMNS": "240", "JINGCE_LANG": "en"})


@pytest.fixture
def never_serve(monkeypatch):
    served = []
    monkeypatch.setattr(serve_cmd, "run_service", lambda settings, host, port, store=None: served.append(settings))
    return served


@pytest.mark.parametrize("env, field", [
    ({}, "JINGCE_SECRET_KEY"),
    ({"JINGCE_SECRET_KEY": "short"}, "JINGCE_SECRET_KEY"),
    ({"JINGCE_SECRET_KEY": "jingce-demo-secret-do-not-use-in-production"}, "JINGCE_SECRET_KEY"),
    ({"JINGCE_DEMO": "1"}, "JINGCE_DEMO"),
])
def test_serve_refuses_demo_settings_and_missing_secrets(tmp_path, never_serve, env, field):
    res = runner.invoke(app, ["serve", "--data", str(tmp_path / "d")],
                        env={"JINGCE_SECRET_KEY": "", "JINGCE_DEMO": "", **env})
    assert res.exit_code == 2 and field in res.output and not never_serve


def test_serve_with_a_real_secret_starts(tmp_path, never_serve):
    res = runner.invoke(app, ["serve", "--data", str(tmp_path / "d"), "--port", "8123"],
                        env={"JINGCE_SECRET_KEY": "x" * 40, "JINGCE_DEMO": ""})
    assert res.exit_code == 0, res.output
    assert "http://127.0.0.1:8123/" in res.output and never_serve[0].secret_key == "x" * 40


def test_user_add_and_passwd(tmp_path):
    d = tmp_path / "d"
    st = Store(Settings(data_dir=d))
    st.add_tenant(st.bootstrap(), Tenant(code="t1", name="t", kind="enterprise"))
    st.close()
    res = runner.invoke(app, ["user", "add", "eng", "--tenant", "t1", "--role", "enterprise_admin", "--data", str(d)],
                        input="long enough pw\nlong enough pw\n")
    assert res.exit_code == 0, res.output
    bad = runner.invoke(app, ["user", "add", "eng2", "--tenant", "t1", "--data", str(d)], input="aaaaaaaa\nbbbbbbbb\n")
    assert bad.exit_code == 2 and "password" in bad.output
    assert runner.invoke(app, ["user", "add", "x", "--tenant", "t1", "--role", "king", "--data", str(d)],
                         input="long enough pw\nlong enough pw\n").exit_code == 2
    st = Store(Settings(data_dir=d))
    assert verify_password(st.password_hash("eng"), "long enough pw")
    assert [u.username for u in st.list_users(st.bootstrap())] == ["admin", "eng"]
    assert st.actor("eng").role == Role.ENTERPRISE_ADMIN
    res = runner.invoke(app, ["user", "passwd", "eng", "--data", str(d)], input="another pass\nanother pass\n")
    assert res.exit_code == 0, res.output
    assert verify_password(st.password_hash("eng"), "another pass")
    # an enterprise admin may not set another tenant's password
    res = runner.invoke(app, ["user", "passwd", "admin", "--as", "eng", "--data", str(d)],
                        input="another pass\nanother pass\n")
    assert res.exit_code == 2 and verify_password(st.password_hash("eng"), "another pass")
    st.close()


def test_demo_serve_gives_each_role_an_account_and_the_region_summaries(tmp_path, monkeypatch):
    from fastapi.testclient import TestClient

    from jingce.services.demo.accounts import ACCOUNTS, DEMO_PASSWORD
    from jingce.services.demo.build import build_demo
    from jingce.web import create_service

    d = tmp_path / "demo"
    st = Store(Settings(data_dir=d))
    build_demo(st, seed=3, scale=0.02)
    st.close()
    served = {}
    monkeypatch.setattr(serve_cmd, "run_service",
                        lambda settings, host, port, store=None: served.update(settings=settings, store=store))
    serve_cmd.serve_demo(Settings(data_dir=d), "127.0.0.1", 8000)
    assert served["settings"].demo and served["store"].analysis_runs(served["store"].bootstrap())
    client = TestClient(create_service(served["settings"], store=served["store"]))
    roles = set()
    for acc in ACCOUNTS:
        r = client.post("/api/v1/auth/login", json={"username": acc.username, "password": DEMO_PASSWORD})
        assert r.status_code == 200, (acc.username, r.text)
        roles.add(client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {r.json()['token']}"}).json()["role"])
    assert roles == {r.value for r in Role}
    reg = client.post("/api/v1/auth/login", json={"username": "regulator", "password": DEMO_PASSWORD}).json()["token"]
    view = client.get("/api/v1/dashboard/region", headers={"Authorization": f"Bearer {reg}"})
    assert view.status_code == 200 and view.json()["source"] == "summaries"
    served["store"].close()
