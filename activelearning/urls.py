from django.urls import path

from activelearning import views

urlpatterns = [
    path("projects/<int:pid>/model/", views.model_page, name="model-page"),
    path("projects/<int:pid>/model/train/", views.model_train, name="model-train"),
]
