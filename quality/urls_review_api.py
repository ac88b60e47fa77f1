from django.urls import path

from quality.review import api

urlpatterns = [
    path("projects/<int:pid>/reviews/", api.ReviewDecisionCreateApi.as_view(), name="api-reviews"),
    path("projects/<int:pid>/reviews/bulk/", api.ReviewBulkDecideApi.as_view(), name="api-reviews-bulk"),
    path("projects/<int:pid>/review-queue/", api.ReviewQueueApi.as_view(), name="api-review-queue"),
    path(
        "projects/<int:pid>/items/<int:item_id>/", api.ReviewItemDetailApi.as_view(), name="api-item-detail"
    ),
    path("projects/<int:pid>/label-changes/", api.LabelChangeListApi.as_view(), name="api-label-changes"),
    path("projects/<int:pid>/label-changes/add/", api.LabelAddApi.as_view(), name="api-label-add"),
    path("projects/<int:pid>/label-changes/rename/", api.LabelRenameApi.as_view(), name="api-label-rename"),
    path("projects/<int:pid>/label-changes/merge/", api.LabelMergeApi.as_view(), name="api-label-merge"),
    path(
        "projects/<int:pid>/label-examples/", api.LabelExampleCreateApi.as_view(), name="api-label-examples"
    ),
    path(
        "projects/<int:pid>/label-examples/<int:example_id>/",
        api.LabelExampleDeleteApi.as_view(),
        name="api-label-example",
    ),
    path("projects/<int:pid>/my-feedback/", api.ReviewFeedbackApi.as_view(), name="api-my-feedback"),
]
