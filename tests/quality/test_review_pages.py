"""HTML pages of review: queue, item, history, bulk confirmation, labels, guideline diff, feedback, panels."""

from html.parser import HTMLParser
from urllib.parse import urlencode

import pytest

from annotation.models import Item, ItemStatus, Role
from annotation.services.projects import guideline_create
from quality.models import LabelSchemaChange, ReviewDecision
from quality.review import services
from tests.factories import UserFactory, add_member
from tests.quality.review_helpers import review_project

pytestmark = pytest.mark.django_db

VOTES = [["pos", "pos", "neg"], ["neg", "neutral", "neg"], ["pos", "neg", "neutral"]]


class FormFields(HTMLParser):
    """The action and the (name, value) pairs a browser would submit from the first form with ``form_id``
    (inputs with their value, selects with their selected option, else their first)."""

    def __init__(self, form_id: str | None = None):
        super().__init__()
        self.form_id, self.inside, self.done = form_id, False, False
        self.action, self.fields, self.select = "", [], None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and not self.done and (self.form_id is None or attrs.get("id") == self.form_id):
            self.inside, self.action = True, attrs.get("action", "")
        elif self.inside and tag == "input" and attrs.get("name"):
            self.fields.append([attrs["name"], attrs.get("value", "")])
        elif self.inside and tag == "select":
            self.select = [attrs["name"], None]
            self.fields.append(self.select)
        elif self.inside and tag == "option" and self.select is not None:
            if self.select[1] is None or "selected" in attrs:
                self.select[1] = attrs.get("value", "")

    def handle_endtag(self, tag):
        if tag == "select":
            self.select = None
        elif tag == "form" and self.inside:
            self.inside, self.done = False, True

    @classmethod
    def of(cls, html: str, form_id: str | None = None) -> "FormFields":
        parser = cls(form_id)
        parser.feed(html)
        assert parser.action, f"no form {form_id!r} in the page"
        return parser

    def chosen(self, **values: str) -> list[tuple[str, str]]:
        """The pairs with the named fields set as a user would set them (the field must exist)."""
        names = {name for name, _ in self.fields}
        assert set(values) <= names, f"the form has no field {set(values) - names}"
        return [(name, values.get(name, value)) for name, value in self.fields]


@pytest.fixture
def setup():
    project, items, annotators, reviewer = review_project(VOTES, severities=[0.3, 0.8, 0.5])
    return project, items, annotators, reviewer


def test_queue_page_lists_items_by_severity_and_counts(client, setup):
    project, items, _, reviewer = setup
    client.force_login(reviewer)
    response = client.get(f"/projects/{project.pk}/review/")
    html = response.content.decode()
    assert response.status_code == 200 and 'data-count="3"' in html
    order = [row["item"].external_id for row in response.context["rows"]]
    assert order == ["t1", "t2", "t0"]
    assert 'id="bulk-form"' in html and "js/review.js" in html


def test_review_pages_are_forbidden_to_annotators_and_hidden_from_outsiders(client, setup):
    project, items, annotators, _ = setup
    client.force_login(annotators[0])
    for url in (
        f"/projects/{project.pk}/review/",
        f"/projects/{project.pk}/review/items/{items[0].pk}/",
        f"/projects/{project.pk}/items/{items[0].pk}/history/",
        f"/projects/{project.pk}/labels/",
        f"/projects/{project.pk}/review/bulk/?action=accept",
    ):
        assert client.get(url).status_code == 403, url
    client.force_login(UserFactory())
    assert client.get(f"/projects/{project.pk}/review/").status_code == 404
    assert client.get(f"/projects/{project.pk}/my-feedback/").status_code == 404


