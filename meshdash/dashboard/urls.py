from django.urls import path

from meshdash.dashboard import api, views

urlpatterns = [
    path("", views.overview, name="overview"),
    path("namespaces/", views.namespace_list, name="namespace_list"),
    path("namespaces/<str:namespace>/", views.namespace_detail, name="namespace_detail"),
    path("workloads/", views.workload_list, name="workload_list"),
    path("workloads.csv", api.workloads_csv, name="workloads_csv"),
    path(
        "workloads/<str:namespace>/<str:kind>/<str:name>/",
        views.workload_detail,
        name="workload_detail",
    ),
    path(
        "workloads/<str:namespace>/<str:kind>/<str:name>/pods/<str:pod>/history/",
        views.pod_history,
        name="pod_history",
    ),
    path("api/v1/workloads", api.workloads, name="api_workloads"),
    path(
        "api/v1/workloads/<str:namespace>/<str:kind>/<str:name>",
        api.workload_detail,
        name="api_workload_detail",
    ),
    path("api/v1/namespaces", api.namespaces, name="api_namespaces"),
]
