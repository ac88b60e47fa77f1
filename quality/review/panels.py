"""Panels review adds to pages of the annotation app (which cannot import quality)."""

from annotation.models import Role
from core.panels import Panel, register_panel
from quality.review import guideline_views as views


def register_review_panels() -> None:
    register_panel(
        Panel(
            name="review",
            template="quality/review/panel_project.html",
            context=views.review_panel_context,
            min_role=Role.REVIEWER,
            order=15,
        )
    )
    register_panel(
        Panel(
            name="my-feedback",
            template="quality/review/panel_feedback.html",
            context=views.feedback_panel_context,
            min_role=Role.ANNOTATOR,
            order=90,
        )
    )
    register_panel(
        Panel(
            name="guideline-review",
            template="quality/review/panel_guideline.html",
            context=views.guideline_page_panel_context,
            min_role=Role.MANAGER,
            order=10,
            place="guideline",
        )
    )
    register_panel(
        Panel(
            name="label-examples",
            template="quality/review/panel_examples.html",
            context=views.label_page_panel_context,
            min_role=Role.ANNOTATOR,
            order=10,
            place="label",
        )
    )
