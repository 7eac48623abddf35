"""The workload list's name search against a brute-force Python filter and sort: random names
with hostile ones (regex and Lua pattern characters, %, *, unicode, tabs, very long names),
needles of every length, alone and with the other filters, every page, the result cache on
and off; the one-letter index in every order and direction, and what it reads; and at 50,000
workloads."""

import dataclasses
import random

import pytest

from meshdash.mesh.query import SORT_KEYS, WorkloadQuery
from meshdash.store import SnapshotStore, layout, ordering
from tests.store import synthetic
from tests.store.test_pages import expected_order, matches

HOSTILE = [
    "api.*[(",
    "%d+%s",
    "100%",
    "a*b?c",
    "^$",
    "ünïcode-svc",
    "ÜBER-Dienst",
    "日本語-api",
    "a\tb",
    "tab\t12",
    "line\nbreak",
    "x" * 300,
    "-",
    "9\t9",
    "[%]]",
]
NEEDLES = [
    "a", "e", "-", "1", "9", "%", "*", "[", ".", "ü", "Ü", "日", "\t",
    "ap", "er", "-1", "%d", ".*", "\t1", "9\t", "a\tb",
    "api", "ker", "b-1", "%d+", "[(", "ünï", "über", "xxx",
    "worker-1", "cache-12", "db-77", "zzz", "x" * 301, "x" * 300, "line\nbreak", "line break",
    "A", "W", "K", "x", "q", "z", "0", "_", "\u212a", "\u0130",
]  # fmt: skip
# One character each: in SEARCH_ALPHABET (common, rare, absent, upper-case, the Kelvin sign that
# lowercases into it) and outside it.
LETTERS = ["a", "e", "W", "K", "\u212a", "x", "q", "z", "1", "-", ".", "_", "ü", "Ü", "%", "\t"]


WORDS = ("api", "web", "db", "cache", "worker", "gateway", "billing", "search", "ledger")


def _mesh(size: int, seed: int):
    rng = random.Random(seed)
    mesh = synthetic.snapshot(size, seed=seed, pods_per_workload=0, edges_per_workload=0)
    workloads = list(mesh.workloads)
    for hostile, i in zip(HOSTILE, rng.sample(range(len(workloads)), len(HOSTILE)), strict=True):
        workloads[i] = dataclasses.replace(workloads[i], name=f"{hostile}{i}")
    unique = {w.key: w for w in workloads}
    return dataclasses.replace(mesh, workloads=list(unique.values()))


def _expected(workloads, query):
    found = [w for w in workloads if matches(w, query) and _name_matches(w, query.search)]
    return expected_order(found, query.sort, query.descending)


def _name_matches(workload, search):
    # The store keeps a newline inside a name as a space (one line a name).
    return search.lower() in workload.name.lower().replace("\n", " ")


@pytest.fixture(scope="module")
def big_mesh():
    return _mesh(1500, seed=11)


