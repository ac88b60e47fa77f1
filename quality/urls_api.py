from django.urls import path

from quality import api

urlpatterns = [
    path("projects/<int:pid>/quality-runs/", api.QualityRunCreateApi.as_view(), name="api-quality-runs"),
    path("projects/<int:pid>/quality/", api.QualityReportApi.as_view(), name="api-quality"),
    path("projects/<int:pid>/annotators/", api.QualityAnnotatorListApi.as_view(), name="api-annotators"),
]
