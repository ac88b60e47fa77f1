from django.urls import path

from ingress import views

urlpatterns = [
    path("projects/<int:pid>/batches/", views.batches_page, name="batches"),
    path("projects/<int:pid>/imports/upload/", views.import_upload, name="import-upload"),
    path("projects/<int:pid>/imports/<uuid:job_id>/", views.import_detail_page, name="import-detail"),
]
