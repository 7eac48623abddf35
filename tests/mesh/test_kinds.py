from kubernetes import client as k8s

from meshdash.collectors.kubernetes import KubernetesClient
from meshdash.collectors.prometheus import DST_OWNER_LABELS, OWNER_LABELS
from meshdash.dashboard.next_steps import resource, workload_commands, workload_promql
from meshdash.mesh import model
from meshdash.mesh.kinds import KIND_BY_API_KIND, KIND_BY_PROM_LABEL, KINDS, TABLE


def test_it_names_each_kind_once_in_every_vocabulary():
    for field in ("name", "prom_label", "api_kind", "list_name", "short_name"):
        names = [getattr(kind, field) for kind in TABLE]
        assert len(set(names)) == len(names), field
    assert KINDS == ("deployment", "statefulset", "daemonset", "job", "cronjob")
    assert KIND_BY_PROM_LABEL["k8s_job"] == "job"
    assert KIND_BY_API_KIND["CronJob"] == "cronjob"


def test_it_keeps_the_model_names_as_views_of_the_table():
    assert model.KINDS is KINDS
    assert model.KIND_BY_PROM_LABEL is KIND_BY_PROM_LABEL


def test_it_queries_prometheus_by_every_kinds_owner_label_in_table_order():
    assert OWNER_LABELS == ("deployment", "statefulset", "daemonset", "k8s_job", "cronjob")
    assert DST_OWNER_LABELS[3] == "dst_k8s_job"


def test_it_lists_every_kind_with_the_clients_own_method():
    client = KubernetesClient(k8s.ApiClient())
    methods = {kind.list_name: client._list_method(kind).__qualname__ for kind in TABLE}
    assert methods == {
        "deployments": "AppsV1Api.list_deployment_for_all_namespaces",
        "statefulsets": "AppsV1Api.list_stateful_set_for_all_namespaces",
        "daemonsets": "AppsV1Api.list_daemon_set_for_all_namespaces",
        "jobs": "BatchV1Api.list_job_for_all_namespaces",
        "cronjobs": "BatchV1Api.list_cron_job_for_all_namespaces",
    }


def test_it_suggests_commands_with_each_kinds_short_name():
    assert [resource(kind.name, "x") for kind in TABLE] == [
        "deploy/x",
        "sts/x",
        "ds/x",
        "job/x",
        "cj/x",
    ]
    restarts = {
        kind.name: any("rollout restart" in c for _, c in workload_commands("ns", kind.name, "x"))
        for kind in TABLE
    }
    assert restarts == {kind.name: kind.restartable for kind in TABLE}
    assert 'k8s_job="x"' in workload_promql("ns", "job", "x", "1m")
