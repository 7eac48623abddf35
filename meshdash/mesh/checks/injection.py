"""Injection checks: annotations the injector ignores or never sees, pods without their proxy,
pods stuck in init, injection skipped or denied."""

from collections import defaultdict

from meshdash.mesh.checks.context import (
    FINISHED_PHASES,
    Context,
    owner_ref,
    pod_ref,
    restart_command,
    workload_ref,
)
from meshdash.mesh.checks.findings import (
    CRITICAL,
    NAMESPACE,
    WARNING,
    Evidence,
    Finding,
    Ref,
    duration,
)

INJECT = "linkerd.io/inject"
VALID_INJECT = ("enabled", "disabled", "ingress")
DOCS = "https://linkerd.io/2/features/proxy-injection/"


def _valid(value: str) -> bool:
    return value == "" or value in VALID_INJECT


def check_annotation_values(ctx: Context) -> list[Finding]:
    """**Invalid inject annotation** (`injection.annotation`).

    Detects: a `linkerd.io/inject` value other than `enabled`, `disabled` or `ingress` on a
    namespace, a workload's pod template or a workload's own metadata (e.g. `true`, `Enabled`).
    Warning, one finding per object.

    Why it matters: the injector silently ignores any other value: the pods start without a
    proxy and nothing says why.

    Fix: set the annotation to `enabled` and restart the workloads.
    """
    found = []

    def add(ref: Ref, where: str, value: str, fix: tuple[str, ...]) -> None:
        found.append(
            Finding(
                check="injection.annotation",
                severity=WARNING,
                subject=(ref,),
                summary=f"{INJECT}: {value!r} on {where} is not a value the injector knows",
                evidence=(
                    Evidence(INJECT, value, where),
                    Evidence("valid values", ", ".join(VALID_INJECT), DOCS),
                ),
                fix=fix,
                runbook="The proxy injector only acts on enabled, disabled and ingress; any other "
                "value is ignored. Set it to enabled, then restart the workloads.",
            )
        )

    for ns in ctx.snapshot.namespaces:
        if not _valid(ns.inject_annotation):
            add(
                Ref("", NAMESPACE, ns.name),
                f"namespace {ns.name}",
                ns.inject_annotation,
                (f"kubectl annotate namespace {ns.name} {INJECT}=enabled --overwrite",),
            )
    for w in ctx.snapshot.workloads:
        ref = workload_ref(w)
        if not _valid(w.inject_annotation):
            add(
                ref,
                f"the pod template of {w.kind} {w.namespace}/{w.name}",
                w.inject_annotation,
                (
                    f"kubectl -n {w.namespace} patch {w.kind} {w.name} --type merge -p "
                    f'\'{{"spec":{{"template":{{"metadata":{{"annotations":'
                    f'{{"{INJECT}":"enabled"}}}}}}}}}}\'',
                ),
            )
        own = ctx.inputs.workload_metadata_inject.get(w.key, "")
        if not _valid(own):
            add(
                ref,
                f"the metadata of {w.kind} {w.namespace}/{w.name}",
                own,
                (f"kubectl -n {w.namespace} annotate {w.kind} {w.name} {INJECT}-",),
            )
    return found


def check_misplaced_annotation(ctx: Context) -> list[Finding]:
    """**Inject annotation on the workload, not its pods** (`injection.misplaced`).

    Detects: a workload whose own metadata carries `linkerd.io/inject` while its pod
    template does not. Warning.

    Why it matters: the injector reads pods, so an annotation on the Deployment's metadata
    is never seen: the pods run without a proxy.

    Fix: move the annotation to `spec.template.metadata.annotations` (that restarts the pods).
    """
    found = []
    for w in ctx.snapshot.workloads:
        own = ctx.inputs.workload_metadata_inject.get(w.key, "")
        if not own or w.inject_annotation:
            continue
        ref = workload_ref(w)
        found.append(
            Finding(
                check="injection.misplaced",
                severity=WARNING,
                subject=(ref,),
                summary=f"{INJECT} is on {w.kind} {w.name}'s metadata, not its pod template",
                evidence=(
                    Evidence(f"{INJECT} on the object", own, f"{w.kind} {w.namespace}/{w.name}"),
                    Evidence(
                        f"{INJECT} on the pod template",
                        "absent",
                        f"{w.kind} {w.namespace}/{w.name}",
                    ),
                    Evidence("meshed pods", f"{w.meshed_pods} of {w.total_pods}", "snapshot"),
                ),
                fix=(
                    f"kubectl -n {w.namespace} patch {w.kind} {w.name} --type merge -p "
                    f'\'{{"spec":{{"template":{{"metadata":{{"annotations":'
                    f'{{"{INJECT}":"{own}"}}}}}}}}}}\'',
                    f"kubectl -n {w.namespace} annotate {w.kind} {w.name} {INJECT}-",
                ),
                runbook="Put the annotation on the pod template; patching the template rolls "
                "the pods, which then get their proxy.",
            )
        )
    return found


