"""split_muted and MuteRule.matches: which findings a rule silences (pure, no database)."""

from meshdash.mesh.checks import Finding, Ref
from meshdash.triage.mutes import MuteRule, split_muted, subject_namespace


def finding(check="memory.share", *refs, severity="warning") -> Finding:
    return Finding(check, severity, tuple(refs), f"{check} on {refs}")


POD = Ref("payments", "pod", "ledger-0")
LEDGER = Ref("payments", "statefulset", "ledger")
CART = Ref("shop", "deployment", "cart")
WEBHOOK = Ref("", "webhook", "gatekeeper")


def test_no_rules_mute_nothing_and_keep_the_order():
    findings = [finding("a", CART), finding("b", LEDGER), finding("c", POD)]
    assert split_muted(findings, []) == (findings, [])


def test_a_namespace_rule_mutes_its_check_there_only():
    mine, other_check, other_ns = (
        finding("memory.share", POD, LEDGER),
        finding("memory.oom", POD, LEDGER),
        finding("memory.share", CART),
    )
    rule = MuteRule("memory.share", "payments")
    active, muted = split_muted([mine, other_check, other_ns], [rule])
    assert active == [other_check, other_ns]
    assert muted == [(mine, rule)]


def test_a_rule_for_every_check_mutes_each_check_in_its_namespace():
    findings = [finding("memory.share", LEDGER), finding("versions.proxy", LEDGER)]
    active, muted = split_muted(findings, [MuteRule("", "payments")])
    assert active == []
    assert [f for f, _ in muted] == findings


def test_a_workload_rule_mutes_findings_naming_that_workload():
    ledger_pod = finding("memory.share", POD, LEDGER)
    bare_pod = finding("memory.share", Ref("payments", "pod", "other-0"))
    other = finding("memory.share", Ref("payments", "deployment", "ledger"))  # another kind
    rule = MuteRule("memory.share", "payments", "statefulset", "ledger")
    active, muted = split_muted([ledger_pod, bare_pod, other], [rule])
    assert muted == [(ledger_pod, rule)]
    assert active == [bare_pod, other]


def test_a_namespace_counts_as_inside_itself():
    annotated = finding("injection.annotation", Ref("", "namespace", "payments"))
    active, muted = split_muted([annotated], [MuteRule("injection.annotation", "payments")])
    assert active == [] and len(muted) == 1


def test_a_finding_spanning_namespaces_is_not_hidden_by_one_teams_rule():
    spanning = finding("control-plane.calls", Ref("linkerd", "control-plane", "destination"), POD)
    cluster_wide = finding("webhooks.conflict", WEBHOOK, Ref("", "namespace", "payments"))
    rules = [MuteRule("", "payments"), MuteRule("", "linkerd")]
    active, muted = split_muted([spanning, cluster_wide], rules)
    assert active == [spanning, cluster_wide] and muted == []


def test_an_everywhere_rule_mutes_cluster_wide_findings_too():
    cluster_wide = finding("webhooks.conflict", WEBHOOK, Ref("", "namespace", "payments"))
    local = finding("webhooks.conflict", CART)
    rule = MuteRule("webhooks.conflict", "")
    active, muted = split_muted([cluster_wide, local], [rule])
    assert active == [] and [f for f, _ in muted] == [cluster_wide, local]


def test_each_muted_finding_carries_the_first_rule_that_mutes_it():
    first, second = MuteRule("memory.share", "payments", why="1"), MuteRule("", "payments")
    _, muted = split_muted([finding("memory.share", LEDGER)], [first, second])
    assert muted[0][1] == first


def test_subject_namespace():
    assert subject_namespace([POD, LEDGER]) == "payments"
    assert subject_namespace([POD, CART]) is None
    assert subject_namespace([WEBHOOK]) is None
    assert subject_namespace([]) is None
