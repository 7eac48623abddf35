import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction

from meshdash.accounts.cache import per_user
from meshdash.accounts.models import SsoAccount
from meshdash.accounts.network import client_address
from meshdash.accounts.throttle import clear_failures, record_failure, seconds_locked
from meshdash.accounts.usernames import MAX_USERNAME, canonical_username

log = logging.getLogger(__name__)


class CachedUserBackend(ModelBackend):
    """The signed-in user of a session from meshdash.accounts.cache, not a query per request.

    ``django.contrib.auth.get_user`` still checks the session's auth hash against the user it
    gets here: a password change, like a deactivation, saves the user, which makes the cached
    one stale, and the next request finds the new hash and signs the session out.
    """

    def get_user(self, user_id):
        cached = per_user(f"user:{type(self).__name__}", user_id, lambda: self.load_user(user_id))
        return cached or None

    def load_user(self, user_id):
        """The user, or False when there is none that may sign in (False is cached too)."""
        return super().get_user(user_id) or False


class ThrottledModelBackend(CachedUserBackend):
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


def may_sign_in_by_sso(user) -> bool:
    """Only users SSO created, still without a password of their own, and not staff (unless
    MESHDASH_SSO_ALLOW_STAFF): a header must never open a local or an administrator's account."""
    if not hasattr(user, "sso_account") or user.has_usable_password():
        return False
    return settings.MESHDASH_SSO_ALLOW_STAFF or not (user.is_staff or user.is_superuser)


class SsoHeaderBackend(CachedUserBackend):
    """Users vouched for by the authenticating proxy, created on first sight without a password
    and marked as SSO accounts. Names are compared in their canonical spelling (NFKC, case-fold).

    Only SsoHeaderMiddleware calls this, after checking the request came from a trusted proxy.
    """

    def authenticate(self, request, sso_username=None):
        name = canonical_username(sso_username or "")
        if not name or len(name) > MAX_USERNAME:
            return None
        user_model = get_user_model()
        field = user_model.USERNAME_FIELD
        # Any spelling of the name: `Root` must not be reachable as `root` either.
        found = list(user_model._default_manager.filter(**{f"{field}__iexact": name})[:2])
        if not found:
            user = self._create(user_model, field, name)
        elif len(found) == 1:
            user = found[0]
        else:
            log.warning("SSO name %r matches several users: refused", name)
            return None
        if not may_sign_in_by_sso(user):
            log.warning("SSO refused for %r: a local or staff account", user.get_username())
            return None
        return user if self.user_can_authenticate(user) else None

    def _create(self, user_model, field, name):
        try:
            with transaction.atomic():
                user = user_model(**{field: name})
                user.set_unusable_password()
                user.save()
                SsoAccount.objects.create(user=user)
                return user
        except IntegrityError:  # created by a concurrent request for the same name
            return user_model._default_manager.get(**{field: name})

    def load_user(self, user_id):
        """A session signed in by SSO ends when its user stops qualifying (made staff, given a
        password)."""
        user_model = get_user_model()
        user = user_model._default_manager.select_related("sso_account").filter(pk=user_id).first()
        if user is None or not may_sign_in_by_sso(user) or not self.user_can_authenticate(user):
            return False
        return user
