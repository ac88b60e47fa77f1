"""HTML pages: versions list with policy preview, freeze form, version detail with SVG charts, diff, panel."""

import re

import pytest
from django.test import Client

from annotation.models import Item, ItemStatus, Label, Role
from core.models import Job
from tests.datasets.builders import freeze, labelled_items
from tests.factories import PASSWORD, add_member, make_project

pytestmark = pytest.mark.django_db


@pytest.fixture
def project():
    project = make_project(labels=("pos", "neg"))
    ids = labelled_items(project, {"pos": 1200, "neg": 340})
    Item.objects.filter(pk__in=ids[:41]).update(is_label_issue=True)
    Item.objects.filter(pk__in=ids[41:44]).update(status=ItemStatus.DISCARDED)
    return project


def login(user) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def _preview_text(html: str) -> str:
    """The policy preview sentence as a reader sees it (tags stripped)."""
    preview = html.split('id="policy-preview">', 1)[1].split("</p>", 1)[0]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", preview)).strip()


def test_versions_page_previews_the_default_policy(project):
    html = login(project.created_by).get(f"/projects/{project.pk}/datasets/").content.decode()
    assert _preview_text(html) == (
        "1,496 items would be included; 3 excluded (status discarded); 41 excluded (open label issues, not "
        "already excluded above). A row named by a status counts every item with that status, as the review page "
        "and the dashboard count them; each other row counts the items no row before it took."
    )
    assert "No versions yet." in html


def test_the_preview_counts_open_label_issues_not_already_excluded_and_says_so():
    # Given 10 labelled items, 4 of them open label issues: two plainly labelled, one still being annotated
    # and one without any label yet
    project = make_project(labels=("pos", "neg"))
    ids = labelled_items(project, {"pos": 6, "neg": 4})
    Item.objects.filter(pk__in=ids[:4]).update(is_label_issue=True)
    Item.objects.filter(pk=ids[2]).update(status=ItemStatus.IN_PROGRESS)
    Item.objects.filter(pk=ids[3]).update(
        status=ItemStatus.NEW, consensus_label=None, consensus_confidence=None
    )
    # When the versions page previews the default policy
    html = login(project.created_by).get(f"/projects/{project.pk}/datasets/").content.decode()
    # Then by hand: 6 included; the new issue counts under its status, the in-progress one under its status, and
    # the open-issue row holds the other 2, labelled as not already excluded above
    assert _preview_text(html) == (
        "6 items would be included; 1 excluded (status new, not yet labelled); 1 excluded (status in progress, "
        "still being annotated); 2 excluded (open label issues, not already excluded above). A row named by a "
        "status counts every item with that status, as the review page and the dashboard count them; each other "
        "row counts the items no row before it took."
    )
    # And the figure is not the dashboard's "open label issues now" (all 4 open issues), which its label tells
    from quality.dashboard.selectors import issue_counts_live

    assert issue_counts_live(project=project)["open"] == 4


def test_the_freeze_form_says_which_review_queue_items_the_needs_review_exclusion_counts():
    # Given 12 labelled items; by hand, 7 in the review queue: 3 with status needs_review and a label, 1
    # needs_review without any label (everyone skipped it), 1 labelled with a review reason, 1 labelled open
    # label issue, 1 in-progress gold item whose votes miss its gold label; 5 plainly labelled outside it
    project = make_project(labels=("pos", "neg"))
    ids = labelled_items(project, {"pos": 8, "neg": 4})
    Item.objects.filter(pk__in=ids[:3]).update(
        status=ItemStatus.NEEDS_REVIEW, issue_kinds=["annotators_split"]
    )
    Item.objects.filter(pk=ids[3]).update(status=ItemStatus.NEEDS_REVIEW, consensus_label=None)
    Item.objects.filter(pk=ids[4]).update(issue_kinds=["annotators_split"])
    Item.objects.filter(pk=ids[5]).update(is_label_issue=True, issue_kinds=["model_disagrees"])
    Item.objects.filter(pk=ids[6]).update(
        status=ItemStatus.IN_PROGRESS, is_gold=True, gold_label="neg", issue_kinds=["gold_mismatch"]
    )
    from quality.review.selectors import review_queue_total

    assert review_queue_total(project=project) == 7
    # When the versions page previews the default policy
    html = login(project.created_by).get(f"/projects/{project.pk}/datasets/").content.decode()
    # Then the exclusion names the status it counts: all 4 needs-review items, labelled or not (not the queue's 7)
    assert "4 excluded (status needs review, waiting for a review decision);" in _preview_text(html)
    # And a line accounts for every item of the queue under the same rules: 1 + 4 + 1 + 1 = 7
    line = html.split('id="policy-queue"', 1)[1].split("</p>", 1)[0]
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", line.split(">", 1)[1])).strip()
    assert text.startswith(
        "Of the 7 items in the review queue now, 1 excluded (status in progress, still being annotated); "
        "4 excluded (status needs review, waiting for a review decision); 1 excluded (open label issues); "
        "1 would be included."
    )


