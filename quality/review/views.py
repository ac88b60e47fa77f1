"""HTML pages of review: the queue, one item's review page, its history, bulk confirmation, the label schema,
guideline diffs and the annotator's feedback; plus the panels other pages include."""

from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from rest_framework.serializers import Serializer

from activelearning.selectors import model_version_latest
from annotation.flag_selectors import item_flag_explanations
from annotation.label_colours import label_colour
from annotation.models import Label, Project, Role
from annotation.selectors import (
    annotators_left_for_items,
    label_mapping_for,
    map_label,
    project_status_counts,
)
from core.errors import ApplicationError, NotFound
from core.pages import project_page
from core.panels import panels_for
from kinds.registry import kind_for
from quality.models import ReviewAction
from quality.review import selectors, services
from quality.review.services.decisions import DISCARD_REASONS, MAX_BULK
from quality.review.services.labels import REVIEW_KEYS
from quality.selectors import base_model_column

QUEUE_PAGE_SIZE = 50
PREVIEW_SHOWN = 20


def _filters(request) -> selectors.QueueFilters:
    try:
        return selectors.queue_filters_clean(
            reason=request.GET.get("reason", ""),
            label=request.GET.get("label", ""),
            tag=request.GET.get("tag", ""),
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return selectors.QueueFilters()


def _with_query(url: str, query: dict) -> str:
    return f"{url}?{urlencode(query)}" if query else url


def _label_buttons(project: Project) -> list[dict]:
    return [
        {
            "value": label.value,
            "description": label.description,
            # A label hotkey that is also a review action key stays clickable but gets no key on this page.
            "hotkey": label.hotkey if label.hotkey and label.hotkey not in REVIEW_KEYS else "",
        }
        for label in Label.objects.filter(project=project, is_active=True).order_by("order", "id")
    ]


def _part_order(value_schema) -> str:
    """The field names of one part of the kind's answer (a span, a box), in the order its output serializer lists
    them, comma-separated for the ``answer_words`` filter; "" for an answer of class names."""
    for answer_field in value_schema.output_serializer().fields.values():
        child = getattr(answer_field, "child", None)
        if isinstance(child, Serializer):
            return ",".join(child.fields)
    return ""


@project_page(role=Role.REVIEWER)
def review_queue_page(request, project, membership):
    filters = _filters(request)
    queryset = selectors.review_queue_page(queryset=selectors.review_queue(project=project, filters=filters))
    page = Paginator(queryset, QUEUE_PAGE_SIZE).get_page(request.GET.get("page"))
    query = filters.as_query()
    mapping = label_mapping_for(project=project)
    value_schema = kind_for(project).value_schema
    rows = [
        {
            "item": item,
            "reasons": selectors.item_reasons(item),
            "votes": selectors.vote_summary(
                [a.labels for a in item.live_votes], project=project, mapping=mapping
            ),
            "url": _with_query(reverse("review-item", args=[project.pk, item.pk]), query),
        }
        for item in page
    ]
    counts = selectors.review_queue_counts(project=project)
    return render(
        request,
        "quality/review/queue.html",
        {
            "project": project,
            "page": page,
            "rows": rows,
            "base_model_column": base_model_column(project=project, items=[row["item"] for row in rows]),
            "filters": filters,
            "query": urlencode(query),
            "counts": counts,
            "reason_rows": [
                (reason, selectors.REASON_TEXT[reason], counts[reason])
                for reason in selectors.project_review_reasons(project)
            ],
            "status_counts": project_status_counts(project=project),
            "queue_statuses": selectors.review_queue_status_counts(project=project),
            "labels": _label_buttons(project),
            "actions": ReviewAction.choices,
            "discard_reasons": DISCARD_REASONS,
            "max_bulk": MAX_BULK,
            "part_order": _part_order(value_schema),
        },
    )


def _kind_review(*, project: Project, kind, item, annotations) -> dict | None:
    """What a kind with its own review view (``TaskKind.review_template``) shows on the item page: its
    ``review_context``, its template and scripts, and the labels its editor takes (with their own hotkeys and
    colours); None for a kind reviewed by class buttons."""
    review_context = getattr(kind.value_schema, "review_context", None)
    if not kind.review_template or review_context is None:
        return None
    widget_labels = [
        {
            "value": label.value,
            "hotkey": label.hotkey,
            "description": label.description,
            "colour": label_colour(label.colour, label.order),
        }
        for label in Label.objects.filter(project=project, is_active=True).order_by("order", "id")
    ]
    context = review_context(project=project, item=item, annotations=annotations)
    return {
        **context,
        # "spans", "boxes": the answer field the editor's seed fills, as the page names what is edited
        "answer_name": next(iter(context["seed"])),
        "template": kind.review_template,
        "js": kind.review_js,
        "widget_template": kind.widget_template,
        "widget_js": kind.widget_js,
        "widget_labels": widget_labels,
    }


def _base_model_name(*, project: Project, item) -> str | None:
    """ "Base model vN" when the item has a base-model prediction and the flags name another model (or none)."""
    if item.predicted_label is None or item.flag_model.startswith("base model"):
        return None
    latest = model_version_latest(project=project)
    return None if latest is None else f"Base model v{latest.version}"


@project_page(role=Role.REVIEWER)
def review_item_page(request, project, membership, item_id: int):
    try:
        review = selectors.item_review(project=project, item_id=item_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    filters = _filters(request)
    query = filters.as_query()
    previous_id, next_id = selectors.queue_neighbours(
        queryset=selectors.review_queue(project=project, filters=filters), item=review.item
    )
    queue_url = _with_query(reverse("review-queue", args=[project.pk]), query)

    def item_url(pk):
        return _with_query(reverse("review-item", args=[project.pk, pk]), query) if pk else None

    item = review.item
    probs = sorted((item.predicted_probs or {}).items(), key=lambda pair: -(pair[1] or 0))[:3]
    labels = _label_buttons(project)
    consensus = map_label(item.consensus_label, review.mapping)
    suggestion = map_label(item.consensus_suggestion, review.mapping)
    kind = kind_for(project)
    value_schema = kind.value_schema
    kind_review = _kind_review(project=project, kind=kind, item=item, annotations=review.annotations)
    votes = selectors.vote_summary(
        [a.labels for a in review.annotations if a.is_live],
        project=project,
        mapping=review.mapping,
    )
    # With no consensus yet (no votes) the server refuses a label-less Accept: the page says so before a request.
    # A kind with its own review view has structured answers, where an empty consensus is an answer ("no entity").
    no_consensus = consensus is None if kind_review else consensus in (None, [])
    must_choose = no_consensus or item.pk in selectors.items_needing_a_chosen_label(
        project=project, items=[item]
    )
    # The same count the relabel service refuses on, so the button and the server never disagree.
    relabel_takers = annotators_left_for_items(project=project, item_ids=[item.pk])[item.pk]
    config = {
        "project": project.pk,
        "item": item.pk,
        **value_schema.review_settings(project=project),
        "labels": [{"value": label["value"], "hotkey": label["hotkey"]} for label in labels],
        "consensus": consensus,
        "mustChoose": must_choose,
        "relabelTakers": relabel_takers,
        "nextUrl": item_url(next_id),
        "prevUrl": item_url(previous_id),
        "queueUrl": queue_url,
    }
    if kind_review:
        config["reviewWidget"] = {
            **value_schema.widget_settings(project=project),
            "labels": kind_review["widget_labels"],
            "item": {"text": item.text, "media_url": f"/media/items/{item.pk}/" if item.file else None},
            "seed": kind_review["seed"],
        }
    return render(
        request,
        "quality/review/item.html",
        {
            "project": project,
            "review": review,
            "item": item,
            "consensus": consensus,
            "consensus_votes": dict(votes).get(consensus, 0) if isinstance(consensus, str) else None,
            "n_votes": sum(1 for a in review.annotations if a.is_live and a.labels),
            "votes": votes,
            "suggestion": suggestion,
            "must_choose": must_choose,
            "no_consensus": no_consensus,
            "relabel_takers": relabel_takers,
            "nobody_left": selectors.NOBODY_LEFT,
            "confidence_meaning": selectors.consensus_confidence_meaning(project=project),
            "evidence": selectors.consensus_evidence(project=project, item=item),
            "reason_rows": [(reason, selectors.REASON_TEXT.get(reason, reason)) for reason in review.reasons],
            "probs": probs,
            "flag_explanations": item_flag_explanations(project=project, items=[item])[item.pk],
            "base_model_name": _base_model_name(project=project, item=item),
            "labels": labels,
            "current_decision": next((d for d in review.decisions if d.is_current), None),
            "examples_of": [example.label.value for example in review.examples],
            "discard_reasons": DISCARD_REASONS,
            "queue_url": queue_url,
            "next_url": item_url(next_id),
            "prev_url": item_url(previous_id),
            "config": config,
            "part_order": _part_order(value_schema),
            "kind_review": kind_review,
            # Sections higher apps add (e.g. the dataset versions the item is in), without quality importing them.
            "panels": panels_for(
                project=project,
                user=request.user,
                membership_role=membership.role if membership else Role.MANAGER,
                place="review-item",
                item=item,
            ),
        },
    )


@project_page(role=Role.REVIEWER)
def item_history_page(request, project, membership, item_id: int):
    try:
        review = selectors.item_review(project=project, item_id=item_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    return render(
        request,
        "quality/review/history.html",
        {
            "project": project,
            "review": review,
            "item": review.item,
            "part_order": _part_order(kind_for(project).value_schema),
        },
    )


def _refused_sentence(refused: list[selectors.Refusal]) -> str:
    names = ", ".join(refusal.external_id for refusal in refused[:10]) + (" …" if len(refused) > 10 else "")
    return (
        f"{len(refused)} item{'s' if len(refused) != 1 else ''} not relabelled: every annotator of this project "
        f"has already labelled {'it' if len(refused) == 1 else 'them'}; add an annotator or decide "
        f"{'it' if len(refused) == 1 else 'them'} yourself: {names}."
    )


@project_page(role=Role.REVIEWER)
def review_bulk_page(request, project, membership):
    """GET: what a bulk action on the filtered queue would decide (the confirmation step). POST: do it, on the
    exact items shown at confirmation."""
    source = request.POST if request.method == "POST" else request.GET
    # The final label is ``final_label``: ``label`` is the queue filter, carried in the same query string.
    action, label, reason = (
        source.get("action", ""),
        source.get("final_label", ""),
        source.get("decision_reason", ""),
    )
    if request.method == "POST":
        try:
            item_ids = [int(pk) for pk in source.get("items", "").split(",") if pk.strip()]
            outcome = services.review_bulk_decide(
                project=project,
                reviewer=request.user,
                item_ids=item_ids,
                action=action,
                label=label or None,
                reason=reason,
            )
        except ValueError:
            messages.error(request, "The selection was malformed; start the bulk action again.")
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"{action.capitalize()}: {len(outcome.decisions)} items decided.")
            if outcome.refused:
                messages.error(request, _refused_sentence(outcome.refused))
        return redirect(_with_query(reverse("review-queue", args=[project.pk]), _filters(request).as_query()))
    filters = _filters(request)
    item_ids = selectors.review_queue_ids(project=project, filters=filters, limit=MAX_BULK + 1)
    too_many = len(item_ids) > MAX_BULK
    queue = selectors.review_queue(project=project, filters=filters)
    left_out: list = []
    if action == ReviewAction.ACCEPT and not label and not too_many:
        # Accepting "each item's consensus" never takes a label the reviewer has not chosen where the consensus
        # method overrode the annotators: those items are left out, to be decided one by one.
        candidates = list(
            queue.filter(pk__in=item_ids).only("id", "external_id", "consensus_label", "issue_kinds")
        )
        must_choose = selectors.items_needing_a_chosen_label(project=project, items=candidates)
        left_out = [item for item in candidates if item.pk in must_choose]
        item_ids = [pk for pk in item_ids if pk not in must_choose]
        queue = queue.exclude(pk__in=must_choose)
    refused: list[selectors.Refusal] = []
    if action == ReviewAction.RELABEL and not too_many:
        refused = selectors.relabel_refusals(project=project, item_ids=item_ids)
        refused_ids = {refusal.item_id for refusal in refused}
        item_ids = [pk for pk in item_ids if pk not in refused_ids]
        queue = queue.exclude(pk__in=refused_ids)
    shown = list(queue.only("id", "external_id", "text", "consensus_label")[:PREVIEW_SHOWN])
    return render(
        request,
        "quality/review/bulk_confirm.html",
        {
            "project": project,
            "filters": filters,
            "query": urlencode(filters.as_query()),
            "action": action,
            "action_known": action in ReviewAction.values,
            "missing_reason": action in (ReviewAction.DISCARD, ReviewAction.ESCALATE) and not reason.strip(),
            "label": label,
            "reason": reason,
            "item_ids": ",".join(map(str, item_ids[:MAX_BULK])),
            "count": len(item_ids),
            "too_many": too_many,
            "max_bulk": MAX_BULK,
            "shown": shown,
            "left_out": left_out,
            "refused": refused,
            "refused_sentence": _refused_sentence(refused) if refused else "",
            "part_order": _part_order(kind_for(project).value_schema),
        },
    )
