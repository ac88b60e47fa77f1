"""The project navigation under the top bar of every project page, and the keyboard shortcuts each page
declares for the ``?`` overlay (static/js/shortcuts.js), written once for all apps' pages.

Both are read from the request: ``core.pages.project_page`` marks a project page with its project and the
caller's role; the page itself is named by its URL name. This module sits in ``config`` because it links to
every app's pages, as the URLconf does.

The counts beside "Review" and "Items" are not computed here: the nav carries the API URL whose ``count`` they
are and static/js/project-nav.js fills them in, so they are the API's figures by construction and a page's
pinned query count does not grow with the nav.
"""

from dataclasses import dataclass
from functools import cached_property

from django.urls import reverse

from annotation.models import Project, Role
from annotation.models.project import ROLE_RANK
from kinds.registry import kind_for_task_type


@dataclass(frozen=True)
class Destination:
    key: str
    text: str
    url_name: str
    min_role: str
    #: URL names of the pages that belong to this destination (the first is the destination itself)
    pages: tuple[str, ...] = ()
    #: the API list whose ``count`` the nav shows beside the destination, and what that count counts
    count_api: str = ""
    count_words: str = ""
    fragment: str = ""


DESTINATIONS = (
    Destination("overview", "Overview", "project-detail", Role.ANNOTATOR, ("project-detail",)),
    Destination("label", "Label", "label", Role.ANNOTATOR, ("label",)),
    Destination(
        "review",
        "Review",
        "review-queue",
        Role.REVIEWER,
        ("review-queue", "review-item", "review-bulk", "review-item-history"),
        count_api="api-review-queue",
        count_words="items in the review queue",
    ),
    Destination(
        "items",
        "Items",
        "dashboard-items",
        Role.REVIEWER,
        ("dashboard-items",),
        count_api="api-items",
        count_words="items in the project",
    ),
    Destination("dashboard", "Dashboard", "dashboard", Role.REVIEWER, ("dashboard",)),
    Destination("quality", "Quality", "quality-page", Role.REVIEWER, ("quality-page",)),
    Destination("model", "Model", "model-page", Role.REVIEWER, ("model-page",)),
    Destination(
        "datasets",
        "Datasets",
        "dataset-versions",
        Role.REVIEWER,
        ("dataset-versions", "dataset-version", "dataset-diff"),
    ),
    Destination("imports", "Imports", "batches", Role.REVIEWER, ("batches", "import-detail")),
    Destination("labels", "Labels", "review-labels", Role.REVIEWER, ("review-labels",)),
    Destination("feedback", "My feedback", "review-my-feedback", Role.ANNOTATOR, ("review-my-feedback",)),
    Destination("members", "Members", "project-members", Role.MANAGER, ("project-members",)),
    Destination(
        "settings", "Settings", "project-settings", Role.MANAGER, ("project-settings", "guideline-edit")
    ),
)


class ProjectNav:
    """What base.html draws; built only when a template reads it (a partial render costs nothing)."""

    def __init__(self, *, project: Project, role: str, url_name: str) -> None:
        self.project = project
        self.role = role
        self.url_name = url_name

    @cached_property
    def entries(self) -> list[dict]:
        rank = ROLE_RANK[Role(self.role)]
        pid = self.project.pk
        return [
            {
                "key": d.key,
                "text": d.text,
                "url": reverse(d.url_name, kwargs={"pid": pid}) + (f"#{d.fragment}" if d.fragment else ""),
                "current": self.url_name in d.pages,
                "count_url": reverse(d.count_api, kwargs={"pid": pid}) if d.count_api else "",
                "count_words": d.count_words,
            }
            for d in DESTINATIONS
            if rank >= ROLE_RANK[Role(d.min_role)]
        ]


