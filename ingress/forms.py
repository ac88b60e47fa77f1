import json

from django import forms


class ImportUploadForm(forms.Form):
    """The upload form of the batches page; the Label Studio fields are ``import_start`` keyword names."""

    file = forms.FileField()
    labelstudio_annotations = forms.ChoiceField(
        choices=[
            ("annotations", "import as annotations"),
            ("metadata", "keep as metadata"),
            ("gold", "use agreed ones as gold"),
        ],
        required=False,
    )
    labelstudio_config = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 5}))
    labelstudio_config_file = forms.FileField(required=False)
    data_key = forms.CharField(required=False, max_length=200)
    labelstudio_users = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text='One "Label Studio user id = e-mail" per line, or JSON {"1": "ann@example.com"}.',
    )

    def clean_labelstudio_users(self) -> dict[str, str]:
        raw = self.cleaned_data["labelstudio_users"].strip()
        if raw.startswith("{"):
            try:
                value = json.loads(raw)
            except json.JSONDecodeError as exc:
                raise forms.ValidationError(f"Not valid JSON: {exc.msg}.") from exc
            if not isinstance(value, dict):
                raise forms.ValidationError('Give an object: {"1": "ann@example.com"}.')
            return {str(k).strip(): str(v).strip() for k, v in value.items()}
        users: dict[str, str] = {}
        for number, line in enumerate(raw.splitlines(), start=1):
            if not line.strip():
                continue
            user_id, sep, email = line.replace(":", "=", 1).partition("=")
            if not sep or not user_id.strip() or "@" not in email:
                raise forms.ValidationError(f'Line {number} is not "<Label Studio user id> = <e-mail>".')
            users[user_id.strip()] = email.strip()
        return users

    def clean(self) -> dict:
        super().clean()
        data = self.cleaned_data
        upload = data.get("labelstudio_config_file")
        if upload and not (data.get("labelstudio_config") or "").strip():
            try:
                data["labelstudio_config"] = upload.read().decode("utf-8-sig")
            except UnicodeDecodeError:
                self.add_error("labelstudio_config_file", "The labelling config file is not UTF-8 text.")
        data["labelstudio_annotations"] = data.get("labelstudio_annotations") or "annotations"
        return data

    def import_options(self) -> dict:
        """Keyword arguments of ``import_start`` besides the project, user and upload."""
        data = self.cleaned_data
        return {
            "labelstudio_annotations": data["labelstudio_annotations"],
            "labelstudio_config": (data.get("labelstudio_config") or "").strip(),
            "data_key": (data.get("data_key") or "").strip(),
            "labelstudio_users": data.get("labelstudio_users") or None,
        }
