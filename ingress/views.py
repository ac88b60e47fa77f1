"""HTML for ingress: the batches page (imports, profiles, drift, flagged items, duplicate groups), one
import's page and the upload form handler. Thin: one service or selector call each."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render

from annotation.flag_text import no_drift_sentence
from annotation.item_flags import DUPLICATE_FLAG, NEAR_DUPLICATE_FLAG
from annotation.models import Role
from core.errors import ApplicationError
from core.pages import project_page
from ingress import selectors as ingress_selectors
from ingress.forms import ImportUploadForm
from ingress.services.imports import import_start
from kinds.registry import item_media

KNOWN_FLAGS = [
    "corrupt",
    "empty",
    "encoding_error",
    "mojibake",
    "too_long",
    "tiny",
    "too_dark",
    "too_bright",
    "low_contrast",
    "blurry",
    "too_short",
    "silent",
    "mostly_silent",
    "clipped",
    "low_snr",
    DUPLICATE_FLAG,
    NEAR_DUPLICATE_FLAG,
]


@project_page(role=Role.REVIEWER)
def batches_page(request, project, membership):
    role = membership.role if membership else Role.MANAGER
    batches = Paginator(ingress_selectors.batch_list(project=project), 20).get_page(request.GET.get("page"))
    batches.object_list = list(batches.object_list)
    rows_by_number = dict(
        ingress_selectors.batch_list(project=project).values_list("number", "profile_summary__n_items")
    )
    for batch in batches.object_list:
        earlier = sum(n or 0 for number, n in rows_by_number.items() if number < batch.number)
        batch.drift_note = no_drift_sentence(
            new_rows=(batch.profile_summary or {}).get("n_items") or 0, earlier_rows=earlier
        )
        batch.flag_rows = ingress_selectors.flag_count_rows(
            project=project, counts=(batch.profile_summary or {}).get("flags") or {}
        )
    jobs = list(ingress_selectors.import_jobs(project=project)[:10])
    context = {
        "project": project,
        "can_upload": role == Role.MANAGER,
        "batches": batches,
        "jobs": jobs,
        "running": any(not job.is_terminal for job in jobs),
        "flagged": ingress_selectors.flagged_by_flag(project=project, flags=KNOWN_FLAGS),
        "groups": ingress_selectors.near_duplicate_groups(project=project, limit=20),
        "is_image": item_media(project) == "image",
    }
    return render(request, "annotation/batches.html", context)


@project_page(role=Role.REVIEWER)
def import_detail_page(request, project, membership, job_id):
    """One import: its status in words, its counts and its whole row report."""
    job = ingress_selectors.import_job_get(project=project, job_id=job_id)
    if job is None:
        raise Http404("No such import in this project.")
    result = job.result or {}
    return render(
        request,
        "annotation/import_detail.html",
        {
            "project": project,
            "job": job,
            "result": result,
            "ls_annotators": _ls_annotator_rows(result.get("labelstudio")),
        },
    )


def _ls_annotator_rows(report: dict | None) -> list[dict]:
    """One row per Label Studio annotator of the report: who they became here, how, and what was imported."""
    if not report:
        return []
    per_annotator = (report.get("annotations") or {}).get("per_annotator") or {}
    return [
        {
            "annotator": name,
            "username": info.get("username", ""),
            "created_inactive": info.get("created_inactive"),
            "matched_by": info.get("matched_by", ""),
            "imported": per_annotator.get(name, 0),
        }
        for name, info in sorted((report.get("annotators") or {}).items())
    ]


@project_page(role=Role.MANAGER, methods=["POST"])
def import_upload(request, project, membership):
    form = ImportUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        if "file" in form.errors:
            messages.error(request, "Choose a file to import.")
        for name, errors in form.errors.items():
            if name in form.fields and name != "file":
                messages.error(request, f"{form[name].label}: {' '.join(errors)}")
        return redirect("batches", pid=project.pk)
    try:
        job = import_start(
            project=project, user=request.user, upload=form.cleaned_data["file"], **form.import_options()
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        # The class lets the job-progress component settle this flash once the job has ended.
        messages.success(
            request,
            f"Import of “{job.params['file_name']}” started; this page updates while it runs.",
            extra_tags=f"job-flash-{job.pk}",
        )
    return redirect("batches", pid=project.pk)
