from django import forms


class DatasetFreezeForm(forms.Form):
    name = forms.CharField(required=False, max_length=200)
    accepted_only = forms.BooleanField(required=False, label="Only items a reviewer accepted")
    min_confidence = forms.FloatField(required=False, initial=0.0, label="Minimum consensus confidence")
    exclude_label_issues = forms.BooleanField(
        required=False, initial=True, label="Leave out open label issues"
    )
    include_needs_review = forms.BooleanField(
        required=False, label="Include items with status needs review (no reviewer decision yet)"
    )
    exclude_gold = forms.BooleanField(required=False, label="Leave out gold items")
    train = forms.FloatField(initial=0.8, label="Train")
    dev = forms.FloatField(initial=0.1, label="Dev")
    test = forms.FloatField(initial=0.1, label="Test")
    seed = forms.IntegerField(initial=0, required=False)

    def policy_params(self) -> dict:
        """The cleaned form as freeze parameters (validated by ``datasets.policy``)."""
        data = self.cleaned_data
        return {
            "name": data.get("name") or "",
            "accepted_only": bool(data.get("accepted_only")),
            "min_confidence": data.get("min_confidence"),
            "exclude_label_issues": bool(data.get("exclude_label_issues")),
            "include_needs_review": bool(data.get("include_needs_review")),
            "exclude_gold": bool(data.get("exclude_gold")),
            "splits": {name: data[name] for name in ("train", "dev", "test")},
            "seed": data.get("seed") or 0,
        }
