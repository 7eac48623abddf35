"""Proxy memory checks: near the limit now, creeping up over weeks, OOMKills, limits too low."""

import statistics
from collections import defaultdict

from meshdash.mesh.checks.context import Context, owner_ref, pod_ref, restart_command
from meshdash.mesh.checks.findings import (
    CRITICAL,
    INFO,
    WARNING,
    Evidence,
    Finding,
    Ref,
    mib,
    percent,
    severity_at_least,
    utc_date,
)
from meshdash.mesh.history import WEEK

MIB = 2**20


def _limit_fix(ref: Ref, limit: str) -> str:
    return (
        f"kubectl -n {ref.namespace} patch {ref.kind} {ref.name} --type merge -p "
        f'\'{{"spec":{{"template":{{"metadata":{{"annotations":'
        f'{{"config.linkerd.io/proxy-memory-limit":"{limit}"}}}}}}}}}}\''
    )


def check_memory_share(ctx: Context) -> list[Finding]:
    """**Proxy memory near its limit** (`memory.share`).

    Detects: pods whose proxy's resident memory is at least `memory_share_warning` (80 %) or
    `memory_share_critical` (95 %) of its memory limit. One finding per pod, fullest first.

    Why it matters: at the limit the kernel OOM-kills the proxy and the pod loses all its
    traffic until it restarts; under memory pressure the kubelet evicts it.

    Fix: raise `config.linkerd.io/proxy-memory-limit` on the pod template, or restart the pod
    if its memory is creeping (see `memory.growth`).
    """
    t = ctx.thresholds
    found = []
    for pod in ctx.data_plane_pods():
        share = pod.proxy_memory_share
        if share is None:
            continue
        severity = severity_at_least(share, t.memory_share_critical, t.memory_share_warning)
        if severity is None:
            continue
        ref = owner_ref(pod)
        source = f"pod {pod.namespace}/{pod.name}"
        found.append(
            Finding(
                check="memory.share",
                severity=severity,
                subject=(pod_ref(pod), ref),
                summary=f"Proxy of {pod.namespace}/{pod.name} at {percent(share)} of its "
                "memory limit",
                evidence=(
                    Evidence(
                        "resident memory",
                        mib(pod.proxy_memory_bytes),
                        f"{source} process_resident_memory_bytes",
                    ),
                    Evidence(
                        "limit",
                        mib(pod.proxy_memory_limit_bytes),
                        f"{source} linkerd-proxy resources",
                    ),
                    Evidence("share", round(share, 4), source),
                ),
                fix=(_limit_fix(ref, "256Mi"), f"kubectl -n {pod.namespace} delete pod {pod.name}"),
                runbook="Raise the proxy's memory limit through its annotation (the workload "
                "restarts), or delete the pod to start its proxy afresh if memory creeps.",
                order=-share,
            )
        )
    return found


def check_memory_growth(ctx: Context) -> list[Finding]:
    """**Proxy memory creeping up** (`memory.growth`).

    Detects: workloads whose proxies' memory grows by at least
    `memory_growth_warning_mib_per_week` (1 MiB) a week: the median of the pods' own
    least-squares slopes over meshdash's long history (pods with at least
    `memory_growth_min_points` points), ranked fastest first, with the projected date the
    fastest pod reaches its limit; critical when that is within
    `memory_projection_critical_days` (14).

    Why it matters: a proxy growing 1-2 MB a week from about 10 MB reaches a 64Mi limit in
    months and is then OOM-killed or evicted, usually all replicas at once.

    Fix: restart the workload to reset its proxies (buys weeks), raise the limit, and upgrade
    the proxy if a newer release fixes the leak.
    """
    if ctx.history is None:
        return []
    t = ctx.thresholds
    current = {(p.namespace, p.name): p for p in ctx.snapshot.pods}
    by_owner: dict[Ref, list] = defaultdict(list)
    for h in ctx.history.pods:
        if h.workload_kind and h.workload_name:
            ref = Ref(h.namespace, h.workload_kind, h.workload_name)
        else:
            ref = Ref(h.namespace, "pod", h.pod)
        by_owner[ref].append(h)
    threshold = t.memory_growth_warning_mib_per_week * MIB
    found = []
    for ref, pods in by_owner.items():
        # The median of the pods' own slopes (``workload_growth_per_week``), each pod's slope
        # worked out once per history (``PodHistory.memory_trend``).
        trends = [(h, h.memory_trend) for h in pods]
        slopes = [
            slope
            for _, (known, slope, _) in trends
            if known >= t.memory_growth_min_points and slope is not None
        ]
        growth = statistics.median(slopes) if slopes else None
        if growth is None or growth < threshold:
            continue
        evidence = [
            Evidence("median growth per week", mib(growth), f"{len(pods)} pod(s), meshdash history")
        ]
        # The pod that reaches its limit first, among those still running with a limit.
        soonest = None
        for h, (known, slope, last) in trends:
            if known < t.memory_growth_min_points:
                continue
            pod = current.get((h.namespace, h.pod))
            if not slope or slope <= 0 or pod is None or not pod.proxy_memory_limit_bytes:
                continue
            now_bytes = pod.proxy_memory_bytes or last
            weeks = max(pod.proxy_memory_limit_bytes - now_bytes, 0.0) / slope
            at = ctx.now + weeks * WEEK
            if soonest is None or at < soonest[0]:
                soonest = (at, pod, slope, now_bytes)
        severity = WARNING
        summary = f"Proxy memory of {ref.name} grows {mib(growth)} a week"
        if soonest is not None:
            at, pod, slope, now_bytes = soonest
            source = f"pod {pod.namespace}/{pod.name}"
            evidence += [
                Evidence("fastest pod growth per week", mib(slope), source),
                Evidence("resident memory", mib(now_bytes), source),
                Evidence("limit", mib(pod.proxy_memory_limit_bytes), source),
                Evidence("projected to reach the limit", utc_date(at), source),
            ]
            summary += f", at its limit around {utc_date(at)}"
            if at - ctx.now <= t.memory_projection_critical_days * 86400:
                severity = CRITICAL
        found.append(
            Finding(
                check="memory.growth",
                severity=severity,
                subject=(ref,),
                summary=summary,
                evidence=tuple(evidence),
                fix=(restart_command(ref), _limit_fix(ref, "256Mi")),
                runbook="Restart the workload to reset its proxies' memory, raise the proxy "
                "memory limit, and check the proxy release notes for a leak fixed upstream.",
                order=-growth,
            )
        )
    return found


