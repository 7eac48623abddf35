import html as htmllib
import re

from django.urls import reverse

from meshdash.dashboard.rows import namespace_rows, workload_rows
from meshdash.mesh.columns import NAMESPACE_COLUMNS, WORKLOAD_COLUMNS
from meshdash.mesh.model import Namespace, Workload


def test_it_escapes_every_value_and_links_the_detail_page():
    w = Workload(
        "shop",
        "deployment",
        "web<b>",
        meshed_pods=1,
        total_pods=2,
        rps=1.5,
        success_rate=0.5,
        health="critical",
    )
    html = workload_rows([(w, [])], "?window=10m")
    assert "<b>" not in html
    assert 'href="/workloads/shop/deployment/web%3Cb%3E/?window=10m">web&lt;b&gt;</a>' in html
    assert 'href="/namespaces/shop/?window=10m"' in html
    assert '<td class="warn">1/2</td>' in html and "50.0 %" in html


def test_it_has_no_link_for_names_no_url_can_carry():
    html = workload_rows([(Workload("shop", "deployment", "a/b"), [])])
    assert "<td>a/b</td>" in html and "/workloads/shop" not in html
    html = workload_rows([(Workload("", "deployment", "web"), [])])
    assert "/workloads/" not in html and "/namespaces/" not in html
    long_name = "a" * 40
    html = workload_rows([(Workload("shop", "deployment", long_name), [])])
    assert f'<td title="{long_name}"><a href=' in html


def test_it_says_so_when_nothing_matches():
    assert "No workloads match" in workload_rows([])


def test_it_builds_the_same_paths_as_reverse():
    for name in ("web", "a b", "ünï", "x?y#z", "100%", "<b>&'\"", "a:b@c~!$()*+,;=", "."):
        html = workload_rows([(Workload(name, "deployment", name), [])])
        hrefs = [htmllib.unescape(h) for h in re.findall(r'href="([^"]+)"', html)]
        assert hrefs == [
            reverse("namespace_detail", args=[name]),
            reverse("workload_detail", args=[name, "deployment", name]),
        ]


def test_it_fills_one_cell_per_column():
    html = workload_rows([(Workload("shop", "deployment", "web"), [])])
    assert html.count("<td") == len(WORKLOAD_COLUMNS)
    assert f'colspan="{len(WORKLOAD_COLUMNS)}"' in workload_rows([])
    html = namespace_rows([Namespace("shop", "enabled")])
    assert html.count("<td") == len(NAMESPACE_COLUMNS)


def test_it_escapes_namespace_rows_and_marks_what_needs_a_look():
    ns = Namespace(
        "shop",
        "yes<b>",
        workloads=3,
        meshed_pods=1,
        total_pods=2,
        rps=1.5,
        success_rate=0.5,
        health_counts={"critical": 2, "healthy": 0},
    )
    html = namespace_rows([ns], "?window=10m")
    assert '<tr data-namespace="shop">' in html
    assert '<a href="/namespaces/shop/?window=10m">shop</a>' in html
    assert '<td class="num warn">1/2</td>' in html
    assert '<span class="badge h-critical" title="critical">2 critical</span>' in html
    assert "healthy" not in html
    assert (
        '<td class="bad" title="The valid values are enabled and disabled">yes&lt;b&gt;</td>'
        in html
    )
    assert "No namespaces match." in namespace_rows([], empty="No namespaces match.")