def test_preview_follows_the_form(project):
    client = login(project.created_by)
    url = f"/projects/{project.pk}/datasets/?preview=1&min_confidence=0&train=0.8&dev=0.1&test=0.1&seed=0"
    html = client.get(url).content.decode()  # the open-issue box is unticked in this submission
    assert _preview_text(html) == "1,537 items would be included; 3 excluded (status discarded)."
    bad = client.get(url.replace("train=0.8", "train=0.5")).content.decode()
    assert "Split ratios must sum to 1 (they sum to 0.7)." in bad


def test_posting_the_form_starts_a_freeze_job(project):
    client = login(project.created_by)
    response = client.post(
        f"/projects/{project.pk}/datasets/",
        {
            "name": "nightly",
            "min_confidence": "0.5",
            "exclude_label_issues": "on",
            "train": "0.8",
            "dev": "0.1",
            "test": "0.1",
            "seed": "1",
        },
    )
    assert response.status_code == 302
    job = Job.objects.get(kind="freeze", project=project)
    assert job.params["policy"]["min_confidence"] == 0.5 and job.params["name"] == "nightly"
    assert "job=" in response["Location"]
    rejected = client.post(
        f"/projects/{project.pk}/datasets/",
        {"train": "0.9", "dev": "0.2", "test": "0", "min_confidence": "-1"},
    )
    assert rejected.status_code == 200 and Job.objects.filter(kind="freeze").count() == 1
    assert "min_confidence must be between 0 and 1" in rejected.content.decode()


def test_version_page_draws_split_and_label_charts_and_links_downloads(project):
    version = freeze(project, splits={"train": 0.6, "dev": 0.2, "test": 0.2})
    html = login(project.created_by).get(f"/projects/{project.pk}/datasets/{version.pk}/").content.decode()
    assert 'id="split-chart"' in html and 'data-split="train" data-count="898"' in html
    assert '<tr data-label="pos">' in html and 'class="split-dev"' in html
    assert f"/api/dataset-versions/{version.pk}/export/?format=parquet&amp;split=test" in html
    assert version.checksum in html


def _table_rows(html: str, table_id: str) -> list[list[str]]:
    """The cells (th and td text, tags stripped) of each body row of the table with that id."""
    table = html.split(f'id="{table_id}"', 1)[1].split("</table>", 1)[0]
    body = table.split("<tbody>", 1)[1]
    return [
        [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)
    ]


