"""Where each check draws its lines. Every field has a documented default; the settings
layer builds one ``CheckThresholds`` from environment variables named after the fields."""

from collections.abc import Mapping
from dataclasses import dataclass, fields


@dataclass(frozen=True)
class CheckThresholds:
    # Trust anchor and identity issuer: warning at 60 days left like `linkerd check`,
    # critical at 7 (expired is always critical).
    anchor_warning_days: float = 60.0
    anchor_critical_days: float = 7.0
    issuer_warning_days: float = 60.0
    issuer_critical_days: float = 7.0
    # The shortest leaf certificate left across proxies (leaves last 24 h by default and are
    # renewed at 70 % of their life, so a healthy proxy keeps more than 7 h).
    leaf_warning_hours: float = 4.0
    leaf_critical_hours: float = 1.0
    # Rotation stalled: a proxy renews its leaf at this share of its lifetime; still holding it
    # this many minutes past that point means identity cannot sign.
    leaf_renewal_share: float = 0.7
    rotation_grace_minutes: float = 15.0
    # Webhooks' CA bundles.
    webhook_ca_warning_days: float = 60.0
    webhook_ca_critical_days: float = 7.0
    # Proxy memory as a share of its limit.
    memory_share_warning: float = 0.8
    memory_share_critical: float = 0.95
    # Weekly proxy-memory growth (median of the workload's pods' slopes), and when the
    # projected date of reaching the limit makes it critical.
    memory_growth_warning_mib_per_week: float = 1.0
    memory_projection_critical_days: float = 14.0
    memory_growth_min_points: int = 24  # a pod's points needed before its slope counts
    # Limits below what traffic needs: a pod serving at least this many requests a second
    # whose proxy memory limit is at most busy_min_limit_mib (Linkerd's default 64Mi).
    busy_pod_rps: float = 100.0
    busy_min_limit_mib: float = 64.0
    # Pods stuck in their init containers (Init:0/1) longer than this.
    stuck_init_minutes: float = 5.0
    # Control plane: restarts of one component's pods that warn, success rate and p99 of the
    # proxies' calls to it.
    control_plane_restarts_warning: int = 3
    control_plane_success_warning: float = 0.99
    control_plane_success_critical: float = 0.9
    control_plane_latency_warning_ms: float = 1000.0
    # Authorization denials per second at a workload that warn, and the share of its
    # decisions denied that is critical.
    authz_denied_warning_rps: float = 0.01
    authz_denied_critical_share: float = 0.5
    # Findings kept per check, worst first; the last one says how many more ("and N more").
    max_findings_per_check: int = 50


ENV_PREFIX = "MESHDASH_CHECK_"


def thresholds_from_env(environ: Mapping[str, str]) -> CheckThresholds:
    """``CheckThresholds`` with each field read from ``MESHDASH_CHECK_<FIELD>`` (upper case)
    when set, e.g. ``MESHDASH_CHECK_ISSUER_WARNING_DAYS=90``; ValueError naming the variable
    for a value that is not a number (or is negative)."""
    values = {}
    for f in fields(CheckThresholds):
        name = ENV_PREFIX + f.name.upper()
        text = environ.get(name, "").strip()
        if not text:
            continue
        try:
            value = int(text) if f.type in (int, "int") else float(text)
        except ValueError:
            raise ValueError(f"{name} must be a number, not {text!r}") from None
        if value < 0:
            raise ValueError(f"{name} must not be negative, not {text!r}")
        values[f.name] = value
    return CheckThresholds(**values)
