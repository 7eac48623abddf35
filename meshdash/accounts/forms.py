from django import forms
from django.contrib.auth.forms import AuthenticationForm

from meshdash.accounts.network import client_address
from meshdash.accounts.throttle import (
    clear_failures,
    is_throttled,
    record_failure,
    throttle_minutes,
)


class ThrottledAuthenticationForm(AuthenticationForm):
    """Django's login form, refusing to even check a password once the throttle is hit."""

    throttled = False

    def clean(self):
        username = self.cleaned_data.get("username") or ""
        address = client_address(self.request)
        if is_throttled(username, address):
            self.throttled = True
            raise forms.ValidationError(
                "Too many failed sign-in attempts. Try again in %(minutes)d minutes.",
                code="throttled",
                params={"minutes": throttle_minutes()},
            )
        try:
            cleaned = super().clean()
        except forms.ValidationError:
            record_failure(username, address)
            raise
        clear_failures(username)
        return cleaned


class TokenForm(forms.Form):
    name = forms.CharField(max_length=100, required=False)
