from pathlib import Path

from django.apps import AppConfig


class AnnotationConfig(AppConfig):
    name = "annotation"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from annotation import job_kinds  # noqa: F401 - registers the kinds of job this app runs

        _ensure_filesystem_broker_folders()
        _outdate_cached_tokens_on_auth_changes()


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


def _outdate_cached_tokens_on_auth_changes() -> None:
    """Users and tokens belong to Django's auth apps, which write them from the admin, management commands and
    their own views: a receiver is the one place that sees every write, so the hot path's token → user cache
    (``annotation.hotpath_cache``) is outdated here. Bulk ``update()`` calls bypass it; entries still expire."""
    from django.contrib.auth import get_user_model
    from django.db.models.signals import post_delete, post_save
    from rest_framework.authtoken.models import Token

    def outdated(sender, update_fields=None, **kwargs) -> None:
        if update_fields is not None and set(update_fields) == {"last_login"}:
            return  # every session login writes it; nothing the token cache holds depends on it
        from annotation.hotpath_cache import auth_changed

        auth_changed()

    for model in (get_user_model(), Token):
        # weak=False: the receiver is a closure, and a weak reference would let it be collected at once.
        post_save.connect(
            outdated, sender=model, weak=False, dispatch_uid=f"hotpath-auth-save-{model._meta.label}"
        )
        post_delete.connect(
            outdated, sender=model, weak=False, dispatch_uid=f"hotpath-auth-delete-{model._meta.label}"
        )
