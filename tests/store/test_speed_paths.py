"""The store's short cuts answer as the long way round: single-filter views from their
precomputed orders (layout.PRECOMPUTED_FILTERS), the name search by jumping from one occurrence
of the needle to the next."""

import pytest

from meshdash.mesh.query import SORT_KEYS, WorkloadQuery
from meshdash.store import layout
from tests.store.test_pages import expected_order, matches


def single_filters(mesh) -> list[dict]:
    return (
        [{"health": h} for h in sorted({w.health for w in mesh.workloads if w.health})]
        + [{"kind": k} for k in sorted({w.kind for w in mesh.workloads})]
        + [{"meshed": True}, {"meshed": False}]
    )


def page_ids(store, query) -> tuple[int, list]:
    page = store.workload_page("1m", query)
    return page.total, [w.key for w in page.items]


def expected(mesh, query) -> tuple[int, list]:
    found = [w for w in expected_order(mesh.workloads, query.sort, query.descending)
             if matches(w, query)]  # fmt: skip
    start = (query.page - 1) * query.per_page
    return len(found), [w.key for w in found[start : start + query.per_page]]


@pytest.mark.parametrize("sort", list(SORT_KEYS))
def test_a_single_filter_reads_its_precomputed_order(store, mesh, sort, monkeypatch):
    store.write(mesh)
    monkeypatch.setattr(store, "_page", None)  # the computing script is never needed
    for fields in single_filters(mesh):
        for descending in (False, True):
            for page in (1, 3):
                query = WorkloadQuery(sort=sort, descending=descending, page=page, per_page=7,
                                      **fields)  # fmt: skip
                assert page_ids(store, query) == expected(mesh, query), (fields, descending)


def test_a_version_without_precomputed_orders_computes_its_views(store, mesh, redis_client):
    store.write(mesh)
    for key in redis_client.scan_iter("test:s:*:f:*"):
        redis_client.delete(key)
    for fields in single_filters(mesh):
        query = WorkloadQuery(sort="rps", descending=True, per_page=10, **fields)
        assert page_ids(store, query) == expected(mesh, query)


def test_a_view_of_two_filters_is_not_precomputed():
    query = WorkloadQuery(health="critical", kind="deployment")
    assert layout.precomputed_filter(*layout.filter_sets(query), query.search) is None
    query = WorkloadQuery(health="critical", search="api")
    assert layout.precomputed_filter(*layout.filter_sets(query), query.search) is None
    query = WorkloadQuery(team="payments")
    assert layout.precomputed_filter(*layout.filter_sets(query), query.search) is None


NEEDLES = ["a", "api", "-1", "1", "12", "0", "\t", "a\tb", "\tb", "b\n", "\n", "ünï", "<script>",
           "api.*[(", "cache-9", "zzz-not-there", "e", "web-frontend"]  # fmt: skip


@pytest.mark.parametrize("needle", NEEDLES, ids=repr)
def test_the_name_search_finds_what_plain_python_finds(store, mesh, needle):
    store.write(mesh)
    query = WorkloadQuery(search=needle, sort="name", per_page=500)
    total, keys = page_ids(store, query)
    wanted = {w.key for w in mesh.workloads if needle.lower() in w.name.lower().replace("\n", " ")}
    assert total == len(wanted)
    assert set(keys) == wanted


def test_the_name_search_combines_with_filters(store, mesh):
    store.write(mesh)
    for fields in single_filters(mesh):
        query = WorkloadQuery(search="a", sort="rps", per_page=500, **fields)
        assert page_ids(store, query) == expected(mesh, query)