def test_item_page_shows_votes_with_annotators_reasons_prediction_and_escapes_content(client, setup):
    project, items, annotators, reviewer = setup
    Item.objects.filter(pk=items[1].pk).update(
        text="<script>alert(1)</script> great",
        predicted_label="neg",
        predicted_probs={"neg": 0.7, "pos": 0.2},
        near_dup_group=items[1].pk,
    )
    Item.objects.filter(pk=items[0].pk).update(near_dup_group=items[1].pk, final_label="pos")
    client.force_login(reviewer)
    response = client.get(f"/projects/{project.pk}/review/items/{items[1].pk}/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    for annotator in annotators:
        assert annotator.username in html
    assert "annotators_split" in html and "neg 0.70" in html and 'id="near-duplicates"' in html
    # queue order t1 (0.8), t2 (0.5), t0 (0.3): t1 has no previous, t2 next
    config = response.context["config"]
    assert config["prevUrl"] is None and config["nextUrl"].endswith(f"/review/items/{items[2].pk}/")
    assert config["consensus"] == "neg"
    # and the hotkey legend lists every action, including "add as example" (x) and the history (h)
    legend = html[html.index('id="hotkey-legend"') :].split("</p>", 1)[0]
    for key, action in (("a", "accept"), ("r", "relabel"), ("d", "discard"), ("e", "escalate")):
        assert f"<kbd>{key}</kbd>" in legend and action in legend
    assert "<kbd>x</kbd> add as example" in legend and "<kbd>h</kbd> history" in legend


def test_item_page_of_another_projects_item_is_404(client, setup):
    project, _, _, reviewer = setup
    _, other_items, _, _ = review_project(VOTES, name="Other")
    client.force_login(reviewer)
    assert client.get(f"/projects/{project.pk}/review/items/{other_items[0].pk}/").status_code == 404


def test_history_page_lists_annotations_and_decisions_in_order(client, setup):
    project, items, _, reviewer = setup
    services.review_decide(
        project=project, reviewer=reviewer, item_id=items[0].pk, action="relabel", reason="r1"
    )
    services.review_decide(
        project=project, reviewer=reviewer, item_id=items[0].pk, action="discard", reason="out of scope"
    )
    client.force_login(reviewer)
    response = client.get(f"/projects/{project.pk}/items/{items[0].pk}/history/")
    kinds = [event["kind"] for event in response.context["review"].history]
    assert kinds == ["annotation"] * 3 + ["decision"] * 2
    html = response.content.decode()
    assert html.index('data-action="relabel"') < html.index('data-action="discard"')
    assert "sent back for relabelling" in html and "out of scope" in html


def test_bulk_page_confirms_before_applying(client, setup):
    project, items, _, reviewer = setup
    client.force_login(reviewer)
    preview = client.get(
        f"/projects/{project.pk}/review/bulk/?label=neg&action=discard&decision_reason=duplicate"
    )
    assert preview.status_code == 200 and preview.context["count"] == 2
    assert not ReviewDecision.objects.exists()  # nothing happens before the confirmation
    missing = client.get(f"/projects/{project.pk}/review/bulk/?action=discard")
    assert missing.context["missing_reason"] and 'id="bulk-confirm-btn"' not in missing.content.decode()
    response = client.post(
        f"/projects/{project.pk}/review/bulk/?label=neg",
        {"items": preview.context["item_ids"], "action": "discard", "decision_reason": "duplicate"},
    )
    assert response.status_code == 302
    statuses = dict(Item.objects.filter(project=project).values_list("external_id", "status"))
    assert statuses == {"t0": ItemStatus.NEEDS_REVIEW, "t1": ItemStatus.DISCARDED, "t2": ItemStatus.DISCARDED}


def test_bulk_accept_from_a_label_filtered_queue_submits_the_forms_as_rendered(client, setup):
    # Given the queue filtered on consensus "neg" (t1, t2; t0 is "pos")
    project, items, _, reviewer = setup
    client.force_login(reviewer)
    queue = client.get(f"/projects/{project.pk}/review/?label=neg").content.decode()
    # When the reviewer picks accept as "pos" in the bulk form and submits it as the browser would
    bulk = FormFields.of(queue, "bulk-form")
    preview = client.get(f"{bulk.action}?{urlencode(bulk.chosen(action='accept', final_label='pos'))}")
    # Then the confirmation keeps the filter and shows the chosen final label
    assert preview.status_code == 200 and preview.context["filters"].label == "neg"
    assert preview.context["count"] == 2 and preview.context["label"] == "pos"
    assert not ReviewDecision.objects.exists()
    # When the confirmation form is posted as rendered
    confirm = FormFields.of(preview.content.decode(), "bulk-confirm-form")
    response = client.post(confirm.action, dict(confirm.chosen()))
    # Then exactly the filtered items are accepted as "pos", and the queue keeps its filter
    assert response.status_code == 302 and "label=neg" in response.url
    stored = {item.external_id: item for item in Item.objects.filter(project=project)}
    assert (stored["t1"].status, stored["t1"].final_label) == (ItemStatus.ACCEPTED, "pos")
    assert (stored["t2"].status, stored["t2"].final_label) == (ItemStatus.ACCEPTED, "pos")
    assert (stored["t0"].status, stored["t0"].final_label) == (ItemStatus.NEEDS_REVIEW, None)


def test_labels_page_forms_change_the_schema_for_managers_only(client, setup):
    project, _, _, reviewer = setup
    client.force_login(reviewer)
    assert 'id="label-merge-form"' not in client.get(f"/projects/{project.pk}/labels/").content.decode()
    assert client.post(f"/projects/{project.pk}/labels/add/", {"value": "borderline"}).status_code == 403
    client.force_login(project.created_by)
    client.post(f"/projects/{project.pk}/labels/add/", {"value": "borderline", "note": "real ambiguity"})
    client.post(
        f"/projects/{project.pk}/labels/merge/", {"labels": ["neutral"], "into": "neutral"}
    )  # refused
    client.post(f"/projects/{project.pk}/labels/merge/", {"labels": ["neutral"], "into": "borderline"})
    kinds = list(LabelSchemaChange.objects.order_by("id").values_list("kind", "to_label"))
    assert kinds == [("add", "borderline"), ("merge", "borderline")]
    html = client.get(f"/projects/{project.pk}/labels/").content.decode()
    assert "neutral → borderline" in html and 'id="retired-labels"' in html


def test_guideline_diff_shows_changed_lines_escaped(client, setup):
    project, _, annotators, _ = setup
    guideline_create(
        project=project,
        author=project.created_by,
        change_note="sarcasm rule",
        body="# Rules\nLabel the **overall** sentiment.\nSarcasm <b>counts</b> as neg.",
    )
    client.force_login(annotators[0])  # annotators may see what changed
    response = client.get(f"/projects/{project.pk}/guideline/diff/")
    html = response.content.decode()
    diff = response.context["diff"]
    assert (response.context["old_version"], response.context["new_version"]) == (1, 2)
    assert (diff.added, diff.removed, diff.changed) == (1, 0, 0)
    assert (
        "Sarcasm &lt;b&gt;counts&lt;/b&gt; as neg." in html
        and "<b>counts</b> as neg" not in html.split('id="diff"')[1].split("</table>")[0]
    )
    missing = client.get(f"/projects/{project.pk}/guideline/diff/?from=1&to=9")
    assert "no guideline version 9" in missing.content.decode()


def test_panels_on_project_guideline_and_label_pages(client, setup):
    project, items, annotators, reviewer = setup
    services.review_decide(
        project=project,
        reviewer=reviewer,
        item_id=items[0].pk,
        action="escalate",
        reason="Is irony negative?",
    )
    services.label_example_add(project=project, user=reviewer, item_id=items[1].pk, label="neg")
    client.force_login(project.created_by)
    html = client.get(f"/projects/{project.pk}/").content.decode()
    assert 'id="review-panel"' in html and "1 open guideline question" in html
    html = client.get(f"/projects/{project.pk}/guideline/").content.decode()
    assert "Is irony negative?" in html and 'id="open-questions"' in html
    client.force_login(annotators[0])
    html = client.get(f"/projects/{project.pk}/").content.decode()
    assert 'id="review-panel"' not in html and 'id="my-feedback-link"' in html
    html = client.get(f"/projects/{project.pk}/label/").content.decode()
    assert 'id="label-examples"' in html and "text number 1" in html


def test_feedback_page_shows_own_numbers(client, setup):
    project, items, annotators, reviewer = setup
    services.review_decide(
        project=project, reviewer=reviewer, item_id=items[0].pk, action="accept", label="neg"
    )
    add_member(project, Role.ANNOTATOR)
    client.force_login(annotators[0])  # voted pos on t0
    response = client.get(f"/projects/{project.pk}/my-feedback/")
    assert response.status_code == 200
    assert (
        response.context["feedback"].n_disagreed == 1
        and f'data-item="{items[0].pk}"' in response.content.decode()
    )


def test_reason_chips_and_status_counts_show_words_and_keep_codes_in_data_attributes(client, setup):
    # Given an item flagged by the model and by low confidence, in a project whose items need review
    project, items, _, reviewer = setup
    Item.objects.filter(pk=items[1].pk).update(issue_kinds=["model_disagrees", "low_consensus_confidence"])
    client.force_login(reviewer)
    # When the reviewer opens the queue, the item page and the project page
    queue = client.get(f"/projects/{project.pk}/review/").content.decode()
    item = client.get(f"/projects/{project.pk}/review/items/{items[1].pk}/").content.decode()
    project_page = client.get(f"/projects/{project.pk}/").content.decode()
    # Then chips say words and carry the code for scripts; no raw code is shown as text
    for html in (queue, item):
        assert 'data-reason="model_disagrees">model disagrees</span>' in html
        assert 'data-reason="low_consensus_confidence">low consensus confidence</span>' in html
        assert ">model_disagrees<" not in html and ">low_consensus_confidence<" not in html
    assert '<tr data-status="needs_review"><th>needs review</th>' in project_page
    assert "<th>needs_review</th>" not in project_page
