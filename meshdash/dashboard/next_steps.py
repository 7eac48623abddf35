"""The next step after looking at a workload: shell commands to copy and links to other tools."""

import shlex
import string
from urllib.parse import quote

from meshdash.mesh.kinds import BY_NAME as KIND_BY_NAME


def resource(kind: str, name: str) -> str:
    """``kind/name`` with the short kind name kubectl and the linkerd CLI both accept."""
    known = KIND_BY_NAME.get(kind)
    return f"{known.short_name if known else kind}/{name}"


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
    if kind in KIND_BY_NAME and KIND_BY_NAME[kind].restartable:
        commands.append(
            ("Restart (new pods, new proxies)", f"kubectl -n {ns} rollout restart {target}")
        )
    return commands


def logs_command(namespace: str, pod: str) -> str:
    # `pod/` in front: a name starting with `-` stays a name, never a kubectl option.
    return f"kubectl -n {shlex.quote(namespace)} logs {shlex.quote('pod/' + pod)} -c linkerd-proxy"


def workload_promql(namespace: str, kind: str, name: str, window: str) -> str:
    """Inbound success and request rate of one workload, as Prometheus would show it."""
    label = KIND_BY_NAME[kind].prom_label if kind in KIND_BY_NAME else kind
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
