from django.urls import path

from quality import api
from quality.dashboard.api import DashboardKindPanelsApi, SavedItemFilterDeleteApi, SavedItemFilterListApi

urlpatterns = [
    path("projects/<int:pid>/quality-runs/", api.QualityRunCreateApi.as_view(), name="api-quality-runs"),
    path("projects/<int:pid>/quality/", api.QualityReportApi.as_view(), name="api-quality"),
    path("projects/<int:pid>/annotators/", api.QualityAnnotatorListApi.as_view(), name="api-annotators"),
    path(
        "projects/<int:pid>/dashboard/kind-panels/",
        DashboardKindPanelsApi.as_view(),
        name="api-dashboard-kind-panels",
    ),
    path("projects/<int:pid>/item-filters/", SavedItemFilterListApi.as_view(), name="api-item-filters"),
    path(
        "projects/<int:pid>/item-filters/<int:filter_id>/",
        SavedItemFilterDeleteApi.as_view(),
        name="api-item-filter",
    ),
]
