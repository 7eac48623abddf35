"""The workload list's name search against a brute-force Python filter and sort: random names
with hostile ones (regex and Lua pattern characters, %, *, unicode, tabs, very long names),
needles of every length, alone and with the other filters, every page, the result cache on
and off; and at 50,000 workloads."""

import dataclasses
import random

import pytest

from meshdash.mesh.query import SORT_KEYS, WorkloadQuery
from meshdash.store import SnapshotStore
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
]  # fmt: skip


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


def test_the_needles_find_something(big_mesh):
    """The test above can fail: most needles match, a few match a lot or nothing."""
    counts = [sum(_name_matches(w, n) for w in big_mesh.workloads) for n in NEEDLES]
    assert sum(c > 0 for c in counts) >= len(NEEDLES) - 4
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
