from django.urls import path

from quality.dashboard import views

urlpatterns = [
    path("projects/<int:pid>/dashboard/", views.dashboard_page, name="dashboard"),
    path("projects/<int:pid>/items/", views.items_page, name="dashboard-items"),
]
