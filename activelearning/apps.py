from django.apps import AppConfig


class ActiveLearningConfig(AppConfig):
    name = "activelearning"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from activelearning import (
            job_kinds,  # noqa: F401 - registers the kinds of job this app runs
            tasks,  # noqa: F401 - registers the Celery tasks
        )
        from activelearning.views import model_panel_context
        from annotation.hooks import register_items_labelled
        from annotation.models import Role
        from core.panels import Panel, register_panel

        register_items_labelled("activelearning.services.jobs.items_labelled_process")
        register_panel(
            Panel(
                name="activelearning",
                template="activelearning/panel.html",
                context=model_panel_context,
                min_role=Role.REVIEWER,
                order=30,
            )
        )
