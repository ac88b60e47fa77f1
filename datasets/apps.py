from django.apps import AppConfig


class DatasetsConfig(AppConfig):
    name = "datasets"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from annotation.models import Role
        from core.panels import Panel, register_panel
        from datasets import job_kinds  # noqa: F401 - registers the kinds of job this app runs
        from datasets.panel import item_panel_context, panel_context

        register_panel(
            Panel(
                name="datasets",
                template="datasets/panel.html",
                context=panel_context,
                min_role=Role.REVIEWER,
                order=400,
            )
        )
        register_panel(
            Panel(
                name="item-dataset-versions",
                template="datasets/item_panel.html",
                context=item_panel_context,
                min_role=Role.REVIEWER,
                order=400,
                place="review-item",
            )
        )
