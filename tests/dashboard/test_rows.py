from meshdash.dashboard.rows import workload_path, workload_rows
from meshdash.mesh.model import Workload


def test_it_escapes_every_value_and_links_the_detail_page():
    w = Workload("shop", "deployment", "web<b>", meshed_pods=1, total_pods=2, rps=1.5,
                 success_rate=0.5, health="critical")
    html = workload_rows([(w, [])], "?window=10m")
    assert "<b>" not in html
    assert 'href="/workloads/shop/deployment/web%3Cb%3E/?window=10m">web&lt;b&gt;</a>' in html
    assert 'href="/namespaces/shop/?window=10m"' in html
    assert '<td class="warn">1/2</td>' in html and "50.0 %" in html


def test_it_has_no_link_for_names_no_url_can_carry():
    assert workload_path("shop", "deployment", "a/b") is None
    assert workload_path("shop", "deployment", "") is None
    html = workload_rows([(Workload("shop", "deployment", "a/b"), [])])
    assert "<td>a/b</td>" in html
    long_name = "a" * 40
    html = workload_rows([(Workload("shop", "deployment", long_name), [])])
    assert f'<td title="{long_name}"><a href=' in html


def test_it_says_so_when_nothing_matches():
    assert "No workloads match" in workload_rows([])
