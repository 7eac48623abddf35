import pytest

from meshdash.mesh.checks import CRITICAL, WARNING, CheckHistory, CheckInputs, PodHistory
from meshdash.mesh.checks.certificates import (
    check_issuer,
    check_issuer_chain,
    check_leaf_expiry,
    check_rotation,
    check_trust_anchor,
    check_trust_roots,
)
from meshdash.mesh.checks.findings import countdown, duration

from .helpers import DAY, HOUR, NOW, ctx, plane, pod, snapshot


def anchor_at(days):
    return ctx(snapshot(control_plane=plane(trust_anchor_not_after=NOW + days * DAY)))


@pytest.mark.parametrize(
    "days, severity",
    [
        (61, None),
        (60.01, None),
        (60, WARNING),
        (59.99, WARNING),
        (7.01, WARNING),
        (7, CRITICAL),
        (6.99, CRITICAL),
        (0.001, CRITICAL),
    ],
)
def test_anchor_thresholds(days, severity):
    found = check_trust_anchor(anchor_at(days))
    assert [f.severity for f in found] == ([severity] if severity else [])
    if found:
        assert "expires in" in found[0].summary
        assert found[0].check == "certificates.anchor"


def test_expired_anchor_is_critical_and_says_expired():
    (found,) = check_trust_anchor(anchor_at(-6 / (24 * 60)))
    assert found.severity == CRITICAL
    assert "expired 6 min ago" in found.summary
    assert "-" not in found.summary.split("expired")[1]


def test_countdown_never_negative():
    assert countdown(NOW - 360, NOW) == "expired 6 min ago"
    assert countdown(NOW, NOW) == "expired 0 s ago"
    assert countdown(NOW + 2 * DAY + 3 * HOUR, NOW) == "expires in 2 d 3 h"
    assert duration(-50) == "0 s"


@pytest.mark.parametrize(
    "days, severity", [(60.5, None), (60, WARNING), (7.5, WARNING), (7, CRITICAL), (-1, CRITICAL)]
)
def test_issuer_thresholds(days, severity):
    found = check_issuer(ctx(snapshot(control_plane=plane(issuer_not_after=NOW + days * DAY))))
    assert [f.severity for f in found] == ([severity] if severity else [])


def test_issuer_thresholds_are_settings():
    c = ctx(snapshot(control_plane=plane(issuer_not_after=NOW + 80 * DAY)), issuer_warning_days=90)
    assert [f.severity for f in check_issuer(c)] == [WARNING]


def test_issuer_from_identitys_ttl_when_sooner():
    inputs = CheckInputs(identity_issuer_ttl_seconds=3 * DAY)
    (found,) = check_issuer(ctx(inputs=inputs))
    assert found.severity == CRITICAL
    assert any("issuer_cert_ttl_seconds" in e.label for e in found.evidence)


def test_no_certificates_known_finds_nothing():
    c = ctx(snapshot(control_plane=plane(trust_anchor_not_after=None, issuer_not_after=None)))
    assert check_trust_anchor(c) == [] and check_issuer(c) == []


def test_issuer_not_signed_by_anchor():
    assert check_issuer_chain(ctx()) == []
    assert check_issuer_chain(ctx(inputs=CheckInputs(issuer_signed_by_anchor=True))) == []
    (found,) = check_issuer_chain(ctx(inputs=CheckInputs(issuer_signed_by_anchor=False)))
    assert found.severity == CRITICAL and "not signed" in found.summary


def test_pods_trusting_another_anchor_per_workload():
    pods = [pod("web-1"), pod("web-2"), pod("api-1", workload="api")]
    inputs = CheckInputs(
        control_plane_trust_root_sha256="aaa",
        pod_trust_roots={
            ("shop", "web-1"): "bbb",
            ("shop", "web-2"): "bbb",
            ("shop", "api-1"): "aaa",
        },
    )
    (found,) = check_trust_roots(ctx(snapshot(pods), inputs))
    assert found.severity == CRITICAL
    assert found.subject[0].name == "web"
    assert found.fix == ("kubectl -n shop rollout restart deploy/web",)


def leaf(hours, **fields):
    return ctx(
        snapshot(
            [
                pod(proxy_cert_expiry=NOW + hours * HOUR, **fields),
                pod("web-2", proxy_cert_expiry=NOW + 20 * HOUR),
            ]
        )
    )


