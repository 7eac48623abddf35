import pytest

from meshdash.mesh.names import is_namespace_name, is_object_name, workload_ref_error


@pytest.mark.parametrize("name", ["a", "payments", "team-1", "a" * 63])
def test_it_accepts_namespace_names(name):
    assert is_namespace_name(name)


@pytest.mark.parametrize("name", ["", "A", "a_b", "a.b", "-a", "a-", "a/b", "a" * 64, "é"])
def test_it_rejects_what_cannot_be_a_namespace(name):
    assert not is_namespace_name(name)


@pytest.mark.parametrize("name", ["api", "api-v2", "api.v2", "a" * 253])
def test_it_accepts_object_names(name):
    assert is_object_name(name)


@pytest.mark.parametrize("name", ["", "a/b", "API", "a..b", ".a", "a b", "a" * 254, "-x"])
def test_it_rejects_what_cannot_be_an_object_name(name):
    assert not is_object_name(name)


def test_it_says_what_is_wrong_with_a_workload_reference():
    assert workload_ref_error("shop", "deployment", "cart") is None
    assert "namespace" in workload_ref_error("Shop", "deployment", "cart")
    assert "kind" in workload_ref_error("shop", "pod", "cart")
    assert "workload name" in workload_ref_error("shop", "deployment", "a/b")
