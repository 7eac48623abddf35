"""What a snapshot version consists of: its keys, the kind of each and its content, worked out
from plain data (no Redis here: ``SnapshotStore`` creates the keys and reads them back).

Key names are relative to the version (``SnapshotStore._version_key`` adds the prefix and the
version id). Kinds, as ``SnapshotStore._create_keys`` creates them: "string"; "hash" and "set"
(any text); "members" (numbers for a set) and "order" (numbers in display order, each scored by
its position). ``version_values`` leaves out keys whose content is empty: Redis keeps no empty
hash or set.
"""

import array
import itertools
import sys
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace

from meshdash.mesh.checks.findings import Finding
from meshdash.mesh.checks.findings import to_dict as finding_to_dict
from meshdash.mesh.columns import POD_SORT_KEYS, SERVICE_SORT_KEYS
from meshdash.mesh.model import Edge, Namespace, Pod, Service, Snapshot, Workload
from meshdash.mesh.overview import Overview
from meshdash.mesh.query import WorkloadQuery
from meshdash.store import codec, lists, ordering
from meshdash.store.namespaces import orders as namespace_orders

# Relative key name -> (kind, content).
Values = dict[str, tuple[str, object]]
Orders = dict[tuple[str, bool], list[int]]


@dataclass(frozen=True)
class ListKeys:
    """The keys a paged list keeps per version: ``rows`` (hash number -> JSON row), ``ids``
    (hash id -> number), ``names`` ("lowercased name<TAB>number" lines for the name search) and
    a sorted set per sort key and direction (number -> position in that order); the
    workload list also the one-letter search's index (``search_values``). ``item`` is the
    dataclass of a row."""

    item: type
    rows: str
    ids: str
    names: str
    sorted_prefix: str
    search_bits: str = "search_bits"

    def sorted(self, sort: str, descending: bool) -> str:
        return f"{self.sorted_prefix}:{sort}:{'desc' if descending else 'asc'}"

    def search_counts(self, sort: str, descending: bool) -> str:
        """The one-letter search's counts per bucket of this order (``search_values``)."""
        return f"search:{sort}:{'desc' if descending else 'asc'}"

    def precomputed(self, filter_key: str) -> "ListKeys":
        """The same list restricted to the filter set ``filter_key``, its orders packed
        (``precomputed_values``), for the filters of PRECOMPUTED_FILTERS."""
        return replace(self, sorted_prefix=f"f:{filter_key}")


WORKLOADS = ListKeys(Workload, "rows", "ids", "names", "z")
NAMESPACES = ListKeys(Namespace, "ns_rows", "ns_ids", "ns_names", "ns_z")
PODS = ListKeys(Pod, "pod_rows", "pod_ids", "pod_names", "pod_z")  # ids "namespace/name"
SERVICES = ListKeys(Service, "svc_rows", "svc_ids", "svc_names", "svc_z")


# The filters whose views alone (no namespace, no search, no other filter) are kept in every
# order, packed, 4 bytes a workload per order and filter (about 0.26 MB per 1,000 workloads):
# a page of one is a slice, however many workloads match, where intersecting the sorted set
# with the filter set costs in proportion to the match (22 ms for 10,000 matches). Each
# filter's values split the workloads (health "" is in none); teams and labels are left out:
# their values are the mesh's own, as many as it has.
PRECOMPUTED_FILTERS = ("health", "kind", "meshed")


# The one-letter name search's index, kept for the workload list (``search_values``): a search
# for one of these characters is read from it, a page costing about a bucket of positions
# whatever the number of matches; other needles scan the names blob.
SEARCH_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789-."
SEARCH_BUCKET = 256
# Each character as a 16-bit field of one number: a name's number has a 1 in the field of
# each character it holds, and a bucket's counts are the sum of its names' numbers (a count
# never passes 256), one C addition a name rather than one step per character.
_FIELD = {char: 1 << (16 * i) for i, char in enumerate(SEARCH_ALPHABET)}
_ZEROS = itertools.repeat(0)
_DIGITS = bytes.maketrans(b"\x00\x01", b"01")


