from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render

from annotation.models import Role
from core.errors import ApplicationError, NotFound
from core.pages import project_page
from datasets import charts, selectors
from datasets.diffs import version_diff
from datasets.forms import DatasetFreezeForm
from datasets.policy import FreezePolicy, policy_from_params, policy_rows
from datasets.services import dataset_freeze_request
from datasets.splits import SPLIT_NAMES
from kinds.registry import item_media, kind_for

DIFF_PAGE_LIMIT = 500


def _reason_words(key: str) -> str:
    return selectors.EXCLUSION_REASONS.get(key) or selectors.LEGACY_EXCLUSION_REASONS.get(key, key)


def _reason_rows(excluded: dict) -> list[dict]:
    """Exclusion counts with labels that say what they count. A row named by a status counts every item with
    that status, so it reads against the status counts of the review page and the dashboard. Any other row counts
    an item only if no row above took it: "open label issues" leaves out the open issues among new or in-progress
    items, and would otherwise read like the dashboard's "open label issues now", which counts them all."""
    rows: list[dict] = []
    for key, n in excluded.items():
        reason = _reason_words(key)
        if rows and key not in selectors.STATUS_REASONS:
            reason = f"{reason}, not already excluded above"
        rows.append({"key": key, "reason": reason, "n": n})
    return rows


def _queue_rows(queue: dict) -> dict:
    """The review queue's items under the policy, in words; the status rows are the queue's own status counts."""
    rows = [{"key": key, "reason": _reason_words(key), "n": n} for key, n in queue["excluded"].items()]
    return {"total": queue["total"], "included": queue["included"], "rows": rows}


@project_page(role=Role.REVIEWER)
def version_list(request, project, membership):
    data = request.POST if request.method == "POST" else (request.GET if "preview" in request.GET else None)
    form = DatasetFreezeForm(data)
    policy = FreezePolicy()
    if form.is_bound and form.is_valid():
        try:
            params = form.policy_params()
            policy = policy_from_params(params)
            if request.method == "POST":
                job = dataset_freeze_request(project=project, user=request.user, params=params)
                messages.success(request, "Freezing a new version; it appears here when the job finishes.")
                return redirect(f"{request.path}?job={job.pk}")
        except ApplicationError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
    preview = selectors.selection_preview(project=project, policy=policy)
    context = {
        "project": project,
        "form": form,
        "preview": preview,
        "excluded_rows": _reason_rows(preview["excluded"]),
        "queue_rows": _queue_rows(selectors.queue_selection_preview(project=project, policy=policy)),
        "versions": selectors.version_list(project=project)[:100],
        "jobs": selectors.freeze_jobs_recent(project=project),
    }
    return render(request, "datasets/version_list.html", context)


@project_page(role=Role.REVIEWER)
def version_detail(request, project, membership, vid: int):
    try:
        version = selectors.version_in_project(project=project, version_id=vid, field="version")
    except NotFound as exc:
        raise Http404(exc.message) from exc
    others = selectors.version_list(project=project).exclude(pk=version.pk)[:100]
    context = {
        "project": project,
        "version": version,
        "split_names": SPLIT_NAMES,
        # The project's kind's formats only: another kind's format is refused for this version (400).
        "formats": [name for name in kind_for(project).formats if name != "zip"],
        "zip_with_media": item_media(project) != "text",
        "label_rows": charts.stacked_label_bars(
            split_label_counts=version.split_label_counts, label_distribution=version.label_distribution
        ),
        "split_rects": charts.split_bar(split_counts=version.split_counts),
        "chart_width": charts.BAR_WIDTH,
        "split_colours": charts.SPLIT_COLOURS,
        "others": others,
        "policy_rows": policy_rows(version.policy or {}),
        "classes": (version.label_schema or {}).get("labels", []),
        "excluded_rows": _reason_rows(version.counts.get("excluded") or {}),
    }
    return render(request, "datasets/version_detail.html", context)


@project_page(role=Role.REVIEWER)
def version_diff_page(request, project, membership):
    try:
        base = selectors.version_in_project(
            project=project, version_id=int(request.GET.get("base", 0)), field="base"
        )
        target = selectors.version_in_project(
            project=project, version_id=int(request.GET.get("target", 0)), field="target"
        )
    except (NotFound, ValueError) as exc:
        raise Http404("Choose two versions of this project to compare.") from exc
    diff = version_diff(base=base, target=target, limit=DIFF_PAGE_LIMIT)
    parts = diff.get("parts")
    part_rows = [(key, name, parts["counts"][key]) for key, name in parts["names"].items()] if parts else []
    return render(
        request,
        "datasets/version_diff.html",
        {"project": project, "base": base, "target": target, "diff": diff, "part_rows": part_rows},
    )
