from django.urls import path

from quality import views

urlpatterns = [
    path("projects/<int:pid>/quality/", views.quality_page, name="quality-page"),
    path("projects/<int:pid>/quality/run/", views.quality_run_start, name="quality-run"),
]
