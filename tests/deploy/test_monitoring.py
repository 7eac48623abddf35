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
    assert set(alerts) == {"MeshdashDataStale", "MeshdashCollectionFailing"}
    exported = METRICS_SOURCE.read_text()
    for alert in alerts.values():
        names = set(re.findall(r"\bmeshdash_[a-z_]+", alert["expr"]))
        assert names
        for name in names:
            family = re.sub(r"_(total|bucket|count|sum)$", "", name)
            assert f'"{family}"' in exported, f"{alert['alert']}: {name} is not exported"
