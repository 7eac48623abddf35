from meshdash.dashboard.control_plane import proxy_versions
from meshdash.mesh.model import ControlPlane


def test_it_flags_proxies_on_another_version():
    cp = ControlPlane(version="2.14", data_plane_versions={"2.13": 5, "2.14": 50, "": 1})
    versions = [(v.version, v.proxies, v.skewed) for v in proxy_versions(cp)]
    assert versions == [("2.14", 50, False), ("2.13", 5, True), ("unknown", 1, False)]


def test_it_compares_proxy_builds_without_their_v_and_never_with_a_release_name():
    cp = ControlPlane(version="v2.294.0", data_plane_versions={"2.294.0": 3, "v2.300.0": 1})
    versions = [(v.version, v.skewed) for v in proxy_versions(cp)]
    assert versions == [("2.294.0", False), ("v2.300.0", True)]
    release = ControlPlane(version="edge-25.4.4", data_plane_versions={"2.294.0": 3})
    assert [v.skewed for v in proxy_versions(release)] == [False]
