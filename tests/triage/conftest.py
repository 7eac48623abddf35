"""Findings written by hand into a real Redis store with the known mesh, and the people of
tests/conftest.py with alice made the payments team's admin."""

import time

import pytest
from django.conf import settings
from django.core.cache import cache

from meshdash.accounts.teams import profile_of
from meshdash.mesh.checks import Evidence, Finding, Ref
from meshdash.store import SnapshotStore
from meshdash.triage.mutes import CACHE_KEY
from tests.dashboard.known import HOSTILE, HOSTILE_ATTR, known_snapshot

NOW = time.time()


@pytest.fixture(autouse=True)
def forgotten_mutes():
    """The mutes' cache (Django's, in this process) holds no rules of another test, whose rows
    its rollback removed without a signal; nor does this test leave its own behind."""
    cache.delete(CACHE_KEY)
    yield
    cache.delete(CACHE_KEY)


def sample_findings(now: float = NOW) -> list[Finding]:
    """One finding per case the page must show: critical control plane, a payments and a shop
    workload, a team-labelled one, a hostile one, an info with "and N more"."""
    return [
        Finding(
            "certificates.issuer",
            "critical",
            (Ref("linkerd", "control-plane", "linkerd-identity-issuer"),),
            "identity issuer expired 2 d ago",
            evidence=(
                Evidence("not after", "2026-11-30", "secret linkerd/linkerd-identity-issuer"),
            ),
            since=now - 7200,
            fix=("linkerd upgrade --identity-issuer-certificate-file=i.crt | kubectl apply -f -",),
            runbook="Rotate the issuer from the current anchor, then restart the proxies.",
        ),
        Finding(
            "memory.share",
            "warning",
            (Ref("payments", "pod", "ledger-0"), Ref("payments", "statefulset", "ledger")),
            "proxy memory at 91.0 % of its limit",
            evidence=(Evidence("proxy RSS", 58.25, "pod payments/ledger-0"),),
            since=now - 600,
            fix=("kubectl -n payments rollout restart sts/ledger",),
        ),
        Finding(
            "memory.share",
            "critical",
            (Ref("shop", "pod", "cart-1"), Ref("shop", "deployment", "cart")),
            "proxy memory at 99.0 % of its limit",
            evidence=(Evidence("proxy RSS", 63.4, "pod shop/cart-1"),),
            since=now - 300,
        ),
        Finding(
            "policy.denials",
            "warning",
            (Ref("shop", "deployment", "svc-000"),),
            "12.0 % of inbound requests denied",
            since=now - 60,
        ),
        Finding(
            "injection.annotation",
            "warning",
            (Ref("legacy", "deployment", HOSTILE),),
            f"linkerd.io/inject is {HOSTILE}",
            evidence=(Evidence(HOSTILE_ATTR, HOSTILE, f"deployment legacy/{HOSTILE}"),),
            since=now - 60,
            fix=(f"kubectl -n legacy annotate deploy {HOSTILE_ATTR} linkerd.io/inject=enabled",),
            runbook=HOSTILE,
        ),
        Finding(
            "versions.proxy",
            "info",
            (Ref("legacy", "deployment", "ingress"),),
            "proxy one release behind the control plane",
            since=None,
            more=7,
        ),
    ]


@pytest.fixture
def store(redis_client):
    return SnapshotStore(redis_client, settings.MESHDASH_REDIS_PREFIX, snapshot_ttl_seconds=60)


@pytest.fixture
def write(store):
    """write(findings, window="1m"): the known mesh as the window's current snapshot with
    these findings (None: the checks did not run)."""

    def write_(findings, window: str = "1m", **kwargs):
        snapshot = known_snapshot(window, taken_at=time.time(), **kwargs)
        store.write(snapshot, findings=findings)
        return snapshot

    return write_


@pytest.fixture
def payments_admin(alice, payments):
    profile_of(payments).admins.add(alice)
    return alice
