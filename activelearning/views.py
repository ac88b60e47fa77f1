"""The model page (learning curve, projection, stability, the stop/continue sentence, "Train now") and the
project-page panel."""

from django.contrib import messages
from django.shortcuts import redirect, render

from activelearning import selectors, services
from activelearning.charts import learning_curve_chart
from activelearning.models import ModelVersion
from activelearning.strategy_names import STRATEGIES  # not strategies: that one loads scipy
from annotation.models import Project, Role
from core.errors import ApplicationError
from core.pages import project_page


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f} %"


def _version_context(version: ModelVersion) -> dict:
    projection = version.projection or {}
    per_label = [
        {
            "label": value,
            "support": row.get("support"),
            "recall": _percent(row.get("recall")),
            "precision": _percent(row.get("precision")),
        }
        for value, row in (version.per_label or {}).items()
    ]
    stability = version.stability or None
    return {
        "version": version,
        "accuracy": _percent(version.cv_accuracy),
        "chart": learning_curve_chart(
            curve=version.learning_curve or [], projection=projection.get("points", [])
        ),
        "projection_points": [
            {"factor": p["factor"], "n": p["n"], "accuracy": _percent(p["accuracy"])}
            for p in projection.get("points", [])
        ],
        "projection_method": projection.get("method", ""),
        "projection_limit": projection.get("limit", ""),
        "stability_changed": _percent(stability["changed_share"]) if stability else None,
        "stability_kappa": f"{stability['kappa_vs_previous']:.2f}" if stability else None,
        "stability_n": stability["n_items"] if stability else None,
        "per_label": per_label,
        "model_f1": _model_f1_context((version.figures or {}).get("model_f1")),
        "n_token_issues": (version.figures or {}).get("n_label_issues"),
        "token_gate": (version.figures or {}).get("label_issue_gate"),
    }


def _model_f1_context(figures: dict | None) -> dict | None:
    """The token model's out-of-sample F1 as the page says it (None for the class base model)."""
    if not figures:
        return None
    return {
        "span_f1": _percent(figures.get("span_f1")),
        "token_f1": _percent(figures.get("token_f1")),
        "against": figures.get("against", "consensus"),
        "n_items": figures.get("n_items"),
    }


@project_page(role=Role.REVIEWER)
def model_page(request, project, membership):
    version = selectors.model_version_latest(project=project)
    job = selectors.train_job_latest(project=project)
    is_manager = membership is None or membership.has_role(Role.MANAGER)
    running = job is not None and not job.is_terminal
    # While a job runs, the strategy it was started with is the one the next model will have.
    current_strategy = (job.params or {}).get("strategy") if running and job is not None else None
    context = {
        "project": project,
        "job": job,
        "running": running,
        "is_manager": is_manager,
        "strategies": STRATEGIES,
        "current_strategy": current_strategy or (version.strategy if version else project.sampling_strategy),
    }
    if version is not None:
        context.update(_version_context(version))
    return render(request, "activelearning/model.html", context)


@project_page(role=Role.MANAGER, methods=["POST"])
def model_train(request, project, membership):
    strategy = request.POST.get("strategy") or None
    try:
        job = services.model_train_start(project=project, user=request.user, strategy=strategy)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, f"Training started (job {job.pk}); this page shows the new model when it is done."
        )
    return redirect("model-page", pid=project.pk)


def model_panel_context(*, project: Project, user, role: str) -> dict:
    """The project-page panel: the latest model's headline and the stop/continue sentence (two queries)."""
    version = (
        ModelVersion.objects.filter(project=project)
        .order_by("-version")
        .only(
            "id",
            "version",
            "created_at",
            "cv_accuracy",
            "n_train",
            "n_folds",
            "strategy",
            "summary",
            "worth_labelling",
            "figures",
        )
        .first()
    )
    job = selectors.train_job_latest(project=project)
    return {
        "project": project,
        "version": version,
        "job": job,
        "accuracy": _percent(version.cv_accuracy) if version else None,
        "token_line": _token_panel_line(version) if version else "",
    }


def _token_panel_line(version: ModelVersion) -> str:
    """A token model's headline from its own figures ("" for the class base model): its ``cv_accuracy`` is a
    token accuracy, not the class model's cross-validated accuracy per label."""
    f1 = (version.figures or {}).get("model_f1")
    if not f1:
        return ""
    value = f1.get("span_f1")
    figure = "n/a" if value is None or value != value else f"{value:.2f}"
    return (
        f"Token model v{version.version}: out-of-sample span F1 {figure} against the {f1.get('against', 'consensus')} "
        f"spans of {f1.get('n_items') or 0:,} items; token accuracy {_percent(version.cv_accuracy)} "
        f"({version.n_folds}-fold on {version.n_train:,} labelled items)"
    )
