"""The manifests under deploy/, rendered by ``kubectl kustomize`` as ``kubectl apply -k`` would."""

import functools
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent.parent
DEPLOY = ROOT / "deploy"
KUSTOMIZATIONS = ["base", "overlays/demo", "overlays/production"]
KUBECTL_MISSING = (
    "kubectl is missing: it renders deploy/ (kustomize). `make test` installs it as root "
    "(scripts/bootstrap.sh --kubectl); otherwise install it first with: "
    "sudo curl -fsSLo /usr/local/bin/kubectl "
    "https://dl.k8s.io/release/v1.32.4/bin/linux/amd64/kubectl "
    "&& sudo chmod +x /usr/local/bin/kubectl"
)


def kubectl() -> str:
    binary = shutil.which("kubectl")
    if binary is None:
        pytest.fail(KUBECTL_MISSING)
    return binary


@functools.cache
def _render(kustomization: str) -> str:
    result = subprocess.run(
        [kubectl(), "kustomize", str(DEPLOY / kustomization)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, f"kubectl kustomize deploy/{kustomization}: {result.stderr}"
    return result.stdout


def render(kustomization: str) -> list[dict]:
    """Every object of ``deploy/<kustomization>``, a fresh copy for each caller."""
    return [obj for obj in yaml.safe_load_all(_render(kustomization)) if obj]


def find(objects: list[dict], kind: str, name: str) -> dict:
    (found,) = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    return found


def containers(objects: list[dict]) -> list[tuple[str, str, dict, dict]]:
    """(``Kind/name``, kind, pod template, container) of every container, init ones too."""
    found = []
    for obj in objects:
        template = obj.get("spec", {}).get("template")
        if obj["kind"] not in {"Deployment", "StatefulSet", "DaemonSet", "Job"} or not template:
            continue
        spec = template["spec"]
        for container in spec.get("initContainers", []) + spec["containers"]:
            found.append(
                (f"{obj['kind']}/{obj['metadata']['name']}", obj["kind"], template, container)
            )
    return found
