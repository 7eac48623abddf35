from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm

from meshdash.accounts.network import client_address
from meshdash.accounts.throttle import seconds_locked


class ThrottledAuthenticationForm(AuthenticationForm):
    """Django's login form, saying how long to wait once the throttle is hit. The backend
    (ThrottledModelBackend) counts the failures and enforces the lock for every way in."""

    throttled = False

    def clean(self):
        seconds = seconds_locked(
            self.cleaned_data.get("username") or "", client_address(self.request)
        )
        if seconds:
            self.throttled = True
            minutes = -(-seconds // 60)
            raise forms.ValidationError(
                "Too many failed sign-in attempts. Try again in %(minutes)d minute%(plural)s.",
                code="throttled",
                params={"minutes": minutes, "plural": "" if minutes == 1 else "s"},
            )
        return super().clean()


class ThrottledAdminAuthenticationForm(ThrottledAuthenticationForm, AdminAuthenticationForm):
    """The admin's login form (staff only), saying how long to wait as ours does."""


MAX_TOKEN_DAYS = 3650


class TokenForm(forms.Form):
    name = forms.CharField(max_length=100, required=False)
    write = forms.BooleanField(required=False)
    # Empty: the token never expires.
    expires_in_days = forms.IntegerField(min_value=1, max_value=MAX_TOKEN_DAYS, required=False)
