"""deploy/examples/monitoring: the PodMonitor scrapes the port the web pods serve /metrics on,
and the alert rules are valid PromQL over metrics meshdash exports."""

import re
import shutil
import subprocess
from pathlib import Path

import yaml

from tests.deploy.manifests import ROOT, find, render

METRICS_SOURCE = ROOT / "meshdash" / "observability" / "metrics.py"


def test_the_pod_monitor_scrapes_the_web_pods_metrics_port():
    monitor = find(render("examples/monitoring"), "PodMonitor", "meshdash")
    web = find(render("base"), "Deployment", "meshdash-web")
    template = web["spec"]["template"]
    assert monitor["metadata"]["namespace"] == web["metadata"]["namespace"]
    assert (
        monitor["spec"]["selector"]["matchLabels"].items() <= template["metadata"]["labels"].items()
    )
    (endpoint,) = monitor["spec"]["podMetricsEndpoints"]
    (container,) = template["spec"]["containers"]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    annotations = template["metadata"]["annotations"]
    assert annotations["prometheus.io/port"] == str(ports[endpoint["port"]])
    assert annotations["prometheus.io/path"] == endpoint["path"] == "/metrics"
    settings = find(render("base"), "ConfigMap", "meshdash-settings")["data"]
    assert str(ports["metrics"]) == settings.get("MESHDASH_METRICS_PORT", "9102")


def test_the_alert_rules_are_valid_and_name_metrics_meshdash_exports(tmp_path: Path):
    rule = find(render("examples/monitoring"), "PrometheusRule", "meshdash")
    rules_file = tmp_path / "rules.yml"
    rules_file.write_text(yaml.safe_dump(rule["spec"]))
    promtool = shutil.which("promtool")
    assert promtool, "promtool is missing: run `make bootstrap`"
    result = subprocess.run(
        [promtool, "check", "rules", str(rules_file)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
    alerts = {r["alert"]: r for group in rule["spec"]["groups"] for r in group["rules"]}
    assert set(alerts) == {
        "MeshdashDataStale",
        "MeshdashCollectionFailing",
        "MeshdashFindingCritical",
        "MeshdashFindingWarning",
        "MeshdashChecksNotRunning",
    }
    exported = METRICS_SOURCE.read_text()
    for alert in alerts.values():
        names = set(re.findall(r"\bmeshdash_[a-z_]+", alert["expr"]))
        assert names
        for name in names:
            family = re.sub(r"_(total|bucket|count|sum)$", "", name)
            assert f'"{family}"' in exported, f"{alert['alert']}: {name} is not exported"


# Two web replicas export the same findings: a critical one pages after 5 minutes, once; a
# warning waits 30 minutes; a finding gone (fixed, muted) never pages; checks not running warn.
ISSUER = {
    "check": "certificates.issuer",
    "severity": "critical",
    "namespace": "linkerd",
    "workload": "control-plane/linkerd-identity-issuer",
}
GROWTH = {
    "check": "memory.growth",
    "severity": "warning",
    "namespace": "shop",
    "workload": "deployment/web",
}
GONE = {
    "check": "versions.proxy",
    "severity": "critical",
    "namespace": "shop",
    "workload": "deployment/cart",
}


def series(name: str, labels: dict, values: str) -> dict:
    text = ",".join(f'{key}="{value}"' for key, value in labels.items())
    return {"series": f"{name}{{{text}}}", "values": values}


def expected(rule: dict, labels: dict) -> dict:
    """The alert ``rule`` fires with: the finding's labels but its severity, the rule's."""
    context = {**labels, "window": labels.get("window", "")}
    annotations = {
        key: " ".join(re.sub(r"\{\{ \$labels\.(\w+) \}\}", lambda m: context[m[1]], text).split())
        for key, text in rule["annotations"].items()
    }
    return {"exp_labels": {**labels, **rule["labels"]}, "exp_annotations": annotations}


def test_the_findings_alerts_page_on_critical_after_5m_and_ticket_warnings(tmp_path: Path):
    rule = find(render("examples/monitoring"), "PrometheusRule", "meshdash")
    alerts = {r["alert"]: r for group in rule["spec"]["groups"] for r in group["rules"]}
    (tmp_path / "rules.yml").write_text(yaml.safe_dump(rule["spec"]))
    finding = "meshdash_finding"
    unit_test = {
        "rule_files": ["rules.yml"],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": [
                    series(finding, {**ISSUER, "pod": "web-a"}, "1x20"),
                    series(finding, {**ISSUER, "pod": "web-b"}, "1x20"),
                    series(finding, {**GROWTH, "pod": "web-a"}, "1x40"),
                    series(finding, {**GONE, "pod": "web-a"}, "1 1 stale"),
                    series("meshdash_findings_checked", {"window": "1m"}, "1x10 0x20"),
                ],
                "alert_rule_test": [
                    {"eval_time": "4m", "alertname": "MeshdashFindingCritical", "exp_alerts": []},
                    {
                        "eval_time": "6m",
                        "alertname": "MeshdashFindingCritical",
                        "exp_alerts": [
                            expected(alerts["MeshdashFindingCritical"], _finding(ISSUER))
                        ],
                    },
                    {"eval_time": "20m", "alertname": "MeshdashFindingWarning", "exp_alerts": []},
                    {
                        "eval_time": "31m",
                        "alertname": "MeshdashFindingWarning",
                        "exp_alerts": [
                            expected(alerts["MeshdashFindingWarning"], _finding(GROWTH))
                        ],
                    },
                    {"eval_time": "20m", "alertname": "MeshdashChecksNotRunning", "exp_alerts": []},
                    {
                        "eval_time": "27m",
                        "alertname": "MeshdashChecksNotRunning",
                        "exp_alerts": [
                            expected(alerts["MeshdashChecksNotRunning"], {"window": "1m"})
                        ],
                    },
                ],
            }
        ],
    }
    (tmp_path / "test.yml").write_text(yaml.safe_dump(unit_test))
    promtool = shutil.which("promtool")
    assert promtool, "promtool is missing: run `make bootstrap`"
    result = subprocess.run(
        [promtool, "test", "rules", "test.yml"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _finding(labels: dict) -> dict:
    """A finding's labels as an alert keeps them: max by (check, namespace, workload)."""
    return {key: value for key, value in labels.items() if key != "severity"}
