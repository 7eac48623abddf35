import pytest

from meshdash.mesh.checks import CRITICAL, WARNING, worst_first
from meshdash.mesh.checks.versions import (
    check_control_plane_versions,
    check_proxy_versions,
    compare,
    version_key,
)

from .helpers import ctx, plane, pod, snapshot


def test_version_keys_and_channels():
    assert version_key("edge-25.4.4") == ("edge", (25, 4, 4))
    assert version_key("v2.294.0") == version_key("2.294.0") == ("", (2, 294, 0))
    assert version_key("") is None
    assert compare("edge-24.5.1", "edge-25.4.4") == -1
    assert compare("edge-25.10.1", "edge-25.4.4") == 1
    assert compare("stable-2.14.10", "edge-25.4.4") is None
    assert compare("2.294.0", "edge-25.4.4") is None


def test_older_proxies_oldest_first_with_restart_commands():
    pods = [
        pod("web-1"),
        pod("api-1", workload="api", proxy_version="edge-24.5.1"),
        pod("db-1", kind="statefulset", workload="db", proxy_version="edge-23.1.1"),
        pod("db-2", kind="statefulset", workload="db", proxy_version="edge-23.1.1"),
    ]
    found = worst_first(check_proxy_versions(ctx(snapshot(pods))))
    assert [(f.subject[0].name, f.severity) for f in found] == [("db", WARNING), ("api", WARNING)]
    assert found[0].fix == ("kubectl -n shop rollout restart sts/db",)
    assert found[0].summary.startswith("2 proxy(ies) of db on edge-23.1.1, older")


def test_newer_proxies_are_critical():
    (found,) = check_proxy_versions(ctx(snapshot([pod(proxy_version="edge-25.10.1")])))
    assert found.severity == CRITICAL and "newer than the control plane" in found.summary


def test_completed_jobs_never_counted():
    pods = [
        pod(
            "job-1", kind="job", workload="migrate", phase="Succeeded", proxy_version="edge-22.1.1"
        ),
        pod("job-2", kind="job", workload="migrate", phase="Failed", proxy_version="edge-22.1.1"),
    ]
    assert check_proxy_versions(ctx(snapshot(pods))) == []


def test_incomparable_versions_not_reported():
    assert check_proxy_versions(ctx(snapshot([pod(proxy_version="2.294.0")]))) == []


@pytest.mark.parametrize(
    "second, mixed", [("edge-25.4.4", False), ("edge-25.3.1", True), ("", False)]
)
def test_mixed_control_plane_versions(second, mixed):
    cp = plane(
        components=[
            {"name": "destination", "pods": 1, "ready": 1, "version": "edge-25.4.4"},
            {"name": "identity", "pods": 1, "ready": 1, "version": second},
        ]
    )
    found = check_control_plane_versions(ctx(snapshot(control_plane=cp)))
    assert bool(found) == mixed
    if mixed:
        assert found[0].severity == WARNING and "2 versions" in found[0].summary
