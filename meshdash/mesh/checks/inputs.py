"""What some checks need that the snapshot does not carry yet: filled by the collector.

Every field defaults to "not collected" (None or empty), and a check whose input was not
collected finds nothing rather than guessing.
"""

import functools
from collections.abc import Iterable
from dataclasses import dataclass, field

from meshdash.mesh.history import growth_per_week
from meshdash.mesh.model import WorkloadKey

PodName = tuple[str, str]  # (namespace, pod)

MUTATING, VALIDATING = "mutating", "validating"
LINKERD_INJECTOR = "linkerd-proxy-injector-webhook-config"
LINKERD_POLICY_VALIDATOR = "linkerd-policy-validator-webhook-config"


@dataclass(frozen=True)
class Webhook:
    """One webhook of a Mutating- or ValidatingWebhookConfiguration that intercepts pod
    creation (the collector keeps only those whose rules match pods CREATE)."""

    configuration: str  # the configuration's name: Kubernetes calls mutating ones in its order
    name: str  # the webhook's name inside it
    kind: str  # MUTATING or VALIDATING
    # namespaceSelector as the API has it: {"matchLabels": {...}, "matchExpressions": [...]};
    # None or {}: every namespace.
    namespace_selector: dict | None = None
    failure_policy: str = "Fail"  # Fail or Ignore
    reinvocation_policy: str = "Never"  # IfNeeded or Never (mutating only)
    ca_bundle_not_after: float | None = None  # unix seconds, the bundle's first certificate
    index: int = 0  # its position inside its configuration


@dataclass(frozen=True)
class ProxyIdentity:
    """A proxy's leaf-renewal counters over the window, both metric generations:
    ``control_identity_cert_refreshes_total{result="ok"|"error"}`` (current proxies) and the
    older ``identity_cert_refresh_count`` (successes only, so it adds to ``refresh_ok``; an old
    proxy's stall shows as its leaf past the renewal point with no refresh)."""

    namespace: str
    pod: str
    refresh_errors: float = 0.0  # increase of result="error" over the window
    refresh_ok: float = 0.0


@dataclass(frozen=True)
class ControlPlaneClient:
    """The proxies' calls to one control-plane component (``control_request_total``,
    ``control_response_total``, ``control_response_latency_ms`` by ``addr``) over the window."""

    component: str  # as ControlPlane.components names it: "destination", "identity"
    rps: float = 0.0
    success_rate: float | None = None
    latency_ms_p99: float | None = None
    # Pods whose proxy failed every call to it over the window, (namespace, pod).
    failing_pods: tuple[PodName, ...] = ()


@dataclass
class CheckInputs:
    # certificates
    issuer_signed_by_anchor: bool | None = None  # issuer verified against the trust roots
    control_plane_trust_root_sha256: str = ""  # of linkerd-identity-trust-roots
    pod_trust_roots: dict[PodName, str] = field(
        default_factory=dict
    )  # linkerd.io/trust-root-sha256
    identity_issuer_ttl_seconds: float | None = None  # identity's issuer_cert_ttl_seconds
    proxy_identity: list[ProxyIdentity] = field(default_factory=list)
    # injection
    workload_metadata_inject: dict[WorkloadKey, str] = field(default_factory=dict)  # object's own
    namespace_annotated_at: dict[str, float] = field(default_factory=dict)  # managedFields time
    # webhooks: None = not collected
    webhooks: list[Webhook] | None = None
    namespace_labels: dict[str, dict[str, str]] = field(default_factory=dict)
    # control plane
    control_plane_clients: list[ControlPlaneClient] = field(default_factory=list)


@dataclass(frozen=True)
class PodHistory:
    """One pod's proxy series from meshdash's long history (mesh.history POD scope), oldest
    first: ``(t, value)`` pairs, None where a value is missing."""

    namespace: str
    pod: str
    workload_kind: str
    workload_name: str
    memory: tuple[tuple[float, float | None], ...] = ()
    cert_expiry: tuple[tuple[float, float | None], ...] = ()

    @classmethod
    def from_points(
        cls, namespace: str, pod: str, workload_kind: str, workload_name: str, points: Iterable
    ) -> "PodHistory":
        """From the history's pod points (anything with ``t``, ``memory_bytes`` and
        ``cert_expiry``, e.g. ``meshdash.history.read.PodPoint``), oldest first."""
        points = sorted(points, key=lambda p: p.t)
        return cls(
            namespace,
            pod,
            workload_kind,
            workload_name,
            memory=tuple((p.t, p.memory_bytes) for p in points),
            cert_expiry=tuple((p.t, p.cert_expiry) for p in points),
        )

    @functools.cached_property
    def memory_trend(self) -> tuple[int, float | None, float | None]:
        """``(values known, least-squares growth per week, last value)`` of ``memory``, worked
        out once per PodHistory: the collector keeps the history for minutes and runs the
        checks every few seconds, and refitting every pod's week at each run cost most of the
        checks' time (a frozen dataclass still caches: the property writes to ``__dict__``)."""
        values = [(t, v) for t, v in self.memory if v is not None]
        if not values:
            return 0, None, None
        return len(values), growth_per_week(values), values[-1][1]


@dataclass
class CheckHistory:
    """The long history the memory-trend and stalled-rotation checks read (per pod)."""

    pods: list[PodHistory] = field(default_factory=list)