def check_oom(ctx: Context) -> list[Finding]:
    """**OOMKilled proxies** (`memory.oom`).

    Detects: pods whose proxy container last ended OOMKilled (critical), told apart from pods
    whose application container did (info: not the mesh's doing, shown so nobody blames the
    proxy). One finding per workload.

    Why it matters: a killed proxy drops every connection of its pod; repeated kills mean
    the limit is below what the proxy needs.

    Fix: raise `config.linkerd.io/proxy-memory-limit`; for the application, its own limit.
    """
    proxy: dict[Ref, list] = defaultdict(list)
    app: dict[Ref, list] = defaultdict(list)
    for pod in ctx.snapshot.pods:
        if not pod.has_proxy:
            continue
        if pod.proxy_last_termination == "OOMKilled":
            proxy[owner_ref(pod)].append(pod)
        elif pod.app_last_termination == "OOMKilled":
            app[owner_ref(pod)].append(pod)
    found = []
    for ref, pods in proxy.items():
        found.append(
            Finding(
                check="memory.oom",
                severity=CRITICAL,
                subject=(ref,),
                summary=f"Proxy OOMKilled in {len(pods)} pod(s) of {ref.name}",
                evidence=tuple(
                    Evidence(
                        "linkerd-proxy last termination",
                        f"OOMKilled ({p.proxy_restarts} restarts), "
                        f"limit {mib(p.proxy_memory_limit_bytes)}",
                        f"pod {p.namespace}/{p.name}",
                    )
                    for p in pods[:5]
                ),
                fix=(_limit_fix(ref, "256Mi"),),
                runbook="The proxy needs more memory than its limit: raise it (the workload "
                "restarts with the new limit).",
                order=-len(pods),
            )
        )
    for ref, pods in app.items():
        found.append(
            Finding(
                check="memory.oom",
                severity=INFO,
                subject=(ref,),
                summary=f"Application container OOMKilled in {len(pods)} pod(s) of {ref.name} "
                "(not the proxy)",
                evidence=tuple(
                    Evidence(
                        f"{p.app_last_termination_container or 'application'} last termination",
                        "OOMKilled",
                        f"pod {p.namespace}/{p.name}",
                    )
                    for p in pods[:5]
                ),
                fix=(f"kubectl -n {ref.namespace} describe {ref.kind} {ref.name}",),
                runbook="The application's own container hit its limit; the proxy is fine.",
                order=-len(pods),
            )
        )
    return found


def check_limit_for_traffic(ctx: Context) -> list[Finding]:
    """**Proxy limit too low for the traffic** (`memory.limit`).

    Detects: workloads whose pods serve at least `busy_pod_rps` (100) requests a second
    with a proxy memory limit of at most `busy_min_limit_mib` (64Mi, Linkerd's default).
    Warning, one finding per workload.

    Why it matters: a proxy's memory grows with its connections and in-flight requests; a
    busy service on the default limit is OOM-killed at its first traffic spike.

    Fix: set `config.linkerd.io/proxy-memory-limit` (and the request) to what the busiest
    pod's proxy uses plus headroom, e.g. 256Mi.
    """
    t = ctx.thresholds
    by_owner: dict[Ref, list] = defaultdict(list)
    for pod in ctx.data_plane_pods():
        limit = pod.proxy_memory_limit_bytes
        if limit and limit <= t.busy_min_limit_mib * MIB and pod.rps >= t.busy_pod_rps:
            by_owner[owner_ref(pod)].append(pod)
    found = []
    for ref, pods in by_owner.items():
        busiest = max(pods, key=lambda p: p.rps)
        source = f"pod {busiest.namespace}/{busiest.name}"
        found.append(
            Finding(
                check="memory.limit",
                severity=WARNING,
                subject=(ref,),
                summary=f"Proxy memory limit {mib(busiest.proxy_memory_limit_bytes)} is low "
                f"for {ref.name}'s {busiest.rps:.0f} req/s a pod",
                evidence=(
                    Evidence("requests per second", round(busiest.rps, 1), source),
                    Evidence("proxy memory limit", mib(busiest.proxy_memory_limit_bytes), source),
                    Evidence("resident memory", mib(busiest.proxy_memory_bytes), source),
                    Evidence("busy pods on a low limit", len(pods), "snapshot"),
                ),
                fix=(_limit_fix(ref, "256Mi"),),
                runbook="Give the proxy a limit sized from its busiest pod plus headroom.",
                order=-busiest.rps,
            )
        )
    return found
