"""Version checks: the upgrade order (control plane first, data plane second)."""

import functools
import re
from collections import Counter, defaultdict

from meshdash.mesh.checks.context import (
    Context,
    component_deployment,
    owner_ref,
    restart_command,
)
from meshdash.mesh.checks.findings import CONTROL_PLANE, CRITICAL, WARNING, Evidence, Finding, Ref
from meshdash.mesh.metrics import normalise_version

_NUMBERS = re.compile(r"\d+")


@functools.lru_cache(maxsize=1024)
def version_key(version: str) -> tuple[str, tuple[int, ...]] | None:
    """``edge-25.4.4`` -> ("edge", (25, 4, 4)); ``v2.294.0`` -> ("", (2, 294, 0)); None when
    it holds no number. Two versions compare only with the same channel (first element)."""
    text = normalise_version(version)
    channel, _, rest = (
        text.rpartition("-") if "-" in text and not text[0].isdigit() else ("", "", text)
    )
    numbers = tuple(int(n) for n in _NUMBERS.findall(rest))
    if not numbers:
        return None
    return (channel, numbers)


def compare(a: str, b: str) -> int | None:
    """-1, 0 or 1 as ``a`` is older than, the same as or newer than ``b``; None when they
    cannot be compared (unknown, or different channels)."""
    ka, kb = version_key(a), version_key(b)
    if ka is None or kb is None or ka[0] != kb[0]:
        return None
    return (ka[1] > kb[1]) - (ka[1] < kb[1])


def control_plane_version(ctx: Context) -> str:
    """The version proxies should run: linkerd-config's, else the components' most common."""
    plane = ctx.snapshot.control_plane
    versions = Counter(c.get("version", "") for c in plane.components if c.get("version"))
    if (
        plane.version
        and version_key(plane.version)
        and (not versions or any(compare(v, plane.version) is not None for v in versions))
    ):
        return plane.version
    return versions.most_common(1)[0][0] if versions else plane.version


def check_proxy_versions(ctx: Context) -> list[Finding]:
    """**Proxies older or newer than the control plane** (`versions.proxy`).

    Detects: workloads whose running proxies are on another version than the control plane:
    older (warning, with the restart command per workload, oldest version first) or newer
    (critical: the upgrade order was broken, data plane before control plane). Finished pods
    (completed Jobs) never count; versions of different channels are not compared.

    Why it matters: Linkerd supports proxies one release behind the control plane; older
    ones miss fixes and eventually speak an API the control plane dropped; newer ones may
    call APIs the control plane does not have yet.

    Fix: restart the workloads on an old proxy (the injector writes the current one); for
    newer proxies, upgrade the control plane (or pin `config.linkerd.io/proxy-version`).
    """
    expected = control_plane_version(ctx)
    if not expected:
        return []
    by_owner: dict[tuple[Ref, str], list] = defaultdict(list)
    for pod in ctx.data_plane_pods():
        if not pod.proxy_version:
            continue
        cmp = compare(pod.proxy_version, expected)
        if cmp:
            by_owner[(owner_ref(pod), pod.proxy_version)].append(pod)
    found = []
    ns = ctx.control_plane_namespace
    for (ref, version), pods in by_owner.items():
        newer = compare(version, expected) > 0
        key = version_key(version)
        found.append(
            Finding(
                check="versions.proxy",
                severity=CRITICAL if newer else WARNING,
                subject=(ref,),
                summary=(
                    f"{len(pods)} proxy(ies) of {ref.name} on {version}, newer than the control "
                    f"plane's {expected}"
                    if newer
                    else f"{len(pods)} proxy(ies) of {ref.name} on {version}, older than the "
                    f"control plane's {expected}"
                ),
                evidence=(
                    Evidence("proxy version", version, f"pod {pods[0].namespace}/{pods[0].name}"),
                    Evidence("control plane version", expected, f"configmap {ns}/linkerd-config"),
                    Evidence("pods", len(pods), "snapshot"),
                ),
                fix=(
                    ("linkerd upgrade | kubectl apply -f -", "linkerd check")
                    if newer
                    else (restart_command(ref),)
                ),
                runbook=(
                    "Upgrade order broken: upgrade the control plane to at least the proxies' "
                    "version, then check; or pin the proxy version back and restart."
                    if newer
                    else "Restart the workload so its pods are re-injected with the control "
                    "plane's proxy. Oldest first."
                ),
                # oldest version first: order by the version's numbers
                order=float(sum(n * 1000 ** (5 - i) for i, n in enumerate(key[1][:6]))),
            )
        )
    return found


def check_control_plane_versions(ctx: Context) -> list[Finding]:
    """**Control plane on mixed versions** (`versions.control-plane`).

    Detects: control-plane components running different versions (warning), e.g. an upgrade
    that stopped half way.

    Why it matters: components of different releases may disagree on APIs and certificates;
    proxies get answers from whichever they reach.

    Fix: re-run the upgrade to one version and `linkerd check`.
    """
    plane = ctx.snapshot.control_plane
    versions = {c.get("name", ""): c.get("version", "") for c in plane.components}
    distinct = {v for v in versions.values() if v}
    if len(distinct) < 2:
        return []
    ns = ctx.control_plane_namespace
    return [
        Finding(
            check="versions.control-plane",
            severity=WARNING,
            subject=tuple(Ref(ns, CONTROL_PLANE, name) for name in sorted(versions)),
            summary=f"Control plane on {len(distinct)} versions: {', '.join(sorted(distinct))}",
            evidence=tuple(
                Evidence(
                    name, version or "unknown", f"deployment {ns}/{component_deployment(name)}"
                )
                for name, version in sorted(versions.items())
            ),
            fix=("linkerd upgrade | kubectl apply -f -", "linkerd check"),
            runbook="Finish the upgrade: apply one version's manifests to every component, "
            "then `linkerd check`.",
        )
    ]
