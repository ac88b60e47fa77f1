from django.urls import path

from annotation import media, thumbnails, views

urlpatterns = [
    path("", views.home, name="home"),
    path("projects/new/", views.project_create, name="project-create"),
    path("projects/<int:pid>/", views.project_detail, name="project-detail"),
    path("projects/<int:pid>/members/add/", views.member_add, name="member-add"),
    path("projects/<int:pid>/guideline/", views.guideline_edit, name="guideline-edit"),
    path("projects/<int:pid>/settings/", views.project_settings, name="project-settings"),
    path("projects/<int:pid>/label/", views.label_page, name="label"),
    # Media serving stays with annotation: the labelling page loads every item's file and waveform from here.
    path("media/items/<int:item_id>/", media.item_media, name="item-media"),
    path("media/signed/<str:token>/", media.item_media_signed, name="item-media-signed"),
    path("media/items/<int:item_id>/waveform.png", media.item_waveform, name="item-waveform"),
    path("media/items/<int:item_id>/thumbnail.webp", thumbnails.item_thumbnail, name="item-thumbnail"),
]
