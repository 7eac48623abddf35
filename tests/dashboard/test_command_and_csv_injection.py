"""Text from the cluster must not turn into a kubectl option or a spreadsheet formula."""

import shlex

import pytest

from meshdash.dashboard.api import _csv_cell
from meshdash.dashboard.next_steps import logs_command, workload_commands


def test_it_never_lets_a_pod_name_become_a_kubectl_option():
    command = logs_command("shop", "--kubeconfig=/tmp/evil")
    words = shlex.split(command)
    assert words[:4] == ["kubectl", "-n", "shop", "logs"]
    assert words[4] == "pod/--kubeconfig=/tmp/evil"
    assert not any(w.startswith("--kubeconfig") for w in words)


def test_it_names_the_pod_with_its_resource_type():
    assert logs_command("shop", "db-0") == "kubectl -n shop logs pod/db-0 -c linkerd-proxy"
    commands = dict(workload_commands("shop", "statefulset", "db", "-db-0"))
    assert shlex.split(commands["Proxy logs"])[4] == "pod/-db-0"


@pytest.mark.parametrize(
    "value",
    [
        "=1+1",
        ' =HYPERLINK("http://evil")',
        "\n=1+1",
        "\r\n+1",
        "\t@SUM(A1)",
        "  -2+3",
        "\n",
    ],
)
def test_it_keeps_formulas_hidden_behind_whitespace_out_of_csv(value):
    assert _csv_cell(value) == "'" + value


@pytest.mark.parametrize("value", ["payments", "a=b", "team-1", "", 0.5])
def test_it_leaves_plain_values_alone(value):
    assert _csv_cell(value) == value