@pytest.mark.parametrize("cache", [True, False], ids=["cache", "no-cache"])
def test_every_page_of_every_needle_matches_plain_python(redis_client, big_mesh, cache):
    store = SnapshotStore(
        redis_client,
        "test",
        snapshot_ttl_seconds=60,
        **({} if cache else {"cache_max_entries": 0, "cache_max_bytes": 0}),
    )
    store.write(big_mesh)
    rng = random.Random(3)
    namespaces = sorted({w.namespace for w in big_mesh.workloads})
    checked = 0
    for needle in NEEDLES:
        for _ in range(3):
            fields = {
                "search": needle,
                "sort": rng.choice(list(SORT_KEYS)),
                "descending": rng.random() < 0.5,
                "per_page": rng.choice([1, 7, 50, 200]),
            }
            extra = rng.random()
            if extra < 0.25:
                fields["namespaces"] = tuple(rng.sample(namespaces, rng.randint(1, 3)))
            elif extra < 0.5:
                fields["health"] = rng.choice(["healthy", "warning", "critical"])
            elif extra < 0.6:
                fields["kind"], fields["team"] = "deployment", "search"
            query = WorkloadQuery(**fields)
            expected = _expected(big_mesh.workloads, query)
            pages = max(1, -(-len(expected) // query.per_page))
            for page in {1, 2, pages // 2 or 1, pages, pages + 5}:
                got = store.workload_page("1m", dataclasses.replace(query, page=page))
                clamped = min(page, pages)
                start = (clamped - 1) * query.per_page
                assert got.total == len(expected), query
                assert got.page == clamped
                assert [w.key for w in got.items] == [
                    w.key for w in expected[start : start + query.per_page]
                ], (query, page)
                checked += 1
    assert checked > 300
    # A search leaves nothing behind but what the result cache admitted.
    assert not list(redis_client.scan_iter("test:tmp:*"))


def _check_every_page(store, workloads, query, pages=None):
    expected = _expected(workloads, query)
    last = max(1, -(-len(expected) // query.per_page))
    for page in pages or {1, 2, last // 2 or 1, last - 1 or 1, last, last + 3, 2**40}:
        got = store.workload_page("1m", dataclasses.replace(query, page=page))
        clamped = min(page, last)
        start = (clamped - 1) * query.per_page
        assert (got.total, got.page) == (len(expected), clamped), (query, page)
        assert [w.key for w in got.items] == [
            w.key for w in expected[start : start + query.per_page]
        ], (query, page)
    return len(expected)


@pytest.mark.parametrize("sort", list(SORT_KEYS))
def test_one_letter_in_every_order_and_direction(redis_client, big_mesh, sort):
    store = SnapshotStore(redis_client, "test", snapshot_ttl_seconds=60)
    store.write(big_mesh)
    rng = random.Random(sort)
    namespaces = sorted({w.namespace for w in big_mesh.workloads})
    found = []
    for letter in LETTERS:
        for descending in (False, True):
            query = WorkloadQuery(
                search=letter, sort=sort, descending=descending, per_page=rng.choice([1, 7, 50])
            )
            found.append(_check_every_page(store, big_mesh.workloads, query))
        filters = [
            {"namespaces": tuple(rng.sample(namespaces, 2))},
            {"health": rng.choice(["healthy", "warning", "critical"])},
            {"kind": "deployment", "team": "search"},
            {"kind": rng.choice(["deployment", "statefulset"])},
            {"meshed": rng.random() < 0.5},
            {"namespaces": tuple(rng.sample(namespaces, 3)), "meshed": True},
        ]
        for extra in filters:
            query = WorkloadQuery(search=letter, sort=sort, descending=rng.random() < 0.5, **extra)
            _check_every_page(store, big_mesh.workloads, query, pages={1, 2, 10**6})
    assert max(found) > len(big_mesh.workloads) // 3 and 0 in found
    assert not list(redis_client.scan_iter("test:tmp:*"))


def test_a_one_letter_page_reads_its_buckets_not_the_names(redis_client, big_mesh):
    """Alone, a common letter's page reads the buckets that hold it: neither the names blob
    nor a score per match, nothing cached, no new view paced."""
    store = SnapshotStore(redis_client, "test", snapshot_ttl_seconds=60)
    store.write(big_mesh)
    colds = []
    for page in (1, 5, 12):
        redis_client.config_resetstat()
        query = WorkloadQuery(search="E", sort="rps", descending=True, page=page)
        got = store.workload_page("1m", query, on_cold=lambda: colds.append(1))
        stats = redis_client.info("commandstats")
        assert len(got.items) == 50
        assert "cmdstat_zmscore" not in stats and "cmdstat_strlen" in stats
        assert stats["cmdstat_get"]["calls"] == 1  # the current version, not the names
        assert stats["cmdstat_zrange"]["calls"] <= 2
    assert colds == [] and not list(redis_client.scan_iter("test:q:*"))
    # Two letters scan the names, are paced and cached as before.
    store.workload_page("1m", WorkloadQuery(search="er"), on_cold=lambda: colds.append(1))
    assert colds == [1] and list(redis_client.scan_iter("test:q:*"))
    # With one precomputed filter: its packed order, no intersection built; paced, cached.
    redis_client.config_resetstat()
    query = WorkloadQuery(search="a", health="warning", sort="p99")
    store.workload_page("1m", query, on_cold=lambda: colds.append(1))
    stats = redis_client.info("commandstats")
    assert "cmdstat_zinterstore" not in stats and "cmdstat_zmscore" not in stats
    assert colds == [1, 1]
    store.workload_page("1m", dataclasses.replace(query, page=2), on_cold=lambda: colds.append(1))
    assert colds == [1, 1]


def test_a_version_without_the_letter_index_is_searched_as_before(redis_client, big_mesh):
    store = SnapshotStore(redis_client, "test", snapshot_ttl_seconds=60)
    version = store.write(big_mesh)
    index = list(redis_client.scan_iter(f"test:s:{version}:search*"))
    assert len(index) == len(SORT_KEYS) * 2 + 1
    redis_client.delete(*index)
    colds = []
    query = WorkloadQuery(search="a", sort="p99", page=3, per_page=20)
    expected = _expected(big_mesh.workloads, query)
    got = store.workload_page("1m", query, on_cold=lambda: colds.append(1))
    assert [w.key for w in got.items] == [w.key for w in expected[40:60]]
    assert got.total == len(expected) and colds == [1]
    _check_every_page(store, big_mesh.workloads, dataclasses.replace(query, health="warning"))
    # The index without the packed order of the filter: as before, paced once.
    version = store.write(big_mesh)
    redis_client.delete(*redis_client.scan_iter(f"test:s:{version}:f:health:critical:*"))
    query = WorkloadQuery(search="e", health="critical", sort="name", descending=True, page=2)
    expected = _expected(big_mesh.workloads, query)
    got = store.workload_page("1m", query, on_cold=lambda: colds.append(1))
    assert [w.key for w in got.items] == [w.key for w in expected[50:100]]
    assert got.total == len(expected) > 60 and colds == [1, 1]


def test_the_index_counts_and_bits_are_the_names():
    names = ["api-1", "web.x", "Ümlaut-9", "a\tb", "", "zz", "q-q-q", "日本-0"] * 70
    lowered = [name.lower() for name in names]
    rng = random.Random(2)
    orders = {("rps", False): rng.sample(range(len(names)), len(names))}
    values = layout.search_values(lowered, orders)
    counts = values["search:rps:asc"][1]
    bits = values["search_bits"][1]
    buckets = -(-len(names) // layout.SEARCH_BUCKET)
    size = -(-len(names) // 8)
    assert len(counts) == 2 * buckets * len(layout.SEARCH_ALPHABET)
    for k, char in enumerate(layout.SEARCH_ALPHABET):
        for b in range(buckets):
            numbers = orders["rps", False][b * 256 : (b + 1) * 256]
            at = 2 * (k * buckets + b)
            assert int.from_bytes(counts[at : at + 2], "little") == sum(
                char in lowered[n] for n in numbers
            )
        for n, name in enumerate(lowered):
            assert (bits[k * size + n // 8] >> n % 8) & 1 == (char in name)


def test_the_index_is_written_for_every_order(mesh):
    from meshdash.mesh.overview import summarise

    values = layout.version_values(mesh, "v", summarise(mesh, {}, 0))
    for sort, descending in ordering.orders(mesh.workloads):
        assert layout.WORKLOADS.search_counts(sort, descending) in values
    assert layout.search_letter("A") == 0 and layout.search_letter("\u212a") == 10
    assert layout.search_letter("ab") is None and layout.search_letter("_") is None


def test_the_needles_find_something(big_mesh):
    """The test above can fail: most needles match, a few match a lot or nothing."""
    counts = [sum(_name_matches(w, n) for w in big_mesh.workloads) for n in NEEDLES]
    assert sum(c > 0 for c in counts) >= len(NEEDLES) - 8
    assert max(counts) > len(big_mesh.workloads) // 2
    assert 0 in counts


def test_it_searches_fifty_thousand_workloads(redis_client):
    # Built directly: synthetic.snapshot counts each namespace's workloads the slow way.
    rng = random.Random(5)
    base = synthetic.snapshot(50, seed=5, pods_per_workload=0, edges_per_workload=0)
    workloads = [
        synthetic.workload(rng, f"ns-{i % 500}", "deployment", f"{rng.choice(WORDS)}-{i}")
        for i in range(50_000)
    ]
    mesh = dataclasses.replace(base, workloads=workloads, namespaces=[])
    store = SnapshotStore(
        redis_client, "test", snapshot_ttl_seconds=60, cache_max_entries=0, cache_max_bytes=0
    )
    store.write(mesh)
    for needle, sort, descending, page in (
        ("a", "name", False, 400),
        ("e", "rps", True, 1),
        ("R", "p50", True, 10**6),
        ("1", "namespace", False, 123),
        ("er", "health", False, 10_000),
        ("gat", "p99", False, 50),
        ("b-1", "success_rate", True, 3),
    ):
        query = WorkloadQuery(search=needle, sort=sort, descending=descending, page=page)
        expected = _expected(mesh.workloads, query)
        got = store.workload_page("1m", query)
        start = (got.page - 1) * query.per_page
        assert got.total == len(expected) > 100
        assert [w.key for w in got.items] == [w.key for w in expected[start : start + 50]]
