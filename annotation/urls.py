from django.urls import path

from annotation import views

urlpatterns = [
    path("", views.home, name="home"),
    path("projects/new/", views.project_create, name="project-create"),
    path("projects/<int:pid>/", views.project_detail, name="project-detail"),
    path("projects/<int:pid>/members/add/", views.member_add, name="member-add"),
    path("projects/<int:pid>/guideline/", views.guideline_edit, name="guideline-edit"),
    path("projects/<int:pid>/settings/", views.project_settings, name="project-settings"),
    path("projects/<int:pid>/label/", views.label_page, name="label"),
]
