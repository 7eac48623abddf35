"""The Kubernetes API answering 500, then garbage, then recovering; and one list failing alone."""

import pytest

from meshdash.collectors.run import run_collection
from tests.resilience.conftest import (
    WINDOW,
    assert_partial,
    assert_recovered,
    assert_serves_last_good,
    read_good,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db]


def test_it_serves_the_last_good_snapshot_while_the_api_answers_errors_then_garbage(
    kube_proxy, api
):
    assert run_collection(WINDOW) == "ok"
    good = read_good(api)

    kube_proxy.status = 500
    assert run_collection(WINDOW) == "failed"
    assert_serves_last_good(
        api, good, "kubernetes/pods: Kubernetes API answered HTTP 500", "kubernetes/deployments"
    )

    kube_proxy.heal()
    kube_proxy.garbage = True
    assert run_collection(WINDOW) == "failed"
    assert_serves_last_good(api, good, "kubernetes/pods: Kubernetes API answered nonsense")

    kube_proxy.heal()
    assert run_collection(WINDOW) == "ok"
    assert_recovered(api, good)


def test_it_keeps_what_succeeded_when_one_list_fails(kube_proxy, api):
    assert run_collection(WINDOW) == "ok"
    good_items, good_snapshot = read_good(api)

    kube_proxy.status, kube_proxy.only = 500, "/apis/apps/v1/daemonsets"
    assert run_collection(WINDOW) == "partial"
    items = assert_partial(
        api,
        (good_items, good_snapshot),
        {"kubernetes/daemonsets"},
        ("Kubernetes API answered HTTP 500",),
    )
    # Deployments and statefulsets come from their lists as before.
    listed = {key for key, item in items.items() if item["kind"] != "daemonset"}
    assert listed == {key for key, item in good_items.items() if item["kind"] != "daemonset"}
    for key in listed:
        assert (items[key]["meshed_pods"], items[key]["total_pods"]) == (
            good_items[key]["meshed_pods"],
            good_items[key]["total_pods"],
        )
    # Daemonsets with traffic are still listed, known from their proxies' metrics.
    busy = {k for k, item in good_items.items() if item["kind"] == "daemonset" and item["rps"]}
    assert busy and busy <= items.keys()

    kube_proxy.heal()
    assert run_collection(WINDOW) == "ok"
    assert_recovered(api, (good_items, good_snapshot))
