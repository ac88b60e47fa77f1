"""HTML pages of the guideline loop: the label set and its changes, label examples, guideline diffs, the
annotator's feedback; and the panels review adds to the project, guideline and labelling pages."""

from django.contrib import messages
from django.shortcuts import redirect, render

from annotation.models import Label, Project, Role
from annotation.rendering import markdown_to_safe_html
from annotation.selectors import label_mapping_for
from annotation.textdiff import line_diff
from core.errors import ApplicationError, NotFound
from core.pages import project_page
from quality.review import feedback as feedback_selectors
from quality.review import selectors, services


@project_page(role=Role.REVIEWER)
def labels_page(request, project, membership):
    mapping = label_mapping_for(project=project)
    labels = list(Label.objects.filter(project=project).order_by("-is_active", "order", "id"))
    return render(
        request,
        "quality/review/labels.html",
        {
            "project": project,
            "active": [label for label in labels if label.is_active],
            "retired": [(label, mapping.get(label.value)) for label in labels if not label.is_active],
            "changes": selectors.label_changes(project=project),
            "examples": selectors.label_examples_for(project=project, for_annotators=False),
            "is_manager": membership is None or membership.role == Role.MANAGER,
        },
    )


def _label_change(request, project, run) -> object:
    try:
        message = run(project)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, message)
    return redirect("review-labels", pid=project.pk)


@project_page(role=Role.MANAGER, methods=["POST"])
def label_add(request, project, membership):
    def run(project):
        change = services.label_add(
            project=project,
            author=request.user,
            value=request.POST.get("value", ""),
            hotkey=request.POST.get("hotkey", ""),
            description=request.POST.get("description", ""),
            colour=request.POST.get("colour", "").strip(),
            note=request.POST.get("note", ""),
        )
        return f"Label {change.to_label!r} added."

    return _label_change(request, project, run)


@project_page(role=Role.MANAGER, methods=["POST"])
def label_rename(request, project, membership):
    def run(project):
        change, message = services.label_rename(
            project=project,
            author=request.user,
            label=request.POST.get("label", ""),
            to=request.POST.get("to", ""),
            note=request.POST.get("note", ""),
        )
        return f"Renamed {change.from_labels[0]!r} to {change.to_label!r}. {message}"

    return _label_change(request, project, run)


@project_page(role=Role.MANAGER, methods=["POST"])
def label_merge(request, project, membership):
    def run(project):
        change, message = services.label_merge(
            project=project,
            author=request.user,
            labels=request.POST.getlist("labels"),
            into=request.POST.get("into", ""),
            note=request.POST.get("note", ""),
        )
        return f"Merged {', '.join(change.from_labels)} into {change.to_label!r}. {message}"

    return _label_change(request, project, run)


@project_page(role=Role.REVIEWER, methods=["POST"])
def label_example_remove(request, project, membership, example_id: int):
    try:
        services.label_example_remove(project=project, example_id=example_id)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Example removed.")
    return redirect("review-labels", pid=project.pk)


def _version(raw: str | None, default: int) -> int:
    try:
        return int(raw) if raw else default
    except ValueError:
        return default


@project_page(role=Role.ANNOTATOR)
def guideline_diff_page(request, project, membership):
    versions = selectors.guideline_versions(project=project)
    latest = versions[0].version if versions else 0
    new = _version(request.GET.get("to"), latest)
    old = _version(request.GET.get("from"), max(new - 1, 1))
    context = {"project": project, "versions": versions, "old_version": old, "new_version": new}
    try:
        old_g, new_g = selectors.guideline_pair(project=project, old=old, new=new)
    except NotFound as exc:
        context["error"] = exc.message
    else:
        context.update(
            old=old_g,
            new=new_g,
            diff=line_diff(old_g.body, new_g.body, context=None if request.GET.get("full") else 3),
            new_html=markdown_to_safe_html(new_g.body),
        )
    return render(request, "quality/review/guideline_diff.html", context)


@project_page(role=Role.ANNOTATOR)
def feedback_page(request, project, membership):
    feedback = feedback_selectors.annotator_feedback(project=project, user=request.user)
    return render(request, "quality/review/feedback.html", {"project": project, "feedback": feedback})


# --- panels (registered in QualityConfig.ready) ------------------------------------------------------------


def review_panel_context(*, project: Project, user, role: str) -> dict:
    """Project page: queue size by reason, current escalations (two queries)."""
    counts = selectors.review_queue_counts(project=project)
    return {
        "project": project,
        "counts": counts,
        "top_reasons": sorted(
            ((reason, counts[reason]) for reason in selectors.REVIEW_REASONS if counts[reason]),
            key=lambda p: -p[1],
        )[:4],
        "open_questions": selectors.open_question_count(project=project),
    }


def feedback_panel_context(*, project: Project, user, role: str) -> dict:
    return {"project": project}


def guideline_page_panel_context(*, project: Project, user, role: str) -> dict:
    """Guideline editor: open questions, label examples, and version comparison (four queries)."""
    return {
        "project": project,
        "questions": selectors.open_questions(project=project),
        "examples": selectors.label_examples_for(project=project, for_annotators=False),
        "versions": selectors.guideline_versions(project=project),
    }


def label_page_panel_context(*, project: Project, user, role: str) -> dict:
    """The annotator's guideline panel: examples of each label (two queries)."""
    examples = selectors.label_examples_for(project=project, for_annotators=True)
    return {"project": project, "examples": examples, "any": any(group["examples"] for group in examples)}
