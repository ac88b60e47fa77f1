"""Absolute links for e-mails and for the manager to hand on, built from the request that made them."""

from django.contrib.auth.tokens import default_token_generator
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode


def invite_url(request, token: str) -> str:
    return request.build_absolute_uri(reverse("invite-accept", kwargs={"token": token}))


def set_password_url(request, user) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    return request.build_absolute_uri(
        reverse(
            "password_reset_confirm",
            kwargs={"uidb64": uid, "token": default_token_generator.make_token(user)},
        )
    )