def search_letter(search: str) -> int | None:
    """The index in SEARCH_ALPHABET of a one-character search (lowercased), else None."""
    needle = search.lower()
    index = SEARCH_ALPHABET.find(needle) if len(needle) == 1 else -1
    return None if index < 0 else index


def precomputed_filter(namespace_sets: list[str], filters: list[str], search: str) -> str | None:
    """The one filter set of a view kept precomputed, or None when the view is another."""
    if namespace_sets or search or len(filters) != 1:
        return None
    name = filters[0].partition(":")[0]
    return filters[0] if name in PRECOMPUTED_FILTERS else None


def filter_set(name: str, value: object) -> str:
    """The set of the workload numbers whose ``name`` ("ns", "kind", "health", "meshed" or
    "team") is ``value``."""
    return f"{name}:{value}"


def filter_sets(query: WorkloadQuery) -> tuple[list[str], list[str]]:
    """The sets ``query`` reads: its namespaces' (a workload is in one of them, none: any
    namespace), and the others (a workload is in every one)."""
    others = []
    if query.kind:
        others.append(filter_set("kind", query.kind))
    if query.health:
        others.append(filter_set("health", query.health))
    if query.meshed is not None:
        others.append(filter_set("meshed", 1 if query.meshed else 0))
    if query.team:
        others.append(filter_set("team", query.team))
    others.extend(filter_set("label", label) for label in sorted(set(query.labels)))
    return [filter_set("ns", name) for name in sorted(set(query.namespaces))], others


def version_values(
    snapshot: Snapshot, version: str, overview: Overview, findings: Sequence[Finding] | None = None
) -> Values:
    """Every key of the version ``version`` of ``snapshot``, with its kind and content; with
    the on-call checks' ``findings`` when the collection ran them (None: it did not)."""
    workloads = snapshot.workloads
    orders = ordering.orders(workloads)
    values = list_values(
        WORKLOADS, workloads, [f"{w.namespace}/{w.kind}/{w.name}" for w in workloads], orders
    )
    values.update(_filter_values(workloads))
    values.update(precomputed_values(workloads, orders))
    values.update(search_values([w.name.lower() for w in workloads], orders))
    values.update(_detail_values(snapshot))
    namespaces = sorted(snapshot.namespaces, key=lambda n: n.name)
    names = sorted({n.name for n in namespaces} | {w.namespace for w in workloads})
    values["namespaces"] = ("string", codec.dumps([codec.to_dict(n) for n in namespaces]))
    values["namespace_names"] = ("string", codec.dumps(names))
    values["control_plane"] = ("string", codec.dumps(codec.to_dict(snapshot.control_plane)))
    values.update(namespace_values(namespaces))
    values["overview"] = ("string", codec.overview_json(overview))
    if findings is not None:
        values["findings"] = ("string", codec.dumps([finding_to_dict(f) for f in findings]))
    values.update(pod_and_service_values(snapshot))
    values["meta"] = (
        "string",
        codec.dumps(
            {
                "version": version,
                "window": snapshot.window,
                "taken_at": snapshot.taken_at,
                "collect_seconds": snapshot.collect_seconds,
                "errors": snapshot.errors,
                "prometheus_seconds": snapshot.prometheus_seconds,
                "kubernetes_seconds": snapshot.kubernetes_seconds,
                "query_count": snapshot.query_count,
                "workload_count": len(workloads),
                "health_rules": snapshot.health_rules,
            }
        ),
    )
    return {key: value for key, value in values.items() if value[1]}


def namespace_values(namespaces: list[Namespace]) -> Values:
    """The namespaces list (sorted by name) kept as the workload list is, so that a page of it
    is one page read."""
    return list_values(
        NAMESPACES, namespaces, [n.name for n in namespaces], namespace_orders(namespaces)
    )