def test_version_page_states_the_policy_in_words_and_lists_the_classes(project):
    # Given a project whose third label was merged into "neg" before a freeze with a stated policy
    Label.objects.create(project=project, value="meh", order=9, is_active=False, replaced_by="neg")
    version = freeze(project, splits={"train": 0.6, "dev": 0.2, "test": 0.2}, min_confidence=0.7, seed=7)
    # When the version's page is opened
    html = login(project.created_by).get(f"/projects/{project.pk}/datasets/{version.pk}/").content.decode()
    # Then the policy reads in words, with no Python literal in it
    assert _table_rows(html, "version-policy") == [
        ["Only items a reviewer accepted", "no"],
        ["Minimum consensus confidence", "0.7"],
        ["Leave out open label issues", "yes"],
        ["Include items with status needs review", "no"],
        ["Leave out gold items", "no"],
        ["Splits", "train 60 % · dev 20 % · test 20 %"],
        ["Split seed", "7"],
    ]
    policy_table = html.split('id="version-policy"', 1)[1].split("</table>", 1)[0]
    assert "True" not in policy_table and "False" not in policy_table and "{" not in policy_table
    # And the classes are listed in project order with their ids, the merged label marked retired
    assert _table_rows(html, "version-classes") == [
        ["0", "pos", "in use", ""],
        ["1", "neg", "in use", ""],
        ["2", "meh", "retired (merged into neg)", ""],
    ]


def test_diff_page_lists_the_changes(project):
    v1 = freeze(project)
    first = (
        Item.objects.filter(project=project, status=ItemStatus.LABELLED, is_label_issue=False)
        .order_by("id")
        .first()
    )
    Item.objects.filter(pk=first.pk).update(status=ItemStatus.ACCEPTED, final_label="neg")
    v2 = freeze(project)
    html = (
        login(project.created_by)
        .get(f"/projects/{project.pk}/datasets/diff/?base={v1.pk}&target={v2.pk}")
        .content.decode()
    )
    assert '<tr data-kind="relabelled"><th>Relabelled</th><td class="num">1</td></tr>' in html
    assert f"<td>{first.external_id}</td><td>pos</td><td>neg</td>" in html


def test_project_page_shows_the_datasets_panel_to_reviewers_only(project):
    freeze(project, name="baseline")
    reviewer, annotator = add_member(project, Role.REVIEWER), add_member(project, Role.ANNOTATOR)
    assert "datasets-panel" in login(reviewer).get(f"/projects/{project.pk}/").content.decode()
    assert "datasets-panel" not in login(annotator).get(f"/projects/{project.pk}/").content.decode()
    assert login(annotator).get(f"/projects/{project.pk}/datasets/").status_code == 403
    stranger = add_member(make_project(), Role.MANAGER)
    assert login(stranger).get(f"/projects/{project.pk}/datasets/").status_code == 404


def _item_section(html: str) -> str:
    start = html.index('id="item-dataset-versions"')
    return html[start : html.index("</section>", start)]


def test_review_item_page_lists_the_dataset_versions_the_item_is_in():
    # Given items a and b in v1, then b discarded and a accepted as "neg" before v2 "retrained"; c never frozen
    small = make_project(labels=("pos", "neg"))
    a, b, c = labelled_items(small, {"pos": 3})
    Item.objects.filter(pk=c).update(status=ItemStatus.IN_PROGRESS, consensus_label=None)
    v1 = freeze(small, splits={"train": 1.0})
    Item.objects.filter(pk=b).update(status=ItemStatus.DISCARDED)
    Item.objects.filter(pk=a).update(status=ItemStatus.ACCEPTED, final_label="neg")
    v2 = freeze(small, name="retrained", splits={"train": 1.0})
    client = login(add_member(small, Role.REVIEWER))
    # When a reviewer opens each item's review page
    pages = {pk: client.get(f"/projects/{small.pk}/review/items/{pk}/") for pk in (a, b, c)}
    # Then a lists v2 then v1 with its split and the label it had in each, linked to the version pages
    assert all(response.status_code == 200 for response in pages.values())
    section = _item_section(pages[a].content.decode())
    assert "In dataset versions" in section
    assert section.index('data-version="2"') < section.index('data-version="1"')
    assert f'href="/projects/{small.pk}/datasets/{v2.pk}/">v2</a> retrained' in section
    assert f'href="/projects/{small.pk}/datasets/{v1.pk}/">v1</a>' in section
    rows = section.split("<tr data-version=")[1:]
    assert ">neg<" in rows[0] and "Review decision" in rows[0] and ">train<" in rows[0]
    assert ">pos<" in rows[1] and "Consensus" in rows[1]
    # and b only v1, c none
    b_section = _item_section(pages[b].content.decode())
    assert 'data-version="1"' in b_section and 'data-version="2"' not in b_section
    assert "Not in any dataset version yet." in _item_section(pages[c].content.decode())


