from django.urls import path

from meshdash.dashboard import api, views

urlpatterns = [
    path("", views.overview, name="overview"),
    path("namespaces/", views.namespace_list, name="namespace_list"),
    path("namespaces.csv", api.namespaces_csv, name="namespaces_csv"),
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
    path("pods/", views.pod_list, name="pod_list"),
    path("pods.csv", api.pods_csv, name="pods_csv"),
    path("api/v1/pods", api.pods, name="api_pods"),
    path("services/", views.service_list, name="service_list"),
    path("services.csv", api.services_csv, name="services_csv"),
    path("services/<str:namespace>/<str:name>/", views.service_detail, name="service_detail"),
    path("api/v1/services", api.services, name="api_services"),
    path(
        "api/v1/services/<str:namespace>/<str:name>",
        api.service_detail,
        name="api_service_detail",
    ),
    path("mtls/", views.mtls, name="mtls"),
    path("mtls.csv", api.mtls_csv, name="mtls_csv"),
    path("api/v1/mtls", api.mtls, name="api_mtls"),
    path("authorization/", views.authorization, name="authorization"),
    path("authorization.csv", api.authorization_csv, name="authorization_csv"),
    path("api/v1/authorization", api.authorization, name="api_authorization"),
    path("landing/", views.set_landing, name="set_landing"),
]
