import random

import pytest

from meshdash.mesh.model import Namespace
from meshdash.mesh.overview import OVERVIEW_NAMESPACES
from meshdash.store import NAMESPACE_SORT_KEYS, NamespaceQuery
from meshdash.store.namespaces import sort_values
from tests.store import synthetic


def many_namespaces(count: int, seed: int = 4) -> list[Namespace]:
    rng = random.Random(seed)
    return [
        Namespace(
            name=f"ns-{i:03d}",
            inject_annotation=rng.choice(["enabled", "", "true"]),
            workloads=rng.randint(0, 30),
            meshed_pods=rng.randint(0, 9),
            total_pods=9,
            rps=rng.choice([0.0, 1.0, rng.uniform(0, 900)]),
            success_rate=rng.choice([None, 1.0, rng.random()]),
            health_counts={"critical": rng.choice([0, 0, 1, 2]), "warning": rng.randint(0, 3)},
        )
        for i in range(count)
    ]


def expected_order(namespaces, sort, descending):
    values = dict(zip((n.name for n in namespaces), sort_values(namespaces, sort), strict=True))
    by_name = sorted(namespaces, key=lambda n: n.name)
    valued = [n for n in by_name if values[n.name] is not None]
    missing = [n for n in by_name if values[n.name] is None]
    valued.sort(key=lambda n: values[n.name], reverse=descending)
    return [n.name for n in valued + missing]


@pytest.fixture
def written(store):
    snap = synthetic.snapshot(60, seed=5)
    snap.namespaces = many_namespaces(300)
    store.write(snap)
    return snap


@pytest.mark.parametrize("sort", NAMESPACE_SORT_KEYS)
@pytest.mark.parametrize("descending", [False, True])
def test_it_pages_namespaces_in_every_order(store, written, sort, descending):
    want = expected_order(written.namespaces, sort, descending)
    got = []
    for number in range(1, 8):
        page = store.namespace_page(
            "1m", NamespaceQuery(sort=sort, descending=descending, page=number, per_page=50)
        )
        assert (page.total, page.page, page.pages) == (300, min(number, 6), 6)
        if number <= 6:
            got += [n.name for n in page.items]
    assert got == want


def test_it_searches_namespace_names(store, written):
    page = store.namespace_page("1m", NamespaceQuery(search="ns-1", per_page=200))
    assert [n.name for n in page.items] == [f"ns-{i}" for i in range(100, 200)]
    assert page.total == 100
    nothing = store.namespace_page("1m", NamespaceQuery(search="zzz"))
    assert (nothing.total, nothing.items) == (0, [])


def test_it_keeps_namespace_rollups_whole(store, written):
    first = sorted(written.namespaces, key=lambda n: n.name)[0]
    assert store.namespace("1m", first.name) == first
    assert store.namespace("1m", "not-there") is None
    page = store.namespace_page("1m", NamespaceQuery(per_page=1))
    assert page.items == [first]


def test_the_overview_holds_a_bounded_worst_first_few(store, written):
    overview = store.overview("1m")
    assert overview.namespace_count == 300
    worst = expected_order(written.namespaces, "health", False)[:OVERVIEW_NAMESPACES]
    assert [n.name for n in overview.namespaces] == worst
    top = overview.namespaces[0].health_counts
    assert top["critical"] == max(n.health_counts["critical"] for n in written.namespaces)
