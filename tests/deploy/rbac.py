"""RBAC as the API server applies it, for the rules deploy/ grants: which of a list of requests
the rules bound to a service account grant, and which part of the rules no request used."""

from dataclasses import dataclass

from tests.deploy.recording_proxy import ApiRequest


@dataclass(frozen=True, order=True)
class Grant:
    """One verb on one resource (one named object when ``name``), where the binding reaches:
    ``namespace`` "" for a ClusterRole bound by a ClusterRoleBinding (every namespace and the
    cluster-wide lists), else a Role's namespace."""

    verb: str
    group: str
    resource: str
    namespace: str
    name: str

    def allows(self, request: ApiRequest) -> bool:
        return (
            (self.verb, self.group, self.resource)
            == (request.verb, request.group, request.resource)
            and self.namespace in ("", request.namespace)
            and self.name in ("", request.name)
        )


def _subject_is(binding: dict, account: str, namespace: str) -> bool:
    return any(
        s.get("kind") == "ServiceAccount"
        and (s["name"], s.get("namespace")) == (account, namespace)
        for s in binding.get("subjects", [])
    )


def grants_of(objects: list[dict], account: str, namespace: str) -> list[Grant]:
    """Every Grant the rendered objects give the service account ``namespace/account``."""
    roles = {
        (o["kind"], o["metadata"].get("namespace", ""), o["metadata"]["name"]): o
        for o in objects
        if o["kind"] in {"ClusterRole", "Role"}
    }
    grants = []
    for binding in objects:
        if binding["kind"] not in {"ClusterRoleBinding", "RoleBinding"}:
            continue
        if not _subject_is(binding, account, namespace):
            continue
        where = binding["metadata"].get("namespace", "")
        ref = binding["roleRef"]
        role = roles[(ref["kind"], "" if ref["kind"] == "ClusterRole" else where, ref["name"])]
        for rule in role.get("rules", []):
            for field in ("apiGroups", "resources", "verbs", "resourceNames"):
                assert "*" not in rule.get(field, []), f"{role['metadata']['name']}: a wildcard"
            assert not rule.get("nonResourceURLs"), "no non-resource URLs"
            for group in rule["apiGroups"]:
                for resource in rule["resources"]:
                    for verb in rule["verbs"]:
                        for name in rule.get("resourceNames") or [""]:
                            grants.append(Grant(verb, group, resource, where, name))
    return sorted(set(grants))


def ungranted(requests: list[ApiRequest], grants: list[Grant]) -> list[ApiRequest]:
    return sorted({r for r in requests if not any(g.allows(r) for g in grants)})


def unused(requests: list[ApiRequest], grants: list[Grant]) -> list[Grant]:
    return [g for g in grants if not any(g.allows(r) for r in requests)]
