from django.urls import path

from datasets import views

urlpatterns = [
    path("projects/<int:pid>/datasets/", views.version_list, name="dataset-versions"),
    path("projects/<int:pid>/datasets/diff/", views.version_diff_page, name="dataset-diff"),
    path("projects/<int:pid>/datasets/<int:vid>/", views.version_detail, name="dataset-version"),
]
