import datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from meshdash.demo import model
from meshdash.demo.model import LatencyModel, build_mesh, histogram_quantile

EPOCH = datetime.datetime(2026, 3, 2, tzinfo=datetime.UTC).timestamp()


@pytest.fixture(scope="module")
def mesh():
    return build_mesh(300, seed=1, epoch=EPOCH)


def test_it_is_deterministic_for_a_seed(mesh):
    again = build_mesh(300, seed=1, epoch=EPOCH)
    assert again == mesh
    assert again.certificates == mesh.certificates


def test_it_differs_between_seeds(mesh):
    other = build_mesh(300, seed=2, epoch=EPOCH)
    assert [w.key for w in other.workloads] != [w.key for w in mesh.workloads]


def test_it_has_the_asked_number_of_workloads_and_namespaces(mesh):
    assert len(mesh.workloads) == 300
    app_namespaces = [ns for ns in mesh.namespaces if ns.name != model.LINKERD_NAMESPACE]
    assert len(app_namespaces) == 20
    assert len(build_mesh(10, epoch=EPOCH).namespaces) == 5  # at least 4, plus linkerd
    assert {w.namespace for w in mesh.workloads} == {ns.name for ns in app_namespaces}
    assert len({w.key for w in mesh.all_workloads}) == len(mesh.all_workloads)


def test_it_has_mostly_deployments_with_one_to_five_pods(mesh):
    kinds = [w.kind for w in mesh.workloads]
    assert kinds.count("deployment") > len(kinds) * 0.7
    assert kinds.count("statefulset") > 0 and kinds.count("daemonset") > 0
    assert {len(w.pods) for w in mesh.workloads} <= {1, 2, 3, 4, 5}
    assert any(w.team for w in mesh.workloads) and not all(w.team for w in mesh.workloads)
    ips = [pod.ip for w in mesh.all_workloads for pod in w.pods]
    assert len(set(ips)) == len(ips)


def test_it_has_the_control_plane(mesh):
    names = {w.name: w for w in mesh.control_plane}
    assert set(names) == {"linkerd-destination", "linkerd-identity", "linkerd-proxy-injector"}
    assert all(w.namespace == "linkerd" and w.meshed for w in names.values())
    assert names["linkerd-identity"].labels["linkerd.io/control-plane-component"] == "identity"


def test_it_has_realistic_mistakes(mesh):
    invalid = [ns for ns in mesh.namespaces if ns.annotations.get("linkerd.io/inject") == "true"]
    assert len(invalid) == 1
    in_invalid = [w for w in mesh.workloads if w.namespace == invalid[0].name]
    assert in_invalid and not any(pod.has_proxy for w in in_invalid for pod in w.pods)
    disabled = [w for w in mesh.workloads if w.annotations.get("linkerd.io/inject") == "disabled"]
    assert disabled and not any(w.meshed for w in disabled)
    versions = {pod.proxy_version for w in mesh.workloads for pod in w.pods if pod.has_proxy}
    assert versions == {
        model.LINKERD_VERSION,
        model.OLD_PROXY_VERSION,
        model.NEWER_PROXY_VERSION,
    }
    stuck = [pod for w in mesh.workloads for pod in w.pods if pod.init_stuck]
    assert len(stuck) == 1 and stuck[0].phase == "Pending" and not stuck[0].exports_metrics
    assert any("<script>" in w.annotations.get("description", "") for w in mesh.workloads)
    assert any(w.incident == model.INCIDENT_ERRORS for w in mesh.workloads)
    assert any(w.incident == model.INCIDENT_LATENCY for w in mesh.workloads)
    creeping = [pod for w in mesh.workloads for pod in w.pods if pod.memory_slope > 0]
    assert creeping
    pod = creeping[0]
    assert mesh.proxy_memory(pod, EPOCH + 3600) > mesh.proxy_memory(pod, EPOCH)


def test_it_makes_an_issuer_signed_by_the_anchor_that_expires_soon(mesh):
    certs = mesh.certificates
    anchor = x509.load_pem_x509_certificate(certs.anchor_pem.encode())
    issuer = x509.load_pem_x509_certificate(certs.issuer_pem.encode())
    assert anchor.subject == anchor.issuer
    issuer.verify_directly_issued_by(anchor)
    anchor.verify_directly_issued_by(anchor)
    days_left = (issuer.not_valid_after_utc.timestamp() - EPOCH) / 86400
    assert days_left == model.ISSUER_DAYS_LEFT
    assert issuer.not_valid_before_utc.timestamp() < EPOCH < anchor.not_valid_after_utc.timestamp()
    assert isinstance(issuer.public_key(), ec.EllipticCurvePublicKey)
    assert issuer.extensions.get_extension_for_class(x509.BasicConstraints).value.ca


