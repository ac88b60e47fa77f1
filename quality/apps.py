from django.apps import AppConfig


class QualityConfig(AppConfig):
    name = "quality"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from annotation.hooks import register_items_labelled
        from annotation.models import Role
        from core.panels import Panel, register_panel
        from quality import job_kinds  # noqa: F401 - registers the kinds of job this app runs
        from quality.views import quality_panel_context

        register_items_labelled("quality.services.items.items_consensus_update")
        register_panel(
            Panel(
                name="quality",
                template="quality/panel.html",
                context=quality_panel_context,
                min_role=Role.REVIEWER,
                order=20,
            )
        )
        # Review (quality.review, issue 6): its panels on the project, guideline and labelling pages.
        from quality.review.panels import register_review_panels

        register_review_panels()
        from quality.dashboard import panel  # noqa: F401 - registers the dashboard's project-page panel (issue 8)
