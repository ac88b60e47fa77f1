"""Panels on other apps' pages: the project page's latest versions and a link to the datasets page (two
queries); the review item page's "In dataset versions" section (one query)."""

from annotation.models import Item, Project
from datasets.models import DatasetEntry, DatasetVersion

ITEM_PANEL_LIMIT = 20


def panel_context(*, project: Project, user, role: str) -> dict:
    versions = list(DatasetVersion.objects.filter(project=project).order_by("-number")[:3])
    return {
        "project": project,
        "versions": versions,
        "count": DatasetVersion.objects.filter(project=project).count(),
    }


def item_panel_context(*, project: Project, user, role: str, item: Item) -> dict:
    """The versions the item is in, newest first, with its split and label in each (at most ``ITEM_PANEL_LIMIT``;
    ``more`` says whether older ones were left out)."""
    rows = list(
        DatasetEntry.objects.filter(item_id=item.pk, version__project=project)
        .select_related("version")
        .only("split", "label", "label_source", "version__id", "version__number", "version__name")
        .order_by("-version__number", "-id")[: ITEM_PANEL_LIMIT + 1]
    )
    entries = [
        {
            "version": entry.version,
            "split": entry.split,
            # Worded by the template's answer_text: class names joined by commas, spans and boxes in words.
            "label": entry.label,
            "source": entry.get_label_source_display(),
        }
        for entry in rows[:ITEM_PANEL_LIMIT]
    ]
    return {"project": project, "item": item, "entries": entries, "more": len(rows) > ITEM_PANEL_LIMIT}
