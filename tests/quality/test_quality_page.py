"""The manager's quality page, its "Run quality check" button and the project-page panel."""

import pytest

from annotation.models import Role
from core.jobs import JobContext
from core.models import Job
from quality import services
from quality.job_kinds import QUALITY_JOB
from tests.factories import PASSWORD, UserFactory, add_member, make_project
from tests.quality.vote_builders import votes_project

VOTES = [
    ["pos", "pos", "neg"],
    ["neg", "neg", "neg"],
    ["pos", "neg", "neutral"],
    ["neutral", "neutral", "pos"],
]


def _with_report(project):
    job = services.quality_run_create(project=project, user=project.created_by, n_boot=20)
    services.quality_run(job=job, context=JobContext(job))
    Job.objects.filter(pk=job.pk).update(status="succeeded")


@pytest.mark.django_db
def test_page_before_a_run_offers_the_button(client):
    project, _, _ = votes_project(make_project, VOTES)
    client.force_login(project.created_by)
    html = client.get(f"/projects/{project.pk}/quality/").content.decode()
    assert "No quality report yet" in html and 'id="run-quality"' in html


@pytest.mark.django_db
def test_page_shows_numbers_with_intervals_explanations_and_tables(client):
    project, _, annotators = votes_project(make_project, VOTES)
    _with_report(project)
    client.force_login(project.created_by)
    response = client.get(f"/projects/{project.pk}/quality/")
    html = response.content.decode()
    report = response.context["report"]
    assert f"{report.krippendorff_alpha:.2f} [{report.krippendorff_alpha_ci_low:.2f}, " in html
    assert "slight agreement" in html
    for table in ('id="per-label"', 'id="per-version"', 'id="annotators"', 'id="explanations"'):
        assert table in html
    assert annotators[0].username in html
    assert "consensus ↓ / theirs →" in html


@pytest.mark.django_db
def test_post_run_creates_a_job_and_get_is_not_allowed(client):
    project, _, _ = votes_project(make_project, VOTES)
    client.force_login(project.created_by)
    assert client.get(f"/projects/{project.pk}/quality/run/").status_code == 405
    response = client.post(f"/projects/{project.pk}/quality/run/", follow=True)
    assert response.status_code == 200
    job = Job.objects.get(project=project, kind=QUALITY_JOB)
    assert f"Quality check started (job {job.pk})" in response.content.decode()
    again = client.post(f"/projects/{project.pk}/quality/run/", follow=True).content.decode()
    assert "already queued" in again and Job.objects.filter(project=project).count() == 1


@pytest.mark.django_db
def test_page_and_button_need_the_reviewer_role(client):
    project, _, (annotator, *_) = votes_project(make_project, VOTES)
    client.force_login(annotator)
    assert client.get(f"/projects/{project.pk}/quality/").status_code == 403
    assert client.post(f"/projects/{project.pk}/quality/run/").status_code == 403
    client.force_login(UserFactory())
    assert client.get(f"/projects/{project.pk}/quality/").status_code == 404
    assert not Job.objects.filter(project=project).exists()


@pytest.mark.django_db
def test_project_page_panel_shows_headline_to_reviewers_only(client):
    project, _, (annotator, *_) = votes_project(make_project, VOTES)
    _with_report(project)
    reviewer = add_member(project, Role.REVIEWER)
    client.force_login(reviewer)
    html = client.get(f"/projects/{project.pk}/").content.decode()
    assert (
        'id="quality-panel"' in html and "Krippendorff" in html and f"/projects/{project.pk}/quality/" in html
    )
    client.force_login(annotator)
    assert 'id="quality-panel"' not in client.get(f"/projects/{project.pk}/").content.decode()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_manager_starts_a_quality_check_from_the_page(page, artifacts_dir):
    from playwright.sync_api import expect

    # Given a manager with labelled items and no report
    manager = UserFactory(username="quinn")
    project, _, _ = votes_project(lambda **kw: make_project(manager=manager, **kw), VOTES)
    page.goto("/login/")
    page.fill("#id_username", "quinn")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login/" not in url)
    # When they open the quality page and press the button
    page.goto(f"/projects/{project.pk}/quality/")
    expect(page.locator("#no-report")).to_be_visible()
    page.click("#run-quality")
    # Then a job is queued and the page says so
    expect(page.locator(".messages")).to_contain_text("Quality check started")
    expect(page.locator("#job-status")).to_have_attribute("data-status", "queued")
    page.screenshot(path=str(artifacts_dir / "quality_run_started.png"), full_page=True)
    assert Job.objects.filter(project=project, kind=QUALITY_JOB).count() == 1
