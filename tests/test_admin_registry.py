"""Django admin is registered for every model of the four apps, and each admin passes Django's checks."""

import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import reverse

from tests.factories import UserFactory

APPS = ("core", "annotation", "accounts", "quality", "activelearning", "datasets")
MODELS = [model for app in APPS for model in apps.get_app_config(app).get_models()]


def test_every_model_of_the_apps_is_registered_in_the_admin():
    # Given every model of the project's apps; then each one has a ModelAdmin
    missing = sorted(model._meta.label for model in MODELS if model not in admin.site._registry)
    assert not missing, f"models without an admin: {missing}"


def test_the_admin_registrations_pass_djangos_admin_checks():
    # A wrong list_display/raw_id_fields name only shows up as a check error (or a 500 on the page)
    assert admin.site.check(None) == []


@pytest.mark.django_db
@pytest.mark.parametrize("model", MODELS, ids=lambda m: m._meta.label)
def test_staff_can_open_every_models_admin_list(client, model):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    response = client.get(reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist"))
    assert response.status_code == 200
