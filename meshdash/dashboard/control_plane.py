"""What the overview calls out about the control plane: certificates, version skew, injection."""

from dataclasses import dataclass

from meshdash.lib.timefmt import days_left
from meshdash.mesh.metrics import normalise_version, versions_comparable
from meshdash.mesh.overview import bad_inject_namespaces

__all__ = ["bad_inject_namespaces", "certificates", "proxy_versions"]

CERT_WARNING_DAYS = 30
CERT_CRITICAL_DAYS = 7


@dataclass
class Certificate:
    label: str
    not_after: float | None
    days_left: float | None

    @property
    def level(self) -> str:
        if self.days_left is None:
            return "unknown"
        if self.days_left < CERT_CRITICAL_DAYS:
            return "critical"
        if self.days_left < CERT_WARNING_DAYS:
            return "warning"
        return "healthy"


@dataclass
class ProxyVersion:
    version: str
    proxies: int
    skewed: bool  # differs from the control plane's version


def certificates(control_plane, now: float) -> list[Certificate]:
    return [
        Certificate(
            "Trust anchor",
            control_plane.trust_anchor_not_after,
            days_left(control_plane.trust_anchor_not_after, now),
        ),
        Certificate(
            "Identity issuer",
            control_plane.issuer_not_after,
            days_left(control_plane.issuer_not_after, now),
        ),
    ]


def proxy_versions(control_plane) -> list[ProxyVersion]:
    """Data-plane versions, most proxies first. Skew only counts when both sides are known
    and of one scheme: a proxy build (``2.294.0``) says nothing against a release name."""
    expected = normalise_version(control_plane.version)
    versions = [
        ProxyVersion(
            version or "unknown",
            count,
            versions_comparable(version, expected) and normalise_version(version) != expected,
        )
        for version, count in control_plane.data_plane_versions.items()
    ]
    return sorted(versions, key=lambda v: (-v.proxies, v.version))
