"""Feedback to one annotator: their agreement with consensus and gold accuracy from the latest quality report,
and the items where a reviewer's final label differs from theirs.

Only items a reviewer accepted are compared, and only the final label is shown — never another annotator's
label, and nothing about items still open. Gold items stay anonymous: only the aggregate gold accuracy is shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.auth.models import User
from django.db.models.functions import Substr

from annotation.models import Annotation, Item, ItemStatus, Project
from annotation.selectors import label_mapping_for, map_label
from kinds.registry import kind_for
from quality.models import AnnotatorQuality, QualityReport, ReviewDecision

MAX_SHOWN = 100
CHUNK = 2000


@dataclass
class Feedback:
    report: QualityReport | None
    quality: AnnotatorQuality | None
    n_reviewed: int = 0
    n_agreed: int = 0
    disagreements: list[dict] = field(default_factory=list)

    @property
    def n_disagreed(self) -> int:
        return self.n_reviewed - self.n_agreed

    @property
    def agreement_after_review(self) -> float | None:
        return self.n_agreed / self.n_reviewed if self.n_reviewed else None


def annotator_feedback(*, project: Project, user: User) -> Feedback:
    """Five queries; the comparison streams the caller's own live annotations on accepted items once
    (linear in that annotator's work, never in the project's size)."""
    report = (
        QualityReport.objects.filter(project=project)
        .order_by("-created_at", "-id")
        .only("id", "created_at")
        .first()
    )
    quality = AnnotatorQuality.objects.filter(report=report, user=user).first() if report else None
    feedback = Feedback(report=report, quality=quality)
    mapping = label_mapping_for(project=project)
    final_from_vote = kind_for(project).value_schema.final_from_vote
    rows = (
        Annotation.objects.filter(
            project=project, annotator=user, is_live=True, item__status=ItemStatus.ACCEPTED
        )
        .order_by("-created_at", "-id")
        .values_list("item_id", "labels", "item__final_label", "created_at")
    )
    for item_id, labels, final, created_at in rows.iterator(chunk_size=CHUNK):
        if final is None:
            continue
        feedback.n_reviewed += 1
        mine = final_from_vote(labels, project=project, mapping=mapping)
        if mine == map_label(final, mapping):
            feedback.n_agreed += 1
        elif len(feedback.disagreements) < MAX_SHOWN:
            feedback.disagreements.append(
                {"item": item_id, "yours": mine, "final": final, "annotated_at": created_at}
            )
    if feedback.disagreements:
        shown = [row["item"] for row in feedback.disagreements]
        reasons = dict(
            ReviewDecision.objects.filter(item_id__in=shown, is_current=True).values_list("item_id", "reason")
        )
        content = {
            pk: (external_id, text, bool(file))
            for pk, external_id, text, file in Item.objects.filter(pk__in=shown)
            .annotate(short=Substr("text", 1, 200))
            .values_list("id", "external_id", "short", "file")
        }
        for row in feedback.disagreements:
            external_id, text, has_file = content[row["item"]]
            row.update(
                reason=reasons.get(row["item"], ""),
                external_id=external_id,
                text=text,
                media_url=f"/media/items/{row['item']}/" if has_file else None,
            )
    return feedback
