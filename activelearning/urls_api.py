from django.urls import path

from activelearning import api

urlpatterns = [
    path("projects/<int:pid>/model/train/", api.ActiveLearningTrainApi.as_view(), name="api-model-train"),
    path("projects/<int:pid>/model/", api.ActiveLearningModelApi.as_view(), name="api-model"),
    path(
        "projects/<int:pid>/model/token-issues/",
        api.ActiveLearningTokenIssuesApi.as_view(),
        name="api-model-token-issues",
    ),
    path("projects/<int:pid>/queue/", api.ActiveLearningQueueApi.as_view(), name="api-queue"),
]
