from pathlib import Path

from django.apps import AppConfig


class AnnotationConfig(AppConfig):
    name = "annotation"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from annotation import job_kinds  # noqa: F401 - registers the kinds of job this app runs

        _ensure_filesystem_broker_folders()


def _ensure_filesystem_broker_folders() -> None:
    """The embedded broker (kombu's filesystem transport) lists its folders but never creates them: without
    this, the first job of a fresh install fails with "No such file or directory" in web and worker alike."""
    from django.conf import settings

    if not str(getattr(settings, "CELERY_BROKER_URL", "")).startswith("filesystem://"):
        return
    options = getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {}) or {}
    for key in ("data_folder_in", "data_folder_out", "processed_folder"):
        if options.get(key):
            Path(options[key]).mkdir(parents=True, exist_ok=True)

