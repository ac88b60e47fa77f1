"""Filters of the reviewer's items page (the list every dashboard bar and cell links to)."""

from django import forms

from annotation.models.item import ItemStatus
from annotation.selectors import ITEM_ORDERINGS
from kinds.registry import kinds
from quality.dashboard.figures import DaySpan
from quality.metrics.reason_codes import REASON_CODES  # not label_issues: that one loads cleanlab
from quality.review.services.decisions import MAX_REASON


class DaySpanField(forms.CharField):
    """A day or days (``figures.DaySpan``'s written forms); cleaned to a ``DaySpan`` or None."""

    def to_python(self, value):
        text = super().to_python(value)
        if not text:
            return None
        try:
            return DaySpan.parse(text)
        except ValueError as exc:
            raise forms.ValidationError(
                f"{text!r} is not a day or days: use 2026-11-03, 2026-11-02..2026-11-08 or ..2026-11-03 (both days "
                "included)."
            ) from exc


def issue_kind_choices() -> list[tuple[str, str]]:
    """The shared reason codes, then each kind's own (``missed_entity``, ``missing_box``), read when a form is
    built so every registered kind's codes are offered."""
    codes = dict.fromkeys([*REASON_CODES, *(code for kind in kinds() for code in kind.reason_words)])
    return [("", "any"), *((code, code) for code in codes)]


class DashboardItemFilterForm(forms.Form):
    status = forms.CharField(required=False, help_text="One status or several separated by commas.")
    tag = forms.CharField(required=False, max_length=100)
    flag = forms.CharField(required=False, max_length=100)
    has_issue = forms.ChoiceField(required=False, choices=[("", "any"), ("true", "yes"), ("false", "no")])
    issue_kind = forms.ChoiceField(required=False, choices=issue_kind_choices)
    batch = forms.IntegerField(required=False, min_value=1)
    label = forms.CharField(required=False, max_length=100)
    annotator_label = forms.CharField(
        required=False, max_length=100, help_text="Some annotator's live annotation carries this label."
    )
    discard_reason = forms.CharField(
        required=False,
        max_length=MAX_REASON,
        help_text="The item's current decision is a discard with this reason.",
    )
    imported = DaySpanField(required=False, help_text="Imported on these days (its batch's date).")
    annotated = DaySpanField(
        required=False, help_text="Some annotation (also a superseded one) made on these days."
    )
    decided = DaySpanField(
        required=False, help_text="The item's current review decision was taken on these days."
    )
    quality_run = forms.IntegerField(
        required=False, min_value=1, help_text="Scored by this quality run (report id)."
    )
    guideline_version = forms.IntegerField(
        required=False, min_value=0, help_text="Some live annotation was made under this guideline version."
    )
    ordering = forms.ChoiceField(required=False, choices=[(k, k) for k in ITEM_ORDERINGS])

    def clean_status(self) -> str:
        value = self.cleaned_data["status"].strip()
        unknown = [part for part in value.split(",") if part and part not in ItemStatus.values]
        if unknown:
            raise forms.ValidationError(
                f"Unknown status {', '.join(unknown)}; use {', '.join(ItemStatus.values)} (comma-separated)."
            )
        return value

    def filters(self) -> dict:
        """Keyword arguments for ``item_filters.items_filtered`` (only after ``is_valid()``)."""
        data = self.cleaned_data
        has_issue = {"true": True, "false": False}.get(data["has_issue"])
        return {
            "status": data["status"] or None,
            "tag": data["tag"] or None,
            "flag": data["flag"] or None,
            "has_issue": has_issue,
            "issue_kind": data["issue_kind"] or None,
            "batch": data["batch"],
            "label": data["label"] or None,
            "annotator_label": data["annotator_label"] or None,
            "discard_reason": data["discard_reason"] or None,
            "imported": data["imported"],
            "annotated": data["annotated"],
            "decided": data["decided"],
            "quality_run": data["quality_run"],
            "guideline_version": data["guideline_version"],
            "ordering": data["ordering"] or "id",
        }
