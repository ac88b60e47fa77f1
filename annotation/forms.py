import json

from django import forms

from annotation.models import Role
from annotation.profile_thresholds import profile_thresholds_problems
from annotation.services.projects import (
    RESERVED_HOTKEYS,
    SAMPLING_STRATEGIES,
    multi_label_task_types,
    reserved_hotkeys,
)
from kinds.registry import kinds, task_type_choices


def reserved_hotkeys_text() -> str:
    """The keys no label may have, for the form's help: the label page's own, then each kind's widget's."""
    parts = [f"{', '.join(sorted(RESERVED_HOTKEYS - {' '}))} and space on every project"]
    for kind in kinds():
        # A kind's task types that reserve the same keys share one phrase ("n on Text spans").
        by_keys: dict[frozenset[str], list[str]] = {}
        for task_type in kind.task_types:
            extra = reserved_hotkeys(task_type) - RESERVED_HOTKEYS
            if extra:
                by_keys.setdefault(extra, []).append(kind.task_type_label(task_type))
        for keys, names in by_keys.items():
            shown = " ".join("comma" if key == "," else key for key in sorted(keys))
            parts.append(f"{shown} on {' / '.join(names)}")
    return "Hotkeys not allowed: " + "; ".join(parts) + "."


class ProjectCreateForm(forms.Form):
    name = forms.CharField(max_length=200)
    task_type = forms.ChoiceField(choices=task_type_choices)
    multi_label = forms.BooleanField(required=False)
    labels = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="One label per line: value | hotkey (optional) | description (optional) | colour #rrggbb (optional)",
    )
    annotations_per_item = forms.IntegerField(min_value=1, max_value=20, initial=3)
    gold_rate = forms.FloatField(min_value=0.0, max_value=1.0, initial=0.0)
    guidelines = forms.CharField(widget=forms.Textarea(attrs={"rows": 8}), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Read when the form is built, so every registered kind's keys are listed.
        self.fields["labels"].help_text += ". " + reserved_hotkeys_text()
        # The page's script shows the box only for the task types that have a set of classes per item.
        self.fields["multi_label"].widget.attrs["data-task-types"] = ",".join(multi_label_task_types())
        self.fields["multi_label"].help_text = "Several classes per item (classification task types only)."

    def label_specs(self) -> list[dict]:
        specs = []
        for line in self.cleaned_data["labels"].splitlines():
            if not line.strip():
                continue
            parts = [part.strip() for part in line.split("|")]
            specs.append(
                {
                    "value": parts[0],
                    "hotkey": parts[1] if len(parts) > 1 else "",
                    "description": parts[2] if len(parts) > 2 else "",
                    "colour": parts[3] if len(parts) > 3 else "",
                }
            )
        return specs


class MemberAddForm(forms.Form):
    # The form sits on one row; the template shows the labels, the placeholder says what to type.
    username = forms.CharField(
        max_length=150,
        label="Add member (username)",
        widget=forms.TextInput(
            attrs={"placeholder": "username of an existing account", "autocomplete": "off"}
        ),
    )
    role = forms.ChoiceField(choices=Role.choices, label="as")


class GuidelineForm(forms.Form):
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 16}), required=False)
    change_note = forms.CharField(max_length=500)


class ProjectSettingsForm(forms.Form):
    """The manager's settings form; field names are ``project_update`` keyword names."""

    name = forms.CharField(max_length=200)
    annotations_per_item = forms.IntegerField(
        min_value=1, max_value=20, help_text="k: applies to new items and to items nobody has annotated yet."
    )
    max_annotations_per_item = forms.IntegerField(
        min_value=1, max_value=20, help_text="Upper bound when annotators disagree (adaptive overlap)."
    )
    gold_rate = forms.FloatField(min_value=0.0, max_value=1.0)
    lease_seconds = forms.IntegerField(
        min_value=30, max_value=86400, help_text="How long an item stays reserved."
    )
    sampling_strategy = forms.ChoiceField(choices=[(name, name) for name in SAMPLING_STRATEGIES])
    rescore_every = forms.IntegerField(
        min_value=0, max_value=1_000_000, help_text="Retrain after this many new labels; 0: never."
    )
    route_flagged_to_review = forms.BooleanField(
        required=False, help_text="Unusable items go to review, not annotators."
    )
    preannotation_for_annotators = forms.BooleanField(
        required=False,
        help_text="Show annotators the model's suggestion. It biases their labels towards the model and inflates "
        "agreement; leave off unless speed matters more than independent labels.",
    )
    span_snap_tokens = forms.BooleanField(
        required=False,
        help_text="Span projects: a selection snaps to whole words (runs of non-space characters). Turn off for "
        "character-level work.",
    )
    profile_thresholds = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text='JSON, e.g. {"too_dark": 0.2, "text_too_long": 5000, "route_flags": ["corrupt", "empty"]}. '
        "Applies to the next imports.",
    )

    def clean_profile_thresholds(self) -> dict:
        raw = self.cleaned_data["profile_thresholds"].strip()
        try:
            value = json.loads(raw) if raw else {}
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(f"Not valid JSON: {exc.msg}.") from exc
        problems = profile_thresholds_problems(value)
        if problems:
            raise forms.ValidationError(problems)
        return value
