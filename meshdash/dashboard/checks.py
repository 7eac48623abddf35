from django.conf import settings
from django.core.checks import Error

from meshdash.mesh.model import WINDOWS


def check_windows(app_configs, **kwargs):
    """Pages open on the default window and beat collects every window: a window setting that
    names a window meshdash does not offer must stop start-up, not give empty pages later."""
    errors = []
    offered = ", ".join(WINDOWS)
    if settings.MESHDASH_DEFAULT_WINDOW not in WINDOWS:
        errors.append(
            Error(
                f"MESHDASH_DEFAULT_WINDOW is {settings.MESHDASH_DEFAULT_WINDOW!r}, "
                f"not one of the windows ({offered})",
                id="dashboard.E001",
            )
        )
    if set(settings.MESHDASH_WINDOWS) != set(WINDOWS):
        errors.append(
            Error(
                f"MESHDASH_WINDOWS collects {', '.join(settings.MESHDASH_WINDOWS) or 'nothing'}, "
                f"not each of the windows ({offered})",
                id="dashboard.E002",
            )
        )
    return errors
