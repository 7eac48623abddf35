"""/api/v1/findings fuzzed from the OpenAPI document as tests/dashboard/test_openapi.py fuzzes
every operation, but with findings and a mute in every window (there, no collection ran the
checks), so that the answers' findings and mutes are checked against their schema too."""

import time

import pytest
from django.conf import settings as django_settings
from hypothesis import HealthCheck, settings

from meshdash.mesh.model import WINDOWS
from meshdash.store import SnapshotStore
from meshdash.triage.muting import create_mute
from tests.dashboard.known import known_snapshot
from tests.dashboard.test_openapi import (  # noqa: F401 (fixtures)
    fuzzer_token,
    schema,
    wsgi_app,
)
from tests.triage.conftest import sample_findings

pytestmark = pytest.mark.django_db


@pytest.fixture
def findings_everywhere(redis_client, payments_admin):
    store = SnapshotStore(redis_client, django_settings.MESHDASH_REDIS_PREFIX)
    for window in WINDOWS:
        store.write(known_snapshot(window, taken_at=time.time()), findings=sample_findings())
    create_mute(payments_admin, check="memory.share", namespace="payments", why="known")


@schema.include(path="/api/v1/findings").parametrize()
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
    ],
)
def test_findings_answer_as_described(case, wsgi_app, findings_everywhere, fuzzer_token):  # noqa: F811
    case.operation.schema.app = wsgi_app
    case.headers = {**(case.headers or {}), "Accept-Encoding": "identity"}
    case.call_and_validate(app=wsgi_app)
