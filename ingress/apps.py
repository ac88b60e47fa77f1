from django.apps import AppConfig


class IngressConfig(AppConfig):
    """Getting data in: readers, imports, bulk rows, profiling, duplicates, drift and the batches they fill."""

    name = "ingress"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from core.panels import Panel, register_panel
        from ingress import job_kinds  # noqa: F401 - registers the kinds of job this app runs
        from ingress.selectors import ingress_panel_context

        register_panel(
            Panel(
                name="ingress",
                template="annotation/_ingress_panel.html",
                context=ingress_panel_context,
                order=20,
            )
        )
