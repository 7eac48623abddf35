"""Kubernetes object names, checked as the API server checks them, so that a name that came from
a form or a URL can be stored and linked to safely."""

import re

from meshdash.mesh.model import KINDS

# RFC 1123 label: namespaces.
DNS1123_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
MAX_LABEL = 63
# RFC 1123 subdomain: dot-separated labels; the names of deployments, pods and the like.
DNS1123_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
MAX_SUBDOMAIN = 253


def is_namespace_name(value: str) -> bool:
    return len(value) <= MAX_LABEL and DNS1123_LABEL.fullmatch(value) is not None


def is_object_name(value: str) -> bool:
    return len(value) <= MAX_SUBDOMAIN and DNS1123_SUBDOMAIN.fullmatch(value) is not None


def namespace_error(namespace: str) -> str | None:
    """Why ``namespace`` cannot name a namespace, or None when it can."""
    if not is_namespace_name(namespace):
        return f"{namespace[:80]!r} is not a namespace name (lower-case DNS label)"
    return None


def workload_ref_error(namespace: str, kind: str, name: str) -> str | None:
    """Why (namespace, kind, name) cannot name a workload, or None when it can."""
    if not is_namespace_name(namespace):
        return namespace_error(namespace)
    if kind not in KINDS:
        return f"{kind[:80]!r} is not a workload kind ({', '.join(KINDS)})"
    if not is_object_name(name):
        return f"{name[:80]!r} is not a workload name (lower-case DNS subdomain)"
    return None
