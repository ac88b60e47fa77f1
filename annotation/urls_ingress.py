from django.urls import path

from annotation import ingress_views, media

urlpatterns = [
    path("media/items/<int:item_id>/", media.item_media, name="item-media"),
    path("media/signed/<str:token>/", media.item_media_signed, name="item-media-signed"),
    path("media/items/<int:item_id>/waveform.png", media.item_waveform, name="item-waveform"),
    path("projects/<int:pid>/batches/", ingress_views.batches_page, name="batches"),
    path("projects/<int:pid>/imports/upload/", ingress_views.import_upload, name="import-upload"),
    path("projects/<int:pid>/imports/<uuid:job_id>/", ingress_views.import_detail_page, name="import-detail"),
]