@pytest.mark.browser
def test_a_reviewer_browses_versions_and_verifies_a_checksum(page, live_server, artifacts_dir):
    project = make_project(labels=("pos", "neg"))
    labelled_items(project, {"pos": 30, "neg": 70})
    version = freeze(project, splits={"train": 0.6, "dev": 0.2, "test": 0.2})
    reviewer = add_member(project, Role.REVIEWER)
    page.goto("/login/")
    page.fill("input[name=username]", reviewer.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"/projects/{project.pk}/datasets/")
    assert "100 items would be included" in page.inner_text("#policy-preview")
    page.click(f"a[href='/projects/{project.pk}/datasets/{version.pk}/']")
    page.click("#verify")
    page.wait_for_function("document.getElementById('verify-result').textContent.includes('matches')")
    assert page.locator("#split-chart rect").count() == 3
    # The policy in words and the classes with their ids, as a reader sees them
    assert "train 60 % · dev 20 % · test 20 %" in page.inner_text("#version-policy")
    assert [row.inner_text().split("\t")[:3] for row in page.locator("#version-classes tbody tr").all()] == [
        ["0", "pos", "in use"],
        ["1", "neg", "in use"],
    ]
    page.screenshot(path=str(artifacts_dir / "dataset_version.png"), full_page=True)


@pytest.mark.django_db(transaction=True)
def test_the_readme_snippet_trains_a_model_from_the_export_url(live_server, monkeypatch, capsys):
    # Given a frozen version of a small, learnable text project and a reviewer's token
    import re
    from pathlib import Path

    from rest_framework.authtoken.models import Token

    project = make_project(labels=("pos", "neg"))
    labelled_items(project, {"pos": 40, "neg": 40})
    for item in Item.objects.filter(project=project):
        word = "wonderful great" if item.consensus_label == "pos" else "awful terrible"
        Item.objects.filter(pk=item.pk).update(text=f"{word} {item.external_id}")
    version = freeze(project, splits={"train": 0.5, "dev": 0.25, "test": 0.25})
    reviewer = add_member(project, Role.REVIEWER)
    snippet = Path(__file__).resolve().parents[2] / "README.md"
    section = snippet.read_text().split("### Train a model straight from a dataset version", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    monkeypatch.setenv("LABELGATE_URL", live_server.url)
    monkeypatch.setenv("LABELGATE_VERSION", str(version.pk))
    monkeypatch.setenv("LABELGATE_TOKEN", Token.objects.create(user=reviewer).key)
    # When the snippet runs as written
    exec(compile(code, str(snippet), "exec"), {"__name__": "snippet"})  # noqa: S102 - our own documentation
    # Then it trained on the export and scored the test split
    assert "test accuracy 1.000 on 20 items" in capsys.readouterr().out


def test_split_captions_sit_in_separate_legend_slots_so_small_splits_do_not_overlap():
    from datasets.charts import BAR_WIDTH, split_bar

    # Given a version whose dev and test splits are small (20 and 15 of 177 entries)
    rects = split_bar(split_counts={"train": 142, "dev": 20, "test": 15})
    # Then each caption has its own third of the bar's width, whatever its segment's width
    slot = BAR_WIDTH / 3
    assert [(r["split"], r["legend_x"], r["legend_text_x"]) for r in rects] == [
        ("train", 0, 14),
        ("dev", round(slot), round(slot) + 14),
        ("test", round(2 * slot), round(2 * slot) + 14),
    ]
    # and the segments still add up to the bar (dev's segment is narrower than its caption slot)
    assert rects[1]["width"] < slot and round(sum(r["width"] for r in rects)) == BAR_WIDTH
