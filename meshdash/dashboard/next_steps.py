"""The next step after looking at a workload: shell commands to copy and links to other tools."""

import shlex
import string
from urllib.parse import quote

# Short resource names accepted by both kubectl and the linkerd CLI.
KIND_ABBREVIATIONS = {
    "deployment": "deploy",
    "statefulset": "sts",
    "daemonset": "ds",
    "job": "job",
    "cronjob": "cj",
}
# Kinds `kubectl rollout restart` supports.
RESTARTABLE_KINDS = ("deployment", "statefulset", "daemonset")
# The Prometheus label Linkerd puts on proxy series for each kind.
PROM_LABELS = {
    "deployment": "deployment",
    "statefulset": "statefulset",
    "daemonset": "daemonset",
    "job": "k8s_job",
    "cronjob": "cronjob",
}


def resource(kind: str, name: str) -> str:
    return f"{KIND_ABBREVIATIONS.get(kind, kind)}/{name}"


def workload_commands(namespace: str, kind: str, name: str, pod: str = "") -> list[tuple[str, str]]:
    """(what it does, command) pairs, shell-quoted because names come from the cluster."""
    ns = shlex.quote(namespace)
    target = shlex.quote(resource(kind, name))
    commands = [
        ("Watch live requests", f"linkerd viz tap {target} -n {ns}"),
        ("Golden metrics from the CLI", f"linkerd viz stat {target} -n {ns}"),
    ]
    if pod:
        commands.append(("Proxy logs", logs_command(namespace, pod)))
    if kind in RESTARTABLE_KINDS:
        commands.append(
            ("Restart (new pods, new proxies)", f"kubectl -n {ns} rollout restart {target}")
        )
    return commands


def logs_command(namespace: str, pod: str) -> str:
    # `pod/` in front: a name starting with `-` stays a name, never a kubectl option.
    return f"kubectl -n {shlex.quote(namespace)} logs {shlex.quote('pod/' + pod)} -c linkerd-proxy"


def workload_promql(namespace: str, kind: str, name: str, window: str) -> str:
    """Inbound success and request rate of one workload, as Prometheus would show it."""
    label = PROM_LABELS.get(kind, kind)
    selector = (
        f'direction="inbound", namespace="{_promql_string(namespace)}", '
        f'{label}="{_promql_string(name)}"'
    )
    return f"sum(rate(response_total{{{selector}}}[{window}])) by (classification)"


def _promql_string(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


class _Fields(dict):
    def __missing__(self, key):
        return ""


def fill_url_template(template: str, **values: str) -> str:
    """The template with ``{namespace}``, ``{kind}``, ``{name}``, ``{query}``... URL-encoded in.

    An empty template, or one that does not parse, gives no link rather than an error page.
    """
    if not template:
        return ""
    fields = _Fields({key: quote(value, safe="") for key, value in values.items()})
    try:
        return string.Formatter().vformat(template, (), fields)
    except (ValueError, IndexError, KeyError, AttributeError):
        return ""
