from urllib.parse import unquote

from meshdash.dashboard.next_steps import fill_url_template, workload_commands, workload_promql


def test_it_abbreviates_kinds_the_way_kubectl_and_linkerd_do():
    commands = dict(workload_commands("shop", "statefulset", "db", "db-0"))
    assert commands["Watch live requests"] == "linkerd viz tap sts/db -n shop"
    assert commands["Proxy logs"] == "kubectl -n shop logs pod/db-0 -c linkerd-proxy"
    assert commands["Restart (new pods, new proxies)"] == "kubectl -n shop rollout restart sts/db"
    assert dict(workload_commands("shop", "deployment", "web"))["Watch live requests"] == (
        "linkerd viz tap deploy/web -n shop"
    )


def test_it_offers_no_restart_for_jobs():
    labels = [label for label, _ in workload_commands("batch", "cronjob", "nightly")]
    assert "Restart (new pods, new proxies)" not in labels


def test_it_quotes_names_for_the_shell():
    command = dict(workload_commands("shop", "deployment", "a;rm -rf /"))["Watch live requests"]
    assert command == "linkerd viz tap 'deploy/a;rm -rf /' -n shop"


def test_it_builds_promql_with_the_proxy_label_of_the_kind():
    assert workload_promql("batch", "job", "x", "10m") == (
        'sum(rate(response_total{direction="inbound", namespace="batch", k8s_job="x"}[10m]))'
        " by (classification)"
    )
    assert 'deployment="a\\"b"' in workload_promql("ns", "deployment", 'a"b', "1m")


def test_it_url_encodes_values_into_link_templates():
    url = fill_url_template(
        "http://prom/graph?g0.expr={query}&ns={namespace}", query='sum(x{a="b"})', namespace="shop"
    )
    assert url.startswith("http://prom/graph?g0.expr=sum%28x%7Ba%3D%22b%22%7D%29&ns=shop")
    assert unquote(url.split("=", 1)[1].split("&")[0]) == 'sum(x{a="b"})'


def test_it_gives_no_link_for_empty_or_broken_templates():
    assert fill_url_template("", name="x") == ""
    assert fill_url_template("http://g/{name", name="x") == ""
    assert fill_url_template("http://g/{0}", name="x") == ""
    assert fill_url_template("http://g/{unknown}/{name}", name="x") == "http://g//x"
