"""Every sort and filter of the workload list against a plain-Python sort and filter of the
same synthetic data."""

import functools

import pytest

from meshdash.mesh.health import HEALTH_ORDER, HEALTH_STATES
from meshdash.mesh.query import SORT_KEYS, WorkloadQuery


def value_of(workload, key):
    if key == "health":
        return HEALTH_ORDER.get(workload.health)
    return getattr(workload, SORT_KEYS[key])


def expected_order(workloads, key, descending):
    """Plain comparison sort: None last either way, ties by namespace, kind, name ascending."""

    def compare(a, b):
        va, vb = value_of(a, key), value_of(b, key)
        if va is None or vb is None:
            if va is None and vb is not None:
                return 1
            if vb is None and va is not None:
                return -1
        elif va != vb:
            smaller = -1 if va < vb else 1
            return -smaller if descending else smaller
        ia, ib = (a.namespace, a.kind, a.name), (b.namespace, b.kind, b.name)
        return (ia > ib) - (ia < ib)

    return sorted(workloads, key=functools.cmp_to_key(compare))


def matches(workload, query):
    if query.namespaces and workload.namespace not in query.namespaces:
        return False
    if query.kind and workload.kind != query.kind:
        return False
    if query.health and workload.health != query.health:
        return False
    if query.meshed is not None and (workload.meshed_pods > 0) != query.meshed:
        return False
    if query.team and workload.team != query.team:
        return False
    return query.search.lower() in workload.name.lower()


def read_all(store, query):
    items, page = [], 1
    while True:
        got = store.workload_page("1m", WorkloadQuery(**{**query.__dict__, "page": page}))
        assert got.page == page
        items.extend(got.items)
        if not got.has_next:
            return items, got.total
        page += 1


@pytest.mark.parametrize("sort", list(SORT_KEYS))
def test_it_sorts_by_every_key_both_ways(store, mesh, sort):
    store.write(mesh)
    for descending in (False, True):
        view = WorkloadQuery(sort=sort, descending=descending, per_page=64)
        items, total = read_all(store, view)
        assert total == len(mesh.workloads)
        assert items == expected_order(mesh.workloads, sort, descending), descending


def test_the_synthetic_data_has_ties_and_missing_values(mesh):
    rates = [w.success_rate for w in mesh.workloads]
    assert None in rates
    assert len(set(rates)) < len(rates)
    names = [w.name for w in mesh.workloads]
    assert len(set(names)) < len(names)


FILTERS = [
    WorkloadQuery(namespaces=("ns-1",)),
    WorkloadQuery(namespaces=("ns-1", "ns-3", "ns-5")),
    WorkloadQuery(namespaces=("ns-3", "ns-1", "ns-3")),
    WorkloadQuery(namespaces=("no-such-namespace",)),
    WorkloadQuery(kind="statefulset"),
    WorkloadQuery(kind="cronjob"),
    *(WorkloadQuery(health=state) for state in HEALTH_STATES),
    WorkloadQuery(meshed=True),
    WorkloadQuery(meshed=False),
    WorkloadQuery(team="payments"),
    WorkloadQuery(team="nobody"),
    WorkloadQuery(search="API"),
    WorkloadQuery(search=".*[("),
    WorkloadQuery(search="i.*"),
    WorkloadQuery(search="%d+"),
    WorkloadQuery(search="ÜNÏ"),
    WorkloadQuery(search="\tb"),
    WorkloadQuery(search="<script>"),
    WorkloadQuery(search="zzz-nothing"),
    WorkloadQuery(namespaces=("ns-0", "ns-2"), kind="deployment", meshed=True),
    WorkloadQuery(namespaces=("ns-0", "ns-2", "ns-4"), health="critical", search="a"),
    WorkloadQuery(kind="deployment", health="warning", team="search", search="-"),
    WorkloadQuery(
        namespaces=("ns-1", "ns-2", "ns-3", "ns-4"),
        kind="daemonset",
        meshed=False,
        team="identity",
        search="e",
    ),
]


@pytest.mark.parametrize("query", FILTERS, ids=repr)
def test_it_filters_like_plain_python(store, mesh, query):
    store.write(mesh)
    for sort, descending in [("health", False), ("rps", True), ("name", False)]:
        view = WorkloadQuery(
            **{**query.__dict__, "sort": sort, "descending": descending, "per_page": 25}
        )
        items, total = read_all(store, view)
        selected = [w for w in mesh.workloads if matches(w, view)]
        expected = expected_order(selected, sort, descending)
        assert items == expected, (sort, descending)
        assert total == len(expected)