@pytest.mark.parametrize(
    "hours, severity",
    [(4.01, None), (4, WARNING), (3.99, WARNING), (1.01, WARNING), (1, CRITICAL), (0.5, CRITICAL)],
)
def test_leaf_thresholds(hours, severity):
    found = check_leaf_expiry(leaf(hours))
    assert [f.severity for f in found] == ([severity] if severity else [])
    if found:
        assert found[0].subject[0].name == "web-1"


def test_expired_leaf():
    (found,) = check_leaf_expiry(leaf(-2))
    assert found.severity == CRITICAL and "expired 2 h ago" in found.summary


def test_finished_and_control_plane_pods_have_no_leaf_finding():
    pods = [
        pod("job-1", kind="job", workload="batch", phase="Succeeded", proxy_cert_expiry=NOW - DAY),
        pod("id-1", namespace="linkerd", workload="linkerd-identity", proxy_cert_expiry=NOW - 1),
    ]
    assert check_leaf_expiry(ctx(snapshot(pods))) == []


# Lifetime 24 h, renewal at 70 % = 16.8 h, grace 15 min: overdue after 17.05 h.
RENEW = 0.7 * 24 * HOUR + 15 * 60


@pytest.mark.parametrize("age, stalled", [(RENEW - 1, False), (RENEW, False), (RENEW + 1, True)])
def test_rotation_stalled_past_renewal_point(age, stalled):
    p = pod(proxy_cert_refreshed_at=NOW - age, proxy_cert_expiry=NOW - age + 24 * HOUR)
    found = check_rotation(ctx(snapshot([p])))
    assert [f.severity for f in found] == ([WARNING] if stalled else [])


def test_rotation_stalled_from_expiry_alone():
    # Without the refresh time the leaf's start is its expiry less the lifetime.
    p = pod(proxy_cert_expiry=NOW + 24 * HOUR - RENEW - 60)
    (found,) = check_rotation(ctx(snapshot([p])))
    assert found.check == "certificates.rotation"
    healthy = pod(proxy_cert_expiry=NOW + 20 * HOUR)
    assert check_rotation(ctx(snapshot([healthy]))) == []


def test_rotation_expired_leaf_is_critical():
    p = pod(proxy_cert_refreshed_at=NOW - 30 * HOUR, proxy_cert_expiry=NOW - 6 * HOUR)
    (found,) = check_rotation(ctx(snapshot([p])))
    assert found.severity == CRITICAL
    assert any("expired 6 h ago" in str(e.value) for e in found.evidence)


def test_rotation_refresh_errors():
    from meshdash.mesh.checks import ProxyIdentity

    p = pod(proxy_cert_refreshed_at=NOW - HOUR, proxy_cert_expiry=NOW + 23 * HOUR)
    ok = ProxyIdentity("shop", "web-1", refresh_errors=0.0, refresh_ok=1.0)
    assert check_rotation(ctx(snapshot([p]), CheckInputs(proxy_identity=[ok]))) == []
    bad = ProxyIdentity("shop", "web-1", refresh_errors=2.0)
    (found,) = check_rotation(ctx(snapshot([p]), CheckInputs(proxy_identity=[bad])))
    assert found.severity == WARNING
    assert any(e.label == "refresh errors in the window" and e.value == 2.0 for e in found.evidence)


def test_rotation_reads_leaf_history():
    expiry = NOW - 18 * HOUR + 24 * HOUR
    p = pod(proxy_cert_refreshed_at=NOW - 18 * HOUR, proxy_cert_expiry=expiry)
    series = tuple(
        (NOW - 40 * HOUR + i * 3600, expiry - 18 * HOUR if i < 22 else expiry) for i in range(40)
    )
    history = CheckHistory([PodHistory("shop", "web-1", "deployment", "web", cert_expiry=series)])
    (found,) = check_rotation(ctx(snapshot([p]), history=history))
    (changed,) = [e for e in found.evidence if e.label == "leaf last changed"]
    assert changed.value == "18 h ago"


def test_rotation_from_history_when_the_snapshot_has_no_leaf():
    expiry = NOW - 20 * HOUR + 24 * HOUR
    series = tuple((NOW - 30 * HOUR + i * 3600, expiry if i >= 10 else None) for i in range(30))
    history = CheckHistory([PodHistory("shop", "web-1", "deployment", "web", cert_expiry=series)])
    (found,) = check_rotation(ctx(snapshot([pod()]), history=history))
    assert found.severity == WARNING
    assert check_rotation(ctx(snapshot([pod()]))) == []