def test_it_splits_each_workload_inbound_rate_over_its_callers(mesh):
    for w in mesh.workloads[1:]:
        if not w.serves_mtls or w.kind == "job" or w.protocol == model.PROTOCOL_TCP:
            # Its proxy (if it has one) sees none of it: unmeshed, or a port that skips it.
            assert mesh.inbound_rps(w) == 0 and mesh.success_rate(w) is None
            continue
        from_edges = sum(e.rps for e in mesh.edges if e.dst is w)
        assert mesh.inbound_rps(w) == pytest.approx(w.base_rps)
        assert from_edges + w.unmeshed_client_rps == pytest.approx(w.base_rps)
    ingress = mesh.workloads[0]
    assert mesh.inbound_rps(ingress) == pytest.approx(sum(mesh.outbound_rps(ingress).values()))


def test_it_puts_incidents_out_of_bounds(mesh):
    for w in mesh.workloads:
        if w.incident == model.INCIDENT_ERRORS:
            assert mesh.success_rate(w) < 0.9
        elif w.incident == model.INCIDENT_LATENCY:
            assert mesh.latency_quantile(w, 0.99) > 1000
        elif mesh.inbound_rps(w):
            assert mesh.success_rate(w) >= 0.985
            assert mesh.latency_quantile(w, 0.99) < 1000


def test_it_interpolates_quantiles_as_prometheus_does():
    # Buckets 1, 2, 3 ... ms: half the responses at or below 5 ms, all at or below 10 ms.
    cumulative = (0.0, 0.0, 0.0, 0.0, 0.5, *([1.0] * 20))
    assert histogram_quantile(0.5, cumulative) == 5.0
    assert histogram_quantile(0.75, cumulative) == 7.5  # halfway between 5 and 10
    assert histogram_quantile(0.25, cumulative) == 4.5  # halfway into the (4, 5] bucket
    everything_slow = (0.0,) * 25
    assert histogram_quantile(0.99, everything_slow) == 50000.0  # the +Inf bucket


def test_it_gives_latency_fractions_that_grow_to_one():
    latency = LatencyModel(20.0, 0.6, slow_fraction=0.05, slow_median_ms=2500.0)
    fractions = latency.cumulative_fractions()
    assert list(fractions) == sorted(fractions)
    assert 0.4 < latency.cdf(20.0) < 0.5  # the slow mode holds 5 % of the mass
    assert fractions[-1] == pytest.approx(1.0, abs=1e-9)


def test_it_has_grpc_tcp_only_and_job_workloads(mesh):
    protocols = {w.protocol for w in mesh.workloads if w.meshed}
    assert protocols == {model.PROTOCOL_HTTP, model.PROTOCOL_GRPC, model.PROTOCOL_TCP}
    tcp = [w for w in mesh.workloads if w.protocol == model.PROTOCOL_TCP and w.meshed]
    assert all(w.port in (5432, 6379) and mesh.tcp(w).open_connections for w in tcp)
    assert any(mesh.tcp(w).close_errors_per_second for w in tcp)
    # Nobody calls a database over HTTP, and a database calls nobody.
    assert not any(w.key in mesh.outbound_rps(c) for c in mesh.workloads for w in tcp)
    assert not any(e.src.protocol == model.PROTOCOL_TCP for e in mesh.edges)
    grpc = [w for w in mesh.workloads if w.protocol == model.PROTOCOL_GRPC and w.meshed]
    assert any(mesh.success_rate(w) < 0.9 for w in grpc)
    jobs = [w for w in mesh.workloads if w.kind == "job" and w.meshed]
    finished = [w for w in jobs if w.finished]
    assert finished and all(p.phase == "Succeeded" for w in finished for p in w.pods)
    assert all(p.native_sidecar for w in jobs for p in w.pods)
    assert not any(e.dst.kind == "job" for e in mesh.edges)
    assert all(not mesh.outbound_rps(w) and not mesh.scrape_rps(w) for w in finished)
    running = [w for w in jobs if not w.finished]
    assert running and all(any(e.src is w for e in mesh.edges) for w in running)


