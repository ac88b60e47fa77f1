from django.urls import path

from quality import api
from quality.dashboard.api import DashboardKindPanelsApi

urlpatterns = [
    path("projects/<int:pid>/quality-runs/", api.QualityRunCreateApi.as_view(), name="api-quality-runs"),
    path("projects/<int:pid>/quality/", api.QualityReportApi.as_view(), name="api-quality"),
    path("projects/<int:pid>/annotators/", api.QualityAnnotatorListApi.as_view(), name="api-annotators"),
    path(
        "projects/<int:pid>/dashboard/kind-panels/",
        DashboardKindPanelsApi.as_view(),
        name="api-dashboard-kind-panels",
    ),
]
