from dataclasses import dataclass

import pytest

from meshdash.mesh.checks import CHECKS, CheckThresholds, PodHistory
from meshdash.mesh.checks.docs import check_doc, markdown
from meshdash.mesh.checks.thresholds import thresholds_from_env


def test_thresholds_from_environment():
    got = thresholds_from_env(
        {
            "MESHDASH_CHECK_ISSUER_WARNING_DAYS": "90",
            "MESHDASH_CHECK_MAX_FINDINGS_PER_CHECK": "5",
            "OTHER": "x",
        }
    )
    assert got.issuer_warning_days == 90.0 and got.max_findings_per_check == 5
    assert isinstance(got.max_findings_per_check, int)
    assert thresholds_from_env({}) == CheckThresholds()


@pytest.mark.parametrize("value", ["soon", "-1", "1.5"])
def test_bad_threshold_names_its_variable(value):
    with pytest.raises(ValueError, match="MESHDASH_CHECK_MAX_FINDINGS_PER_CHECK"):
        thresholds_from_env({"MESHDASH_CHECK_MAX_FINDINGS_PER_CHECK": value})


def test_documented_defaults():
    t = CheckThresholds()
    assert (t.anchor_warning_days, t.anchor_critical_days) == (60, 7)
    assert (t.issuer_warning_days, t.issuer_critical_days) == (60, 7)


def test_readme_text_lists_every_check_and_setting():
    text = markdown()
    for check_id in CHECKS:
        assert check_doc(check_id) in text
    assert "`MESHDASH_CHECK_ISSUER_WARNING_DAYS` | 60.0" in text


@dataclass
class Point:
    t: int
    memory_bytes: float | None
    cpu_cores: float | None
    cert_expiry: float | None
    restarts: float | None


def test_pod_history_from_history_points():
    h = PodHistory.from_points(
        "shop",
        "web-1",
        "deployment",
        "web",
        [Point(120, 2.0, None, 9.0, 0), Point(60, 1.0, None, None, 0)],
    )
    assert h.memory == ((60, 1.0), (120, 2.0))
    assert h.cert_expiry == ((60, None), (120, 9.0))
