from django import forms

from annotation.models import Role, TaskType


class ProjectCreateForm(forms.Form):
    name = forms.CharField(max_length=200)
    task_type = forms.ChoiceField(choices=TaskType.choices)
    multi_label = forms.BooleanField(required=False)
    labels = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="One label per line: value | hotkey (optional) | description (optional)",
    )
    annotations_per_item = forms.IntegerField(min_value=1, max_value=20, initial=3)
    gold_rate = forms.FloatField(min_value=0.0, max_value=1.0, initial=0.0)
    guidelines = forms.CharField(widget=forms.Textarea(attrs={"rows": 8}), required=False)

    def label_specs(self) -> list[dict]:
        specs = []
        for line in self.cleaned_data["labels"].splitlines():
            if not line.strip():
                continue
            parts = [part.strip() for part in line.split("|")]
            specs.append({"value": parts[0], "hotkey": parts[1] if len(parts) > 1 else "", "description": parts[2] if len(parts) > 2 else ""})
        return specs


class MemberAddForm(forms.Form):
    username = forms.CharField(max_length=150)
    role = forms.ChoiceField(choices=Role.choices)


class GuidelineForm(forms.Form):
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 16}), required=False)
    change_note = forms.CharField(max_length=500)