def check_missing_proxy(ctx: Context) -> list[Finding]:
    """**Pods without a proxy where injection is asked for** (`injection.missing-proxy`).

    Detects: pods (running or still starting) without a proxy in a namespace annotated
    `enabled` (or whose pod template says `enabled`), told apart from deliberate opt-outs
    (`inject: disabled` on the pod), finished pods (completed Jobs) and scaled-to-zero
    workloads, none of which count; the control plane's own pods never count either.
    Pods created before their namespace was annotated (when that time is collected) are
    reported as "not restarted since the namespace was annotated"; the others as "injection
    failed". Warning, one finding per workload.

    Why it matters: those pods bypass mTLS, policy and metrics, and callers see them as
    unmeshed.

    Fix: restart the workload; if its new pods still lack a proxy, look at the injection
    events and webhooks (`injection.events`, `webhooks.*`).
    """
    ns_annotation = {ns.name: ns.inject_annotation for ns in ctx.snapshot.namespaces}
    annotated_at = ctx.inputs.namespace_annotated_at
    stale: dict[Ref, list] = defaultdict(list)
    failed: dict[Ref, list] = defaultdict(list)
    for pod in ctx.snapshot.pods:
        if pod.has_proxy or pod.phase in FINISHED_PHASES:
            continue
        if pod.namespace == ctx.control_plane_namespace:
            continue
        if pod.inject_annotation in ("disabled",):
            continue
        namespace = ns_annotation.get(pod.namespace, pod.namespace_inject_annotation)
        if pod.inject_annotation != "enabled" and namespace != "enabled":
            continue
        since = annotated_at.get(pod.namespace)
        old = (
            pod.inject_annotation != "enabled"
            and since is not None
            and pod.created_at is not None
            and pod.created_at < since
        )
        (stale if old else failed)[owner_ref(pod)].append(pod)
    found = []
    for ref, pods in stale.items():
        since = annotated_at[ref.namespace]
        found.append(
            Finding(
                check="injection.missing-proxy",
                severity=WARNING,
                subject=(ref,),
                summary=f"{len(pods)} pod(s) of {ref.name} not restarted since namespace "
                f"{ref.namespace} was annotated",
                evidence=(Evidence("namespace annotated at", since, f"namespace {ref.namespace}"),)
                + tuple(
                    Evidence("pod created at", p.created_at, f"pod {p.namespace}/{p.name}")
                    for p in pods[:5]
                ),
                fix=(restart_command(ref),),
                runbook="Injection happens when a pod is created: pods older than the "
                "namespace's annotation never got a proxy. Restart the workload.",
                order=-len(pods),
            )
        )
    for ref, pods in failed.items():
        found.append(
            Finding(
                check="injection.missing-proxy",
                severity=WARNING,
                subject=(ref,),
                summary=f"{len(pods)} pod(s) of {ref.name} have no proxy in an injected namespace",
                evidence=(
                    Evidence(
                        f"{INJECT} on namespace",
                        ns_annotation.get(ref.namespace, "") or "absent",
                        f"namespace {ref.namespace}",
                    ),
                )
                + tuple(
                    Evidence(
                        "pod without proxy", p.status or p.phase, f"pod {p.namespace}/{p.name}"
                    )
                    for p in pods[:5]
                ),
                fix=(
                    restart_command(ref),
                    f"kubectl -n {ref.namespace} get events --field-selector reason=FailedCreate",
                ),
                runbook="Restart the workload. If the new pods still have no proxy, the "
                "injector skipped or was denied: read the events and the webhooks findings.",
                order=-len(pods),
            )
        )
    return found


