"""The version layout and the overview's encoding, without Redis."""

from meshdash.mesh.columns import NAMESPACE_SORT_KEYS
from meshdash.mesh.model import ControlPlane, Edge, HistoryPoint, Namespace, Pod, Snapshot, Workload
from meshdash.mesh.overview import Drop, Overview, Totals, summarise
from meshdash.mesh.query import SORT_KEYS, WorkloadQuery
from meshdash.store import codec, layout


def small_snapshot() -> Snapshot:
    return Snapshot(
        "1m",
        taken_at=1_000.0,
        workloads=[
            Workload("shop", "deployment", "Web", meshed_pods=1, health="healthy", team="t1"),
            Workload("shop", "statefulset", "db", health="not-meshed"),
        ],
        edges=[
            Edge("shop", "deployment", "Web", "shop", "statefulset", "db", rps=2.0),
            Edge("shop", "deployment", "Web", "gone", "deployment", "x", rps=5.0),
        ],
        pods=[Pod("shop", "web-1", "deployment", "Web"), Pod("shop", "web-0", "deployment", "Web")],
        namespaces=[Namespace("shop", "enabled"), Namespace("empty")],
    )


def test_it_lays_out_every_list_index_and_filter_set():
    values = layout.version_values(small_snapshot(), "v1", Overview())
    assert values["rows"] == (
        "hash",
        {
            0: codec.row_json(small_snapshot().workloads[0]),
            1: codec.row_json(small_snapshot().workloads[1]),
        },
    )
    assert values["ids"] == ("hash", {"shop/deployment/Web": 0, "shop/statefulset/db": 1})
    assert values["names"] == ("string", "web\t0\ndb\t1\n")
    for sort in SORT_KEYS:
        for descending in (False, True):
            kind, order = values[layout.WORKLOADS.sorted(sort, descending)]
            assert kind == "order" and sorted(order) == [0, 1]
    assert values["z:kind:desc"] == ("order", [1, 0])
    assert values["ns:shop"] == ("members", [0, 1])
    assert values["kind:statefulset"] == ("members", [1])
    assert values["meshed:1"] == ("members", [0])
    assert values["meshed:0"] == ("members", [1])
    assert values["health:not-meshed"] == ("members", [1])
    assert values["team:t1"] == ("members", [0])
    assert "team:" not in values


def test_a_query_reads_the_filter_sets_the_version_has():
    values = layout.version_values(small_snapshot(), "v1", Overview())
    query = WorkloadQuery(
        namespaces=("shop", "other", "shop"), kind="statefulset", health="not-meshed", meshed=False
    )
    namespace_sets, others = layout.filter_sets(query)
    assert namespace_sets == ["ns:other", "ns:shop"]
    assert others == ["kind:statefulset", "health:not-meshed", "meshed:0"]
    assert {"ns:shop", *others} <= set(values)
    assert layout.filter_sets(WorkloadQuery(team="t1", meshed=True)) == (
        [],
        ["meshed:1", "team:t1"],
    )
    assert layout.filter_sets(WorkloadQuery()) == ([], [])


def test_edges_and_pods_go_to_their_workloads_numbers():
    snapshot = small_snapshot()
    values = layout.version_values(snapshot, "v1", Overview())
    busiest, other = sorted(snapshot.edges, key=lambda e: -e.rps)
    assert values["out"] == ("hash", {0: f"[{codec.row_json(busiest)},{codec.row_json(other)}]"})
    assert values["in"] == ("hash", {1: f"[{codec.row_json(other)}]"})
    web_0, web_1 = sorted(snapshot.pods, key=lambda p: p.name)
    assert values["pods"] == ("hash", {0: f"[{codec.row_json(web_0)},{codec.row_json(web_1)}]"})
    # No routes: no key (Redis keeps no empty hash).
    assert "routes" not in values


def test_namespaces_are_a_list_like_the_workloads():
    namespaces = [Namespace("a"), Namespace("b\nc", rps=3.0)]
    values = layout.namespace_values(namespaces)
    assert values["ns_ids"] == ("hash", {"a": 0, "b\nc": 1})
    assert values["ns_names"] == ("string", "a\t0\nb c\t1\n")
    assert values["ns_z:rps:desc"] == ("order", [1, 0])
    assert {key for key in values if key.startswith("ns_z:")} == {
        layout.NAMESPACES.sorted(sort, descending)
        for sort in NAMESPACE_SORT_KEYS
        for descending in (False, True)
    }


def test_the_version_holds_its_meta_and_whole_namespace_list():
    snapshot = small_snapshot()
    values = layout.version_values(snapshot, "v1", Overview())
    meta = codec.loads(values["meta"][1])
    assert (meta["version"], meta["window"], meta["workload_count"]) == ("v1", "1m", 2)
    assert codec.loads(values["namespace_names"][1]) == ["empty", "shop"]
    assert [n["name"] for n in codec.loads(values["namespaces"][1])] == ["empty", "shop"]
    assert all(content for _, content in values.values())


def test_the_overview_blob_round_trips():
    workload = Workload("shop", "deployment", "web", health="critical", success_rate=0.5, rps=1.0)
    overview = Overview(
        totals=Totals(workloads=3, rps=1.5, health_counts={"critical": 1}),
        drops=[Drop(workload, 60, 1.0, 2.0, 5.0)],
        namespaces=[Namespace("shop", "enabled", health_counts={"critical": 1})],
        control_plane=ControlPlane(version="edge-25.1.1"),
        namespace_count=4,
    )
    raw = codec.overview_json(overview)
    # The control plane is kept under a key of its own.
    assert "control_plane" not in codec.loads(raw)
    assert codec.loads(raw)["drops"] == [[codec.to_row(workload), 60, 1.0, 2.0, 5.0]]
    assert codec.overview_from_json(raw, overview.control_plane) == overview


def test_an_overview_blob_of_another_build_still_reads():
    raw = codec.dumps({"totals": {"workloads": 2, "unknown": 1}, "attention": [], "later": 1})
    got = codec.overview_from_json(raw, ControlPlane())
    assert got == Overview(totals=Totals(workloads=2))
    assert codec.overview_from_json(None, ControlPlane()) is None


def test_the_version_holds_the_overview_it_is_given():
    snapshot = small_snapshot()
    summary = summarise(snapshot, {snapshot.workloads[0].key: HistoryPoint(0, 1.0, 1.0, None)}, 960)
    values = layout.version_values(snapshot, "v1", summary)
    assert values["overview"] == ("string", codec.overview_json(summary))
