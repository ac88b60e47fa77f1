from django.apps import AppConfig


class CoreConfig(AppConfig):
    """Shared infrastructure: errors, the Job model and its lifecycle, access checks, the API base, panels."""

    name = "core"
    default_auto_field = "django.db.models.BigAutoField"