def check_stuck_init(ctx: Context) -> list[Finding]:
    """**Pods stuck in init** (`injection.stuck-init`).

    Detects: pods still in their init containers (`Init:0/1`, linkerd-init or the CNI's
    validator) more than `stuck_init_minutes` (5) after they were created. Warning, one
    finding per workload.

    Why it matters: with some CNIs linkerd-init cannot set up iptables (or linkerd-cni is not
    ready on the node): the pod never starts and a rollout hangs.

    Fix: read the init container's logs; install or repair linkerd-cni, or give linkerd-init
    the capabilities it needs (NET_ADMIN, NET_RAW).
    """
    limit = ctx.thresholds.stuck_init_minutes * 60
    by_owner: dict[Ref, list] = defaultdict(list)
    for pod in ctx.snapshot.pods:
        if pod.phase in FINISHED_PHASES:
            continue
        if not (pod.status.startswith("Init:") or pod.init_waiting):
            continue
        if pod.created_at is None or ctx.now - pod.created_at <= limit:
            continue
        by_owner[owner_ref(pod)].append(pod)
    found = []
    for ref, pods in by_owner.items():
        oldest = min(pods, key=lambda p: p.created_at)
        container = oldest.init_waiting or "linkerd-init"
        found.append(
            Finding(
                check="injection.stuck-init",
                severity=WARNING,
                subject=(ref, pod_ref(oldest)),
                summary=f"{len(pods)} pod(s) of {ref.name} stuck in init for "
                f"{duration(ctx.now - oldest.created_at)}",
                evidence=tuple(
                    Evidence(
                        "status",
                        f"{p.status or 'Init'} ({p.init_waiting or 'init'}) "
                        f"for {duration(ctx.now - p.created_at)}",
                        f"pod {p.namespace}/{p.name}",
                    )
                    for p in pods[:5]
                ),
                fix=(
                    f"kubectl -n {ref.namespace} logs {oldest.name} -c {container}",
                    f"kubectl -n {ref.namespace} describe pod {oldest.name}",
                    "kubectl -n linkerd-cni get pods -o wide",
                ),
                runbook="linkerd-init could not set up the pod's network redirect: check its "
                "logs, the node's CNI, and linkerd-cni if it is installed.",
                order=-(ctx.now - oldest.created_at),
            )
        )
    return found


def _denied(message: str) -> bool:
    text = message.lower()
    return "admission webhook" in text and "denied" in text


def check_injection_events(ctx: Context) -> list[Finding]:
    """**Injection skipped or denied** (`injection.events`).

    Detects, in the bounded list of recent events: `InjectionSkipped` (warning: the injector
    saw the pod and chose not to inject it, the message says why) and `FailedCreate` events
    whose message says an admission webhook denied the request (critical: the workload
    cannot create pods, often Gatekeeper, Kyverno or Istio rejecting the injected pod).
    One finding per workload (critical when any of its events is a denial).

    Why it matters: a skipped injection leaves the pods unmeshed; a denial stops the rollout.

    Fix: read the event's message; for a denial, fix the other webhook's policy (or exempt
    linkerd's containers) and restart the workload.
    """
    # One finding per workload: a finding is known by its check and subject (muting, since).
    groups: dict[Ref, list] = defaultdict(list)
    for event in ctx.snapshot.events:
        if not (
            event.reason == "InjectionSkipped"
            or (event.reason == "FailedCreate" and _denied(event.message))
        ):
            continue
        if event.workload_kind and event.workload_name:
            ref = Ref(event.namespace, event.workload_kind, event.workload_name)
        else:
            ref = Ref(event.namespace, event.object_kind.lower(), event.object_name)
        groups[ref].append(event)
    found = []
    for ref, events in groups.items():
        # Denials first: they are what stops the rollout.
        events.sort(key=lambda e: (e.reason != "FailedCreate", -(e.last_seen or 0)))
        count = sum(max(e.count, 1) for e in events)
        reasons = sorted({e.reason for e in events})
        denied = "FailedCreate" in reasons
        skipped = "InjectionSkipped" in reasons
        latest = events[0]
        if denied and skipped:
            summary = f"An admission webhook denies {ref.name}'s pods; injection also skipped"
        elif denied:
            summary = f"An admission webhook denies {ref.name}'s pods"
        else:
            summary = f"Injection skipped for {ref.name}"
        runbook = []
        if denied:
            runbook.append(
                "Another admission webhook rejects the injected pod: read its message, "
                "adjust that policy (or exempt linkerd-init/linkerd-proxy), then restart."
            )
        if skipped:
            runbook.append(
                "The injector skipped the pod: its message names the reason (host "
                "network, an opt-out annotation, an unsupported port). Fix it and restart."
            )
        found.append(
            Finding(
                check="injection.events",
                severity=CRITICAL if denied else WARNING,
                subject=(ref,),
                summary=summary,
                evidence=tuple(
                    Evidence(
                        e.reason,
                        e.message,
                        f"event on {e.object_kind} {e.namespace}/{e.object_name} (x{e.count})",
                    )
                    for e in events[:5]
                )
                + (Evidence("events", count, "recent events"),),
                fix=tuple(
                    f"kubectl -n {ref.namespace} get events --field-selector "
                    f"reason={reason},involvedObject.name={latest.object_name}"
                    for reason in reasons
                )
                + (
                    "kubectl get mutatingwebhookconfigurations,validatingwebhookconfigurations",
                    restart_command(ref),
                ),
                runbook=" ".join(runbook),
                order=-count,
            )
        )
    return found
