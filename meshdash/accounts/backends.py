from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend

MAX_USERNAME = 150


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
