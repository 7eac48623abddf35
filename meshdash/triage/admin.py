"""Mutes in the admin, under the triage page's rules: a staff member sees and changes only the
mutes of namespaces their teams own (superusers all), and the bound holds here too."""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from meshdash.triage.models import Mute
from meshdash.triage.muting import MuteRefused, check_quota, refusal
from meshdash.triage.permissions import admin_scope


class MuteAdminForm(forms.ModelForm):
    class Meta:
        model = Mute
        fields = ["check_id", "namespace", "kind", "name", "why", "expires"]

    scope = None  # the signed-in user's AdminScope, set by MuteAdmin.get_form

    def clean(self):
        data = super().clean()
        reason = refusal(
            self.scope, data.get("namespace", ""), data.get("kind", ""), data.get("name", "")
        )
        if reason:
            raise ValidationError(reason)
        if self.instance.pk is None:
            try:
                check_quota()
            except MuteRefused as exc:
                raise ValidationError(str(exc)) from None
        return data


@admin.register(Mute)
class MuteAdmin(admin.ModelAdmin):
    form = MuteAdminForm
    list_display = ["check_id", "scope_label", "who_name", "why", "created", "expires"]
    list_filter = ["check_id"]
    search_fields = ["namespace", "name", "why", "who_name"]
    readonly_fields = ["who", "who_name", "created"]

    def get_queryset(self, request):
        mutes = super().get_queryset(request)
        scope = admin_scope(request.user)
        if scope.everything:
            return mutes
        return mutes.filter(namespace__in=scope.namespaces) | mutes.filter(who=request.user)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        form.scope = admin_scope(request.user)
        return form

    def _may(self, request, obj) -> bool:
        scope = admin_scope(request.user)
        if obj is None:
            return scope.anything
        return not refusal(scope, obj.namespace, obj.kind, obj.name)

    def has_module_permission(self, request):
        return admin_scope(request.user).anything

    def has_view_permission(self, request, obj=None):
        return self._may(request, obj)

    def has_add_permission(self, request):
        return admin_scope(request.user).anything

    def has_change_permission(self, request, obj=None):
        return self._may(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._may(request, obj)

    def save_model(self, request, obj, form, change):
        if not change:
            obj.who = request.user
            obj.who_name = request.user.get_username()[:150]
        super().save_model(request, obj, form, change)

    def delete_queryset(self, request, queryset):
        scope = admin_scope(request.user)
        allowed = [m.pk for m in queryset if not refusal(scope, m.namespace, m.kind, m.name)]
        super().delete_queryset(request, queryset.filter(pk__in=allowed))