# The shortcuts of each page, by URL name: what its scripts answer (static/js/label.js, static/js/review.js).
# Groups of (keys, what they do); keys joined by "+" are pressed together, by " / " are alternatives.
EVERY_PAGE = ("Everywhere", (("?", "Show this list of shortcuts"), ("Escape", "Close this list or a dialog")))
PAGE_SHORTCUTS: dict[str, tuple[tuple[str, tuple[tuple[str, str], ...]], ...]] = {
    "label": (
        (
            "Labelling",
            (
                ("Enter", "Submit the answer"),
                ("Backspace", "Go back to your previous item to change its label"),
                ("Shift+Backspace", "Go forward again"),
                ("u", "Mark unsure / borderline"),
                ("x", "Mark the input unusable"),
                ("s", "Skip the item"),
                ("g", "Show or hide the guideline"),
                ("c", "Write a comment for the reviewer (Escape leaves it)"),
                ("Space", "Kept for media (audio plays, an image pans): never a label's key"),
            ),
        ),
    ),
    "review-queue": (
        (
            "Review queue",
            (
                ("j", "Next row"),
                ("k", "Previous row"),
                ("Enter / o", "Open the selected item"),
            ),
        ),
    ),
    "review-item": (
        (
            "Reviewing an item",
            (
                ("a / Enter", "Accept"),
                ("r", "Relabel"),
                ("d", "Discard"),
                ("e", "Escalate"),
                ("x", "Add the item to the guideline as an example"),
                ("h", "Open the item's history"),
                ("j", "Next item in the queue"),
                ("k", "Previous item in the queue"),
            ),
        ),
    ),
}

# What the label page's own media viewers answer (static/js/media/), for the task types whose media it shows
# itself; MEDIA_RESERVED_HOTKEYS keeps labels off their one-character keys.
MEDIA_KEYS: dict[str, tuple[tuple[str, str], ...]] = {
    "image_classification": (
        ("+ / =", "Zoom in (around the pointer with the mouse wheel)"),
        ("-", "Zoom out"),
        ("Home", "Fit the image to the panel"),
        ("← ↑ → ↓", "Pan the zoomed image"),
        ("Drag / Space+drag", "Pan the zoomed image"),
        ("Tab", "Reach the zoom buttons and the brightness and contrast sliders"),
    ),
    "audio_classification": (
        ("Space", "Play or pause"),
        (",", "Play from the start"),
        ("← / →", "Seek 5 s back or forward"),
    ),
}

# What the keys a kind's widget reserves do on the label page (TaskKind.reserved_hotkeys); a test checks that
# every reserved key of every kind is described here, so a new key cannot be left out of the overlay.
KIND_KEYS: dict[str, tuple[tuple[str, str], ...]] = {
    "spans": (
        ("← / →", "Move the caret one word"),
        ("Shift+← / Shift+→", "Extend the selection"),
        ("Delete", "Remove the selected span"),
        ("Escape", "Clear the selection"),
        ("n", "No entities in this text"),
    ),
    "boxes": (
        ("n", "Nothing to box in this image"),
        ("← ↑ → ↓", "Move the selected box (Shift: ×10)"),
        ("r", "Arrow keys resize instead of move"),
        ("Delete", "Remove the selected box"),
        ("d", "Duplicate the last box"),
        ("h", "Hide or show the boxes"),
        ("z", "Undo the last box change"),
        ("+ / = / -", "Zoom in or out"),
        ("0", "Fit the image"),
        ("Space+drag", "Pan"),
    ),
}


def page_shortcuts(*, url_name: str, project: Project | None) -> list[dict]:
    """The groups of shortcuts the page named ``url_name`` answers; on the label page also the project's label
    hotkeys (one query) and its kind's widget keys."""
    groups = [EVERY_PAGE, *PAGE_SHORTCUTS.get(url_name, ())]
    if url_name == "label" and project is not None:
        labels = project.labels.filter(is_active=True).exclude(hotkey="").order_by("order", "id")
        groups.append(("Labels", tuple((label.hotkey, label.value) for label in labels)))
        kind = kind_for_task_type(project.task_type)
        if project.task_type in MEDIA_KEYS:
            groups.append(("Media", MEDIA_KEYS[project.task_type]))
        if kind.name in KIND_KEYS:
            groups.append((kind.task_type_label(project.task_type), KIND_KEYS[kind.name]))
    return [{"title": title, "keys": [list(pair) for pair in pairs]} for title, pairs in groups if pairs]


def project_navigation(request) -> dict:
    """Context processor: ``project_nav`` on project pages, ``page_shortcuts`` (lazy) on every page."""
    match = getattr(request, "resolver_match", None)
    url_name = match.url_name if match else ""
    project = getattr(request, "labelgate_project", None)
    context: dict = {"page_shortcuts": lambda: page_shortcuts(url_name=url_name or "", project=project)}
    if project is not None:
        context["project_nav"] = ProjectNav(
            project=project, role=getattr(request, "labelgate_role", Role.ANNOTATOR), url_name=url_name or ""
        )
    return context
