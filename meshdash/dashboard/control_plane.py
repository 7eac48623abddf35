"""What the pods' rows and the pods filter say about the proxies: a leaf certificate's time
left, the versions the proxies run. The trust anchor, the issuer, version skew and injection
mistakes are the on-call checks' findings (``meshdash.mesh.checks``, shown through
``meshdash.dashboard.attention``)."""

from dataclasses import dataclass

from meshdash.lib.timefmt import short_duration
from meshdash.mesh.metrics import normalise_version, versions_comparable

__all__ = ["leaf_certificate", "proxy_versions"]


# A proxy renews its leaf certificate when 70 % of its lifetime has passed: one with less than
# a quarter left has missed its renewal, one with less than a tenth soon stops serving mTLS.
LEAF_WARNING_SHARE = 0.25
LEAF_CRITICAL_SHARE = 0.10
# What Linkerd's identity issuer gives by default (linkerd-config issuanceLifetime).
DEFAULT_LEAF_LIFETIME = 86400.0


@dataclass(frozen=True)
class LeafCertificate:
    """A proxy's leaf certificate: the time it has left against its own lifetime."""

    expiry: float | None  # unix seconds
    seconds_left: float | None
    lifetime: float

    @property
    def share_left(self) -> float | None:
        if self.seconds_left is None:
            return None
        return max(0.0, self.seconds_left) / self.lifetime

    @property
    def level(self) -> str:
        share = self.share_left
        if share is None:
            return "unknown"
        if self.seconds_left <= 0 or share < LEAF_CRITICAL_SHARE:
            return "critical"
        if share < LEAF_WARNING_SHARE:
            return "warning"
        return "healthy"

    @property
    def text(self) -> str:
        if self.seconds_left is None:
            return "—"
        if self.seconds_left <= 0:
            return "expired"
        return f"{short_duration(self.seconds_left)} of {short_duration(self.lifetime)}"


def leaf_certificate(
    expiry: float | None,
    refreshed_at: float | None,
    now: float,
    lifetime: float | None = None,
) -> LeafCertificate:
    """The leaf that expires at ``expiry`` and was issued at ``refreshed_at`` (when the proxy
    last got it); without that, ``lifetime`` (the control plane's) or Linkerd's default."""
    if refreshed_at is not None and expiry is not None and expiry > refreshed_at:
        lifetime = expiry - refreshed_at
    lifetime = lifetime if lifetime and lifetime > 0 else DEFAULT_LEAF_LIFETIME
    return LeafCertificate(expiry, None if expiry is None else expiry - now, lifetime)


@dataclass
class ProxyVersion:
    version: str
    proxies: int
    skewed: bool  # differs from the control plane's version


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
