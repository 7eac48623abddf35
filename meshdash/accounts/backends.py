import logging

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied

from meshdash.accounts.network import client_address
from meshdash.accounts.throttle import clear_failures, record_failure, seconds_locked
from meshdash.accounts.usernames import MAX_USERNAME

log = logging.getLogger(__name__)


class ThrottledModelBackend(ModelBackend):
    """User name and password, throttled here so that every way in (our login page, the admin's,
    any other `authenticate()` call) counts failures and honours the lock."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            username = kwargs.get(get_user_model().USERNAME_FIELD)
        if username is None or password is None:
            return None
        address = client_address(request) if request is not None else ""
        if seconds_locked(username, address):
            # Stops the other backends too: the password is not even checked.
            raise PermissionDenied("too many failed sign-in attempts")
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None:
            record_failure(username, address)
        else:
            clear_failures(username)
        return user


class SsoHeaderBackend(ModelBackend):
    """Users vouched for by the authenticating proxy, created on first sight without a password.

    Only SsoHeaderMiddleware calls this, after checking the request came from a trusted proxy.
    """

    def authenticate(self, request, sso_username=None):
        if not sso_username or len(sso_username) > MAX_USERNAME:
            return None
        user_model = get_user_model()
        user, created = user_model._default_manager.get_or_create(
            **{user_model.USERNAME_FIELD: sso_username}
        )
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
        return user if self.user_can_authenticate(user) else None
