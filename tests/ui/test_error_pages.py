"""The 403, 404 and 500 pages, as a production server (DEBUG=False) renders them: the site's own layout, what
happened in words, and a way back."""

import pytest
from django.test import Client
from django.urls import include, path

from annotation.models import Role
from tests.factories import add_member, make_project

pytestmark = pytest.mark.django_db


def _boom(request):
    raise RuntimeError("a fault inside a view")


urlpatterns = [path("boom/", _boom), path("", include("config.urls"))]


@pytest.fixture(autouse=True)
def _production(settings):
    settings.DEBUG = False


def _is_site_page(html: str) -> None:
    assert '<header class="topbar">' in html and "css/app.css" in html
    assert '<a class="button primary" href="/">Your projects</a>' in html


def test_404_says_there_is_no_page_and_links_home_and_back(client):
    response = client.get("/no/such/page/", HTTP_REFERER="http://testserver/projects/")
    html = response.content.decode()
    assert response.status_code == 404
    _is_site_page(html)
    assert "There is no page here" in html and "/no/such/page/" in html
    assert 'href="http://testserver/projects/" id="error-back">Go back</a>' in html


def test_an_api_404_stays_the_api_error_body(client):
    response = client.get("/api/no-such-endpoint/")
    assert response.status_code == 404 and response.json() == {"detail": "Not found."}


def test_403_names_the_role_the_page_needs(client):
    project = make_project()
    client.force_login(add_member(project, Role.ANNOTATOR))
    response = client.get(f"/projects/{project.pk}/quality/")
    html = response.content.decode()
    assert response.status_code == 403
    _is_site_page(html)
    assert "You are not allowed to open this page" in html and "reviewer role" in html


@pytest.mark.urls("tests.ui.test_error_pages")
def test_500_says_the_fault_is_the_servers_and_links_home():
    response = Client(raise_request_exception=False).get("/boom/")
    html = response.content.decode()
    assert response.status_code == 500
    _is_site_page(html)
    assert "Something went wrong on our side" in html
