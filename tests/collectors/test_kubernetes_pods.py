"""Which pods carry a Linkerd proxy: pure parsing of raw pod JSON, no API server needed."""

from meshdash.collectors.kubernetes import parse_pod


def _pod(containers=(), init_containers=()):
    return {
        "metadata": {"namespace": "batch", "name": "migrate-x"},
        "spec": {"containers": list(containers), "initContainers": list(init_containers)},
        "status": {"phase": "Running"},
    }


APP = {"name": "app", "image": "example/app:1"}
PROXY = {"name": "linkerd-proxy", "image": "cr.l5d.io/linkerd/proxy:edge-25.4.4"}


def test_it_finds_the_proxy_as_a_container():
    assert parse_pod(_pod([APP, PROXY]), None, "").has_proxy


def test_it_finds_the_proxy_as_a_native_sidecar():
    pod = parse_pod(_pod([APP], [{**PROXY, "restartPolicy": "Always"}]), None, "")
    assert pod.has_proxy
    assert pod.proxy_version == "edge-25.4.4"  # from the image, without the annotation


def test_it_takes_an_init_container_that_runs_to_completion_for_no_proxy():
    assert not parse_pod(_pod([APP], [PROXY]), None, "").has_proxy
    assert not parse_pod(_pod([APP], [{**PROXY, "restartPolicy": "OnFailure"}]), None, "").has_proxy