def test_it_reads_the_same_when_written_in_small_batches(store, mesh, monkeypatch):
    """Orders and sets go to Redis in batches, each scored from where its batch starts."""
    monkeypatch.setattr("meshdash.store.store.WRITE_BATCH", 7)
    store.write(mesh)
    for sort in ("health", "rps", "name"):
        for descending in (False, True):
            view = WorkloadQuery(sort=sort, descending=descending, per_page=64)
            assert read_all(store, view)[0] == expected_order(mesh.workloads, sort, descending)
    for query in FILTERS[:6]:
        selected = [w for w in mesh.workloads if matches(w, query)]
        assert read_all(store, query)[0] == expected_order(selected, "health", False), query
    for workload in mesh.workloads:
        assert store.workload("1m", workload.namespace, workload.kind, workload.name) == workload


def test_the_filters_select_something(mesh):
    empty = {("no-such-namespace",), "cronjob", "nobody", "%d+", "zzz-nothing"}
    for query in FILTERS:
        selects = any(matches(w, query) for w in mesh.workloads)
        meant_empty = bool({query.namespaces, query.kind, query.team, query.search} & empty)
        assert selects != meant_empty, query


def test_it_clamps_the_page_number(store, mesh):
    store.write(mesh)
    total = len(mesh.workloads)
    last = -(-total // 50)
    beyond = store.workload_page("1m", WorkloadQuery(page=10**9))
    assert (beyond.page, beyond.total) == (last, total)
    assert beyond.items == expected_order(mesh.workloads, "health", False)[(last - 1) * 50 :]
    assert store.workload_page("1m", WorkloadQuery(page=-4)).page == 1
    assert store.workload_page("1m", WorkloadQuery(page=0, per_page=0)).per_page == 1

    filtered = WorkloadQuery(kind="statefulset", page=999, per_page=10)
    expected = [
        w for w in expected_order(mesh.workloads, "health", False) if w.kind == "statefulset"
    ]
    page = store.workload_page("1m", filtered)
    assert page.page == -(-len(expected) // 10)
    assert page.items == expected[(page.page - 1) * 10 :]

    empty = store.workload_page("1m", WorkloadQuery(search="zzz-nothing", page=3))
    assert (empty.page, empty.total, empty.items, empty.pages) == (1, 0, [], 1)


def test_it_refuses_an_unknown_sort_key(store, mesh):
    store.write(mesh)
    with pytest.raises(ValueError, match="unknown sort key"):
        store.workload_page("1m", WorkloadQuery(sort="__class__"))


def test_it_reuses_a_filtered_result_for_later_pages(store, mesh, redis_client):
    store.write(mesh)
    query = WorkloadQuery(namespaces=("ns-1", "ns-2"), search="a", per_page=5)
    first = store.workload_page("1m", query)
    cached = redis_client.keys("test:q:*")
    # The view's order and its version's budget; no temporary key outlives the read.
    assert len(cached) == 2
    assert sorted(key.rsplit(b":", 1)[1] for key in cached)[1] == b"budget"
    assert all(0 < redis_client.pttl(key) <= 30_000 for key in cached)
    assert not redis_client.keys("test:tmp:*")
    expected = [
        w
        for w in expected_order(mesh.workloads, "health", False)
        if w.namespace in ("ns-1", "ns-2") and "a" in w.name.lower()
    ]
    assert first.items == expected[:5] and first.total == len(expected)

    cold = []
    second = store.workload_page(
        "1m",
        WorkloadQuery(namespaces=("ns-2", "ns-1"), search="A", page=2, per_page=5),
        on_cold=lambda: cold.append(1),
    )
    assert sorted(redis_client.keys("test:q:*")) == sorted(cached)
    assert cold == []  # read from the cache: not an expensive view
    assert second.items == expected[5:10] and (second.total, second.page) == (len(expected), 2)


def test_a_page_reads_only_the_page(store, redis_client):
    """The cost of a page read: a bounded number of Redis commands, whatever the mesh size."""
    from tests.store import synthetic

    counts = {}
    for size in (100, 2000):
        redis_client.flushdb()
        store.write(synthetic.snapshot(size, seed=4))
        query = WorkloadQuery(sort="p99", descending=True, page=2, per_page=20)
        before = _commands(redis_client)
        assert len(store.workload_page("1m", query).items) == 20
        counts[size] = _commands(redis_client) - before
    # INFO itself, GET current, EVALSHA and inside it ZCARD, ZRANGE, HMGET.
    assert counts[100] == counts[2000] <= 6


def _commands(client):
    return client.info("stats")["total_commands_processed"]
