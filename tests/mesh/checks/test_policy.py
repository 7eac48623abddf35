import pytest

from meshdash.mesh.checks import CRITICAL, WARNING
from meshdash.mesh.checks.traffic import check_authz_denials
from meshdash.mesh.model import Authorization

from .helpers import ctx, snapshot, workload


@pytest.mark.parametrize(
    "denied, allowed, severity",
    [
        (0.0, 10, None),
        (0.009, 10, None),
        (0.01, 10, WARNING),
        (4.9, 5.1, WARNING),
        (5, 5, CRITICAL),
        (1, 0, CRITICAL),
    ],
)
def test_denials_thresholds(denied, allowed, severity):
    w = workload(authz_denied_rps=denied, authz_allowed_rps=allowed)
    found = check_authz_denials(ctx(snapshot(workloads=[w])))
    assert [f.severity for f in found] == ([severity] if severity else [])


def test_tcp_denials_count_and_servers_are_evidence():
    w = workload(tcp_authz_denied_per_second=2.0, authz_allowed_rps=1.0)
    authz = [
        Authorization(
            "shop",
            "deployment",
            "web",
            server_kind="server",
            server="web-grpc",
            tcp_denied_per_second=2.0,
        ),
        Authorization(
            "shop",
            "deployment",
            "web",
            server_kind="server",
            server="web-http",
            policy="ok",
            http_allowed_rps=1.0,
        ),
    ]
    (found,) = check_authz_denials(ctx(snapshot(workloads=[w], authorizations=authz)))
    assert found.severity == CRITICAL
    assert [e.label for e in found.evidence if e.label.startswith("denied at")] == [
        "denied at server web-grpc"
    ]
    assert found.fix[0] == "linkerd viz authz -n shop deployment/web"