def list_values(
    keys: ListKeys, items: Sequence, ids: list[str], orders: Orders, *, packed: bool = False
) -> Values:
    """A list's keys (``ListKeys``): ``items`` numbered in their order, ``ids`` theirs; with
    ``packed``, each order a string of packed numbers (``scripts.PACKED_PAGE``) rather than a
    sorted set."""
    values: Values = {
        keys.rows: ("hash", {i: codec.row_json(item) for i, item in enumerate(items)}),
        keys.ids: ("hash", {id_: i for i, id_ in enumerate(ids)}),
        # One line an item; a newline inside a name would end it early.
        keys.names: (
            "string",
            "".join(
                f"{item.name.lower().replace(chr(10), ' ')}\t{i}\n" for i, item in enumerate(items)
            ),
        ),
    }
    for (sort, descending), in_order in orders.items():
        values[keys.sorted(sort, descending)] = (
            ("string", codec.pack_numbers(in_order)) if packed else ("order", in_order)
        )
    return values


def precomputed_values(workloads: list[Workload], orders: Orders) -> Values:
    """Each order of the workloads split by each filter of PRECOMPUTED_FILTERS, packed
    (``codec.pack_numbers``): ``f:{filter set}:{sort}:{direction}``."""
    values_of = {
        "health": [w.health or None for w in workloads],
        "kind": [w.kind for w in workloads],
        "meshed": [1 if w.meshed_pods > 0 else 0 for w in workloads],
    }
    values: Values = {}
    for name, of in values_of.items():
        # Each workload's value as text once, not once per order (a lambda per comparison key
        # was half of this function).
        text_of = [str(value) for value in of]
        for (sort, descending), in_order in orders.items():
            # A stable sort by value keeps each value's workloads in the order's order.
            grouped = sorted(in_order, key=text_of.__getitem__)
            for value, numbers in itertools.groupby(grouped, key=of.__getitem__):
                if value is not None:
                    key = WORKLOADS.precomputed(filter_set(name, value)).sorted(sort, descending)
                    values[key] = ("string", codec.pack_numbers(list(numbers)))
    return values


def search_values(names: list[str], orders: Orders) -> Values:
    """The one-letter search's index of ``names`` (lowercased, numbered as the workloads):
    ``search:{sort}:{direction}``, per order, for each character of SEARCH_ALPHABET in turn,
    how many names hold it in each bucket of SEARCH_BUCKET positions (2 bytes a count,
    little-endian); and ``search_bits``, for each character in turn a bitmap over workload
    numbers (bit ``n % 8`` of byte ``n // 8`` set when name ``n`` holds it)."""
    if not names:
        return {}
    width = len(SEARCH_ALPHABET)
    # Names holding the same characters share one number: fewer objects for the orders'
    # random reads to fetch (a third less time at 50,000 workloads).
    shared: dict[int, int] = {}
    fields = [
        shared.setdefault(n, n) for n in [sum(map(_FIELD.get, set(x), _ZEROS)) for x in names]
    ]
    field = fields.__getitem__
    values: Values = {}
    for (sort, descending), in_order in orders.items():
        counts = array.array(
            "H",
            b"".join(
                sum(map(field, in_order[start : start + SEARCH_BUCKET])).to_bytes(
                    2 * width, "little"
                )
                for start in range(0, len(in_order), SEARCH_BUCKET)
            ),
        )
        if sys.byteorder == "big":
            counts.byteswap()
        values[WORKLOADS.search_counts(sort, descending)] = (
            "string",
            b"".join(counts[char::width].tobytes() for char in range(width)),
        )
    # A 0 or 1 byte per character and name, name after name; each character's column of
    # it, read backwards as binary digits, is its bitmap.
    held = b"".join([number.to_bytes(2 * width, "little")[::2] for number in fields])
    digits = held.translate(_DIGITS)
    size = (len(names) + 7) // 8
    values[WORKLOADS.search_bits] = (
        "string",
        b"".join(
            int(digits[char::width][::-1], 2).to_bytes(size, "little") for char in range(width)
        ),
    )
    return values


def _filter_values(workloads: list[Workload]) -> Values:
    filters: dict[tuple[str, object], list[int]] = defaultdict(list)
    for i, w in enumerate(workloads):
        filters["ns", w.namespace].append(i)
        filters["kind", w.kind].append(i)
        filters["meshed", 1 if w.meshed_pods > 0 else 0].append(i)
        if w.health:
            filters["health", w.health].append(i)
        if w.team:
            filters["team", w.team].append(i)
        for key, value in w.labels.items():
            filters["label", f"{key}={value}"].append(i)
    return {
        filter_set(name, value): ("members", members) for (name, value), members in filters.items()
    }


