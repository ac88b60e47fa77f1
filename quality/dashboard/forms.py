"""Filters of the reviewer's items page (the list every dashboard bar and cell links to)."""

from collections.abc import Sequence

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


ORDERING_WORDS = {
    "id": "oldest first",
    "-id": "newest first",
    "external_id": "external id",
    "label_quality": "lowest label quality first",
    "-label_quality": "highest label quality first",
    "priority": "lowest priority first",
    "-priority": "highest priority first",
    "severity": "least severe issue first",
    "-severity": "most severe issue first",
    "consensus_confidence": "least confident consensus first",
}
YES_NO = [("", "either"), ("true", "yes"), ("false", "no")]
DATE_HINT = "From and to, both days included; leave one empty for an open end."


class DayInput(forms.DateInput):
    input_type = "date"

    def __init__(self):
        super().__init__(format="%Y-%m-%d")


class DashboardItemFilterForm(forms.Form):
    """The URL parameters are the API's and the dashboard links' (``status``, ``has_issue``, ``imported=2026-11-02..
    2026-11-08``, …) and keep their names; what a person sees is a label, a hint and a picker for each. A date
    span is picked as two ``<input type=date>`` (``imported_from``/``imported_to``), filled from the written
    span a link brought."""

    q = forms.CharField(
        required=False,
        max_length=200,
        label="Search",
        help_text="Words in the text, external id, tags or metadata; each word may be the start of one.",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "e.g. invoice 2026"}),
    )
    status = forms.CharField(required=False, label="Status", widget=forms.Select)
    label = forms.CharField(
        required=False,
        max_length=100,
        label="Label",
        help_text="The final label, or the consensus before one.",
    )
    annotator_label = forms.CharField(
        required=False,
        max_length=100,
        label="Some annotator chose",
        help_text="A live annotation carries it.",
    )
    tag = forms.CharField(required=False, max_length=100, label="Tag")
    has_issue = forms.ChoiceField(required=False, choices=YES_NO, label="Flagged as a label issue")
    issue_kind = forms.ChoiceField(required=False, choices=issue_kind_choices, label="Issue reason")
    flag = forms.CharField(
        required=False, max_length=100, label="Import flag", help_text="e.g. near_duplicate"
    )
    discard_reason = forms.CharField(
        required=False,
        max_length=MAX_REASON,
        label="Discarded because",
        help_text="The current decision is a discard with this reason.",
    )
    batch = forms.IntegerField(
        required=False, min_value=1, label="Import batch", help_text="Its number, e.g. 3."
    )
    imported = DaySpanField(required=False, label="Imported", help_text="Its batch's date. " + DATE_HINT)
    annotated = DaySpanField(
        required=False, label="Annotated", help_text="Any annotation, a superseded one too. " + DATE_HINT
    )
    decided = DaySpanField(required=False, label="Reviewed", help_text="The current decision. " + DATE_HINT)
    quality_run = forms.IntegerField(
        required=False, min_value=1, label="Scored by quality run", help_text="The report's number."
    )
    guideline_version = forms.IntegerField(
        required=False,
        min_value=0,
        label="Labelled under guideline version",
        help_text="Some live annotation was made under it.",
    )
    ordering = forms.ChoiceField(
        required=False,
        # The default (oldest first) leads, so an unfiltered page shows the order it is in.
        choices=[
            (k, ORDERING_WORDS.get(k, k))
            for k in sorted(ITEM_ORDERINGS, key=[*ORDERING_WORDS, *ITEM_ORDERINGS].index)
        ],
        label="Order",
    )

    SPANS = ("imported", "annotated", "decided")

    def __init__(self, data=None, *, labels: Sequence[str] = (), **kwargs):
        data = data.copy() if data is not None else None
        if data is not None:
            for name in self.SPANS:
                # A written span (a dashboard link's) fills the pickers; picked days win over it.
                start, end = data.get(f"{name}_from", ""), data.get(f"{name}_to", "")
                if start or end:
                    data[name] = f"{start}..{end}" if start != end else start
                elif data.get(name):
                    try:
                        span = DaySpan.parse(data[name])
                    except ValueError:
                        continue  # the span field says what is wrong; empty pickers add nothing to it
                    data[f"{name}_from"] = span.first.isoformat() if span.first else ""
                    data[f"{name}_to"] = span.last.isoformat() if span.last else ""
        super().__init__(data, **kwargs)
        label_options = [("", "any"), *((value, value) for value in labels)]
        for name in ("label", "annotator_label"):
            current = (data or {}).get(name)
            options = label_options + ([(current, current)] if current and current not in labels else [])
            self.fields[name].widget = forms.Select(choices=options)
        status = (data or {}).get("status")
        status_options = [("", "any"), *((s.value, s.label.lower()) for s in ItemStatus)]
        if status and status not in ItemStatus.values:
            status_options.append((status, status.replace(",", ", ").replace("_", " ")))
        self.fields["status"].widget.choices = status_options
        for name in self.SPANS:
            for end, word in (("from", "from"), ("to", "to")):
                self.fields[f"{name}_{end}"] = forms.DateField(
                    required=False, label=f"{self.fields[name].label} {word}", widget=DayInput()
                )
            self.fields[name].widget = forms.HiddenInput()

    def visible_groups(self):
        """(field, [from, to] or None) per filter, in order, for the template: a span is one group of two
        pickers."""
        pickers = {f"{name}_{end}" for name in self.SPANS for end in ("from", "to")}
        for bound in self:
            if bound.name in pickers:
                continue
            if bound.name in self.SPANS:
                yield bound, [self[f"{bound.name}_from"], self[f"{bound.name}_to"]]
            else:
                yield bound, None

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
            "q": data["q"] or None,
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
