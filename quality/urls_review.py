from django.urls import path

from quality.review import guideline_views, views

urlpatterns = [
    path("projects/<int:pid>/review/", views.review_queue_page, name="review-queue"),
    path("projects/<int:pid>/review/bulk/", views.review_bulk_page, name="review-bulk"),
    path("projects/<int:pid>/review/items/<int:item_id>/", views.review_item_page, name="review-item"),
    path(
        "projects/<int:pid>/items/<int:item_id>/history/", views.item_history_page, name="review-item-history"
    ),
    path("projects/<int:pid>/labels/", guideline_views.labels_page, name="review-labels"),
    path("projects/<int:pid>/labels/add/", guideline_views.label_add, name="review-label-add"),
    path("projects/<int:pid>/labels/rename/", guideline_views.label_rename, name="review-label-rename"),
    path("projects/<int:pid>/labels/merge/", guideline_views.label_merge, name="review-label-merge"),
    path(
        "projects/<int:pid>/labels/examples/<int:example_id>/remove/",
        guideline_views.label_example_remove,
        name="review-label-example-remove",
    ),
    path(
        "projects/<int:pid>/guideline/diff/",
        guideline_views.guideline_diff_page,
        name="review-guideline-diff",
    ),
    path("projects/<int:pid>/my-feedback/", guideline_views.feedback_page, name="review-my-feedback"),
]
