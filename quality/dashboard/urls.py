from django.urls import path

from quality.dashboard import views

urlpatterns = [
    path("projects/<int:pid>/dashboard/", views.dashboard_page, name="dashboard"),
    path("projects/<int:pid>/items/", views.items_page, name="dashboard-items"),
    path("projects/<int:pid>/items/saved/", views.saved_filter_create_page, name="saved-filter-create"),
    path(
        "projects/<int:pid>/items/saved/<int:filter_id>/delete/",
        views.saved_filter_delete_page,
        name="saved-filter-delete",
    ),
]
