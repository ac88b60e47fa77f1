from django.urls import path

from ingress import api

urlpatterns = [
    path("projects/<int:pid>/items/bulk/", api.ItemBulkCreateApi.as_view(), name="api-items-bulk"),
    path("projects/<int:pid>/imports/", api.ImportListCreateApi.as_view(), name="api-imports"),
    path("projects/<int:pid>/batches/", api.BatchListApi.as_view(), name="api-batches"),
    path(
        "projects/<int:pid>/near-duplicates/", api.NearDuplicateGroupListApi.as_view(), name="api-near-dups"
    ),
]
