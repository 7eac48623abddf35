from datetime import timedelta

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views import csrf
from django.views.decorators.http import require_POST

from meshdash.accounts.forms import ThrottledAuthenticationForm, TokenForm
from meshdash.accounts.models import READ, WRITE, ApiToken, TeamProfile


class LoginView(auth_views.LoginView):
    form_class = ThrottledAuthenticationForm
    redirect_authenticated_user = True

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if form.throttled:
            response.status_code = 429
        return response


def _profile(request, *, form=None, new_secret=None, status=200):
    teams = [
        {
            "name": group.name,
            "profile": TeamProfile.objects.filter(team=group).first(),
            "admin": TeamProfile.objects.filter(team=group, admins=request.user).exists(),
        }
        for group in request.user.groups.order_by("name")
    ]
    ctx = {
        "teams": teams,
        "tokens": request.user.api_tokens.all(),
        "form": form or TokenForm(),
        "new_secret": new_secret,
    }
    return render(request, "accounts/profile.html", ctx, status=status)


@login_required
def profile(request):
    return _profile(request)


@login_required
@require_POST
def create_token(request):
    form = TokenForm(request.POST)
    if not form.is_valid():
        return _profile(request, form=form, status=400)
    days = form.cleaned_data["expires_in_days"]
    _, secret = ApiToken.issue(
        request.user,
        form.cleaned_data["name"],
        scope=WRITE if form.cleaned_data["write"] else READ,
        expires=timezone.now() + timedelta(days=days) if days else None,
    )
    # Shown once in this response and never again: only its hash is stored.
    return _profile(request, new_secret=secret, status=201)


@login_required
@require_POST
def revoke_token(request, token_id: int):
    token = get_object_or_404(ApiToken, pk=token_id, user=request.user)
    token.delete()
    return redirect("accounts:profile")


def csrf_failure(request, reason=""):
    """API clients get the CSRF refusal as JSON like every other API error."""
    if request.path.startswith("/api/"):
        return JsonResponse(
            {"error": "CSRF check failed: send the X-CSRFToken header, or use a bearer token"},
            status=403,
        )
    return csrf.csrf_failure(request, reason)
