from django import forms

from annotation.models import Role


class InviteForm(forms.Form):
    # Three forms share the members page: prefixes keep their element ids apart.
    prefix = "invite"

    email = forms.EmailField(
        required=False,
        label="E-mail (leave empty to get a link to hand on)",
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )
    role = forms.ChoiceField(choices=Role.choices, initial=Role.ANNOTATOR)


class AccountCreateForm(forms.Form):
    prefix = "account"

    username = forms.CharField(max_length=150, widget=forms.TextInput(attrs={"autocomplete": "off"}))
    email = forms.EmailField(label="E-mail (receives the link to choose a password)")
    role = forms.ChoiceField(choices=Role.choices, initial=Role.ANNOTATOR)


class MemberAddExistingForm(forms.Form):
    prefix = "existing"

    username = forms.CharField(max_length=150, label="Username of an existing account")
    role = forms.ChoiceField(choices=Role.choices, initial=Role.ANNOTATOR)


class InviteAcceptForm(forms.Form):
    username = forms.CharField(max_length=150, widget=forms.TextInput(attrs={"autocomplete": "username"}))
    password1 = forms.CharField(
        label="Password", widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}), strip=False
    )
    password2 = forms.CharField(
        label="Password again",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        strip=False,
    )

    def clean(self):
        data = super().clean() or {}
        if data.get("password1") and data.get("password1") != data.get("password2"):
            self.add_error("password2", "The two passwords differ.")
        return data
