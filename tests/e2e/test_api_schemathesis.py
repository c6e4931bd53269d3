"""Schemathesis against the app's own OpenAPI document, in process (ASGI transport): generated
valid and invalid input on every operation, as the admin (who may reach every code path) and as
an enterprise admin, must never give a server error (5xx); every error must have the pinned
shape.

The short run here takes a few examples per operation; set ``JINGCE_SCHEMATHESIS_EXAMPLES``
(e.g. 200) for a long run.
"""

from __future__ import annotations

import os

import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode

from tests.e2e import test_api
from tests.e2e.test_api import client

EXAMPLES = int(os.environ.get("JINGCE_SCHEMATHESIS_EXAMPLES", "6"))


@pytest.fixture(scope="module")
def fuzz_world(tmp_path_factory):
    return test_api.build_world(tmp_path_factory.mktemp("fuzz"))


def _token(w, user: str) -> str:
    from jingce.api.security import issue_token

    actor = w.store.actor(user)
    return issue_token(w.app.state.secret, actor.user_id, actor.username, 3600)


def _fuzz(w, user: str, mode: GenerationMode) -> list[str]:
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", w.app)
    headers = {"Authorization": f"Bearer {_token(w, user)}"}
    failures: list[str] = []
    for result in schema.get_all_operations():
        op = result.ok()
        if op.label == "POST /api/v1/auth/login":
            w.app.state.login_limiter.__init__()  # the limiter would answer 429 to most of the run

        @given(case=op.as_strategy(generation_mode=mode))
        @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck), phases=[hypothesis.Phase.generate])
        def run(case):
            resp = case.call(headers=headers)
            assert resp.status_code < 500, f"{resp.status_code} {resp.text[:300]}"
            kind = (resp.headers.get("content-type") or [""])[0]
            if resp.status_code >= 400 and kind.startswith("application/json"):
                body = resp.json()
                assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "message_zh", "details"}, \
                    resp.text[:300]

        try:
            run()
        except hypothesis.errors.Unsatisfiable:
            pass  # nothing to make invalid (no parameters, no body)
        except Exception as exc:  # noqa: BLE001 - collected and reported together below
            failures.append(f"{user} {mode.value} {op.label}: {str(exc)[:500]}")
    return failures


@pytest.mark.parametrize("user", ["admin", "c"])
def test_no_server_error_on_generated_input(fuzz_world, user):
    failures = []
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        failures += _fuzz(fuzz_world, user, mode)
    assert not failures, "\n".join(failures)


def test_the_app_still_answers_after_fuzzing(fuzz_world):
    assert client(fuzz_world, "c").get("/api/v1/auth/me").status_code == 200