def _detail_values(snapshot: Snapshot) -> Values:
    """``in`` / ``out`` / ``pods`` / ``routes``: hashes of workload number -> JSON rows."""
    # Plain tuples: building a WorkloadKey per edge and pod is what a large write spends on.
    # Each row is encoded once, also an edge that is both a caller's and a callee's.
    number = {(w.namespace, w.kind, w.name): i for i, w in enumerate(snapshot.workloads)}
    callers, callees = defaultdict(list), defaultdict(list)
    for edge in sorted(snapshot.edges, key=edge_order):
        row = codec.row_json(edge)
        dst = number.get((edge.dst_namespace, edge.dst_kind, edge.dst_name))
        if dst is not None:
            callers[dst].append(row)
        src = number.get((edge.src_namespace, edge.src_kind, edge.src_name))
        if src is not None:
            callees[src].append(row)
    pods = defaultdict(list)
    for pod in sorted(snapshot.pods, key=lambda p: p.name):
        owner = number.get((pod.namespace, pod.workload_kind, pod.workload_name))
        if owner is not None:
            pods[owner].append(codec.row_json(pod))
    routes = defaultdict(list)
    for route in sorted(snapshot.routes, key=lambda r: (r.route, r.service)):
        owner = number.get((route.namespace, route.kind, route.name))
        if owner is not None:
            routes[owner].append(codec.row_json(route))
    events = defaultdict(list)
    for event in sorted(snapshot.events, key=lambda e: -(e.last_seen or 0.0)):
        owner = number.get((event.namespace, event.workload_kind, event.workload_name))
        if owner is not None:
            events[owner].append(codec.row_json(event))
    authz = defaultdict(list)
    for decision in sorted(snapshot.authorizations, key=lambda a: (a.server, a.policy)):
        owner = number.get((decision.namespace, decision.kind, decision.name))
        if owner is not None:
            authz[owner].append(codec.row_json(decision))
    return {
        name: ("hash", {i: f"[{','.join(rows)}]" for i, rows in grouped.items()})
        for name, grouped in (
            ("in", callers),
            ("out", callees),
            ("pods", pods),
            ("routes", routes),
            ("events", events),
            ("authz", authz),
        )
    }


def pod_and_service_values(snapshot: Snapshot) -> Values:
    """The pods and Services lists (``lists``), a Service's callers and routes, and the mTLS
    and authorization pages' rows."""
    pods = lists.pod_order(snapshot.pods)
    services = lists.service_order(snapshot.services)
    values = list_values(
        PODS,
        pods,
        [f"{p.namespace}/{p.name}" for p in pods],
        lists.orders(pods, POD_SORT_KEYS),
        packed=True,
    )
    values.update(
        list_values(
            SERVICES,
            services,
            [f"{s.namespace}/{s.name}" for s in services],
            lists.orders(services, SERVICE_SORT_KEYS, health=True),
            packed=True,
        )
    )
    for name, members in (
        *lists.pod_filters(pods).items(),
        *lists.service_filters(services).items(),
    ):
        values[name] = ("members", members)
    for name, grouped in (
        ("svc_callers", lists.service_callers(snapshot, services)),
        ("svc_routes", lists.service_routes(snapshot, services)),
    ):
        values[name] = ("hash", {i: f"[{','.join(rows)}]" for i, rows in grouped.items()})
    plain, unmeshed = lists.plaintext_edges(snapshot.edges)
    values["mtls"] = (
        "string",
        codec.dumps(
            {
                "plaintext_edges": [codec.to_row(e) for e in plain],
                "unmeshed_clients": [codec.to_row(e) for e in unmeshed],
            }
        ),
    )
    values["authz_summary"] = ("string", codec.dumps(lists.authz_summary(snapshot.authorizations)))
    return values


def edge_order(edge: Edge) -> tuple:
    """Busiest first, then by source and destination."""
    return (
        -edge.rps,
        edge.src_namespace,
        edge.src_kind,
        edge.src_name,
        edge.dst_namespace,
        edge.dst_kind,
        edge.dst_name,
    )
