from django.urls import path

from annotation.api import imports

urlpatterns = [
    path("projects/<int:pid>/imports/", imports.ImportListCreateApi.as_view(), name="api-imports"),
    path("projects/<int:pid>/batches/", imports.BatchListApi.as_view(), name="api-batches"),
    path("projects/<int:pid>/near-duplicates/", imports.NearDuplicateGroupListApi.as_view(), name="api-near-dups"),
]
