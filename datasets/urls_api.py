from django.urls import path

from datasets.api import links, views

urlpatterns = [
    path(
        "projects/<int:pid>/dataset-versions/",
        views.DatasetVersionListCreateApi.as_view(),
        name="api-dataset-versions",
    ),
    path(
        "projects/<int:pid>/dataset-versions/preview/",
        views.DatasetPreviewApi.as_view(),
        name="api-dataset-preview",
    ),
    path("dataset-versions/<int:vid>/", views.DatasetVersionDetailApi.as_view(), name="api-dataset-version"),
    path(
        "dataset-versions/<int:vid>/export/",
        views.DatasetVersionExportApi.as_view(),
        name="api-dataset-export",
    ),
    path(
        "dataset-versions/<int:vid>/export-links/",
        links.DatasetExportLinkCreateApi.as_view(),
        name="api-dataset-export-links",
    ),
    path(
        "dataset-exports/<str:token>/<str:filename>",
        links.DatasetExportSignedApi.as_view(),
        name="api-dataset-export-signed",
    ),
    path("dataset-versions/<int:vid>/diff/", views.DatasetVersionDiffApi.as_view(), name="api-dataset-diff"),
    path(
        "dataset-versions/<int:vid>/verify/",
        views.DatasetVersionVerifyApi.as_view(),
        name="api-dataset-verify",
    ),
    path(
        "projects/<int:pid>/items/<int:item_id>/dataset-versions/",
        views.ItemDatasetVersionsApi.as_view(),
        name="api-item-dataset-versions",
    ),
]
