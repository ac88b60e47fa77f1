from django.apps import AppConfig


class ActiveLearningConfig(AppConfig):
    name = "activelearning"
    default_auto_field = "django.db.models.BigAutoField"
