"""The pods and Services lists of a version, and what the workload, Service, mTLS and
authorization pages read besides: worked out from plain data as ``layout`` does (no Redis).

Pods are numbered in (namespace, name) order, Services likewise; their filter sets hold those
numbers (``pod_ns:{namespace}``, ``problem:{problem}``, ``proxy:{version}``, ``node:{node}``,
``pod_label:{key=value}``; ``svc_ns:{namespace}``, ``svc_health:{state}``), as the workload
list's sets hold workload numbers.
"""

from collections import defaultdict
from collections.abc import Sequence

from meshdash.mesh.health import HEALTH_ORDER
from meshdash.mesh.model import Authorization, Edge, Pod, Service, Snapshot
from meshdash.mesh.query import PodQuery, ServiceQuery
from meshdash.store import codec, ordering

# The most rows the mTLS and authorization pages keep per list, busiest first.
MAX_PLAINTEXT_EDGES = 500
MAX_TOP_DENIALS = 100
MAX_POLICY_ROWS = 500


def _values(items: Sequence, keys: dict[str, str], health: bool) -> dict[str, list]:
    found = {}
    for sort, attribute in keys.items():
        if sort == "health" and health:
            found[sort] = [HEALTH_ORDER.get(item.health) for item in items]
            continue
        values = [getattr(item, attribute) for item in items]
        found[sort] = [None if v is None or v != v else v for v in values]
    return found


def orders(items: Sequence, keys: dict[str, str], health: bool = False):
    """Indexes into ``items`` (in identity order) per sort key and direction, None last."""
    identity = list(range(len(items)))
    values = _values(items, keys, health)
    return {
        (sort, descending): ordering.order(items, sort, descending, identity, values[sort])
        for sort in keys
        for descending in (False, True)
    }


def pod_filter_sets(query: PodQuery) -> tuple[list[str], list[str]]:
    others = []
    if query.problem:
        others.append(f"problem:{query.problem}")
    if query.proxy_version:
        others.append(f"proxy:{query.proxy_version}")
    if query.node:
        others.append(f"node:{query.node}")
    others.extend(f"pod_label:{label}" for label in sorted(set(query.labels)))
    return [f"pod_ns:{name}" for name in sorted(set(query.namespaces))], others


def service_filter_sets(query: ServiceQuery) -> tuple[list[str], list[str]]:
    others = [f"svc_health:{query.health}"] if query.health else []
    return [f"svc_ns:{name}" for name in sorted(set(query.namespaces))], others


def pod_filters(pods: Sequence[Pod]) -> dict[str, list[int]]:
    sets: dict[str, list[int]] = defaultdict(list)
    for i, pod in enumerate(pods):
        sets[f"pod_ns:{pod.namespace}"].append(i)
        for problem in pod.problems:
            sets[f"problem:{problem}"].append(i)
        if pod.proxy_version:
            sets[f"proxy:{pod.proxy_version}"].append(i)
        if pod.node:
            sets[f"node:{pod.node}"].append(i)
        for key, value in pod.labels.items():
            sets[f"pod_label:{key}={value}"].append(i)
    return sets


def service_filters(services: Sequence[Service]) -> dict[str, list[int]]:
    sets: dict[str, list[int]] = defaultdict(list)
    for i, service in enumerate(services):
        sets[f"svc_ns:{service.namespace}"].append(i)
        if service.health:
            sets[f"svc_health:{service.health}"].append(i)
    return sets


def pod_order(pods: Sequence[Pod]) -> list[Pod]:
    return sorted(pods, key=lambda p: (p.namespace, p.name))


def service_order(services: Sequence[Service]) -> list[Service]:
    return sorted(services, key=lambda s: (s.namespace, s.name))


def service_callers(snapshot: Snapshot, services: Sequence[Service]) -> dict[int, list[str]]:
    """Service number -> JSON rows of the edges whose client called it, busiest first."""
    number = {(s.namespace, s.name): i for i, s in enumerate(services)}
    callers: dict[int, list[str]] = defaultdict(list)
    for edge in sorted(snapshot.edges, key=lambda e: -e.rps):
        i = number.get((edge.dst_namespace, edge.dst_service))
        if i is not None:
            callers[i].append(codec.row_json(edge))
    return callers


def route_service(route_service_text: str) -> tuple[str, str] | None:
    """(namespace, name) of the Service a route's ``service`` names: ``name.namespace`` for
    Gateway API routes, the authority ``name.namespace.svc.<domain>:port`` for
    ServiceProfile routes."""
    host = route_service_text.split(":", 1)[0]
    parts = host.split(".")
    if len(parts) < 2 or not parts[0] or not parts[1]:
        return None
    return parts[1], parts[0]


def service_routes(snapshot: Snapshot, services: Sequence[Service]) -> dict[int, list[str]]:
    number = {(s.namespace, s.name): i for i, s in enumerate(services)}
    routes: dict[int, list[str]] = defaultdict(list)
    for route in sorted(snapshot.routes, key=lambda r: (r.route, r.namespace, r.name)):
        key = route_service(route.service)
        i = None if key is None else number.get(key)
        if i is not None:
            routes[i].append(codec.row_json(route))
    return routes


def plaintext_edges(edges: Sequence[Edge]) -> tuple[list[Edge], list[Edge]]:
    """(edges between meshed workloads not over mTLS, edges from unmeshed clients), busiest
    first, each bounded by MAX_PLAINTEXT_EDGES."""
    plain = [e for e in edges if e.src_meshed and not e.tls]
    unmeshed = [e for e in edges if not e.src_meshed]
    busiest = lambda e: (-(e.rps or 0.0), -e.tcp_opened_per_second)  # noqa: E731
    return (
        sorted(plain, key=busiest)[:MAX_PLAINTEXT_EDGES],
        sorted(unmeshed, key=busiest)[:MAX_PLAINTEXT_EDGES],
    )


def authz_summary(authorizations: Sequence[Authorization]) -> dict[str, list]:
    """The authorization page's rows: the most denied first, and per Server and policy."""
    denied = sorted(
        (a for a in authorizations if a.denied > 0),
        key=lambda a: (-a.denied, a.namespace, a.kind, a.name, a.server),
    )
    by_policy = sorted(
        authorizations,
        key=lambda a: (a.namespace, a.server, a.policy, a.kind, a.name),
    )
    return {
        "top_denials": [codec.to_row(a) for a in denied[:MAX_TOP_DENIALS]],
        "by_policy": [codec.to_row(a) for a in by_policy[:MAX_POLICY_ROWS]],
        "total": len(authorizations),
    }
