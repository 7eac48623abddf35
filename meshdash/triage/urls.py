from django.urls import path

from meshdash.triage import api, views

urlpatterns = [
    path("triage/", views.triage, name="triage"),
    path("triage/mute/", views.mute, name="triage_mute"),
    path("triage/unmute/<int:mute_id>/", views.unmute, name="triage_unmute"),
    path("api/v1/findings", api.findings, name="api_findings"),
]
