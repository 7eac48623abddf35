"""The health rules configured in settings, for what the pages classify themselves (edges)."""

from django.conf import settings

from meshdash.mesh.health import HealthRules


def health_rules() -> HealthRules:
    return HealthRules(
        critical_success=settings.MESHDASH_HEALTH_CRITICAL_SUCCESS,
        warning_success=settings.MESHDASH_HEALTH_WARNING_SUCCESS,
        warning_p99_ms=settings.MESHDASH_HEALTH_WARNING_P99_MS,
        min_rps=settings.MESHDASH_HEALTH_MIN_RPS,
    )