def test_it_states_scrapes_and_probes_apart_from_the_application(mesh):
    for w in mesh.all_workloads:
        pods = len(w.exporting_pods) if w.meshed else 0
        assert mesh.scrape_rps(w) == pytest.approx(0.1 * pods)
        expected = {4191: 0.2 * pods} if pods else {}
        if pods and w.http_probes:
            expected[w.port] = 0.1 * w.http_probes * pods
        assert mesh.probe_rps_by_port(w) == pytest.approx(expected)
        assert mesh.probe_rps(w) == pytest.approx(sum(expected.values()))
    # A workload nobody calls still gets them: a running Job.
    job = next(w for w in mesh.workloads if w.kind == "job" and not w.finished and w.meshed)
    assert mesh.inbound_rps(job) == 0 and mesh.probe_rps(job) > 0


def test_it_routes_calls_by_httproute_grpcroute_or_the_default_route(mesh):
    kinds = set()
    for w in mesh.all_workloads:
        http, grpc = mesh.http_route_rps(w), mesh.grpc_route_rps(w)
        assert not http.keys() & grpc.keys()
        outbound = mesh.outbound_rps(w)
        routed = {**http, **grpc}
        for (namespace, service, _), _rps in routed.items():
            callee = next(
                c
                for c in mesh.all_workloads
                if (c.namespace, c.service_name) == (namespace, service)
            )
            assert not callee.routes  # the ServiceProfile's routes win
            kinds.update(r.kind for r in callee.policy_routes)
        via_routes = sum(routed.values())
        profiled = sum(rps for key, rps in outbound.items() if mesh.workload(*key).routes)
        assert via_routes == pytest.approx(sum(outbound.values()) - profiled)
    assert kinds == {"HTTPRoute", "GRPCRoute"}
    w, key = next((w, key) for w in mesh.all_workloads for key in mesh.grpc_route_rps(w))
    assert 0 < mesh.policy_route_latency_quantile(w, key, 0.5) <= 10_000
    services = {(c.namespace, c.service_name): c for c in mesh.all_workloads}
    failing = [
        (w, key)
        for w in mesh.all_workloads
        for key in mesh.http_route_rps(w)
        if services[key[:2]].protocol == model.PROTOCOL_GRPC and services[key[:2]].success_rate < 1
    ]
    # gRPC on the default HTTP route: every response is HTTP 200, failing or not.
    assert failing and all(mesh.policy_route_success_rate(w, key) == 1.0 for w, key in failing)


def test_it_has_the_trouble_an_on_call_engineer_looks_for(mesh):
    problems = mesh.pod_problems()
    assert all(problems.values()), problems
    pods = {(p.namespace, p.name): p for w in mesh.all_workloads for p in w.pods}
    # OOMKilled told apart: some proxies, some applications.
    oom = [pods[name] for name in problems["oomkilled"]]
    assert any(p.proxy_last_termination == "OOMKilled" for p in oom)
    assert any(p.app_last_termination == "OOMKilled" for p in oom)
    (crashing,) = [pods[name] for name in problems["crashloop"]]
    assert crashing.restarts > 5 and not crashing.ready and crashing.running
    # A crashing or not-ready replica serves nothing; its proxy runs.
    for name in problems["crashloop"] | (problems["not-ready"] - problems["init"]):
        assert mesh.pod_rps(pods[name]) == 0 and pods[name].exports_metrics
    # Plain text from meshed clients: to unmeshed workloads, and between meshed workloads
    # where a port skips the server's proxy.
    plain = {dst: mesh.workload(*dst) for _, dst in mesh.plaintext_edges()}
    assert any(w.meshed and w.skip_inbound for w in plain.values())
    assert all(not w.meshed or w.skip_inbound for w in plain.values())
    # Authorization: Servers, one denying HTTP requests and one denying TCP connections.
    servers = [w for w in mesh.workloads if w.server]
    assert any(w.denied_rps for w in servers) and any(
        w.denied_connections_per_second for w in servers
    )
    assert any(not w.denied_rps and not w.denied_connections_per_second for w in servers)
    reasons = {e.reason for e in mesh.events}
    assert reasons == {"InjectionSkipped", "FailedCreate", "BackOff", "OOMKilling", "Unhealthy"}
