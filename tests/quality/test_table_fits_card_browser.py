"""Tables stay inside their card: at 1400 px the review queue table fits its card (its right edge is not past
the card's), and on a 390 px phone it scrolls inside the card instead of pushing the page sideways. The queue
holds what a real one does: dotted ids, long texts, several reason chips, the named flag model and the base
model column."""

import pytest

from activelearning.models import ModelVersion
from annotation.models import Item, Role
from tests.factories import UserFactory, add_member
from tests.quality.review_helpers import review_project
from tests.quality.test_review_browser import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LABELS = ("concurrency", "networking", "mathematics")
IDS = ("multiprocessing.active_children", "signal.pidfd_send_signal", "socket.getprotobyname")


def _crowded_queue():
    project, items, _, _ = review_project(
        [
            ["concurrency", "concurrency", "networking"],
            ["networking", "mathematics", "networking"],
            ["concurrency", "networking", "mathematics"],
        ],
        labels=LABELS,
    )
    for item, external_id in zip(items, IDS, strict=True):
        Item.objects.filter(pk=item.pk).update(
            external_id=external_id,
            text=f"{external_id}(): Return a list of all live children of the current process, as a side effect "
            "joining any processes which have already finished.",
            issue_kinds=[
                "annotators_split",
                "model_disagrees",
                "low_consensus_confidence",
                "near_duplicate_conflict",
            ],
            flag_model="quality model · run #12 (cross-validated)",
            flag_model_label="networking",
            predicted_label="mathematics",
            predicted_probs={"mathematics": 0.7, "networking": 0.3},
            consensus_suggestion="mathematics",
        )
    # A base model too, so the queue shows both models' columns, as on a project after "Train now".
    ModelVersion.objects.create(
        project=project,
        version=3,
        extractor="tfidf",
        extractor_name="tfidf",
        extractor_version="1",
        strategy="margin",
        label_values=list(LABELS),
        n_train=9,
        cv_accuracy=0.6,
    )
    return project


def _edges(page):
    return page.evaluate(
        """() => {
            const table = document.querySelector('#queue-table');
            const card = table.closest('.card');
            const t = table.getBoundingClientRect(), c = card.getBoundingClientRect();
            return {table: t.right, card: c.right, cardWidth: c.width, page: document.documentElement.scrollWidth,
                    viewport: window.innerWidth, tableScroll: table.parentElement === card
                      ? card.scrollWidth : table.parentElement.scrollWidth};
        }"""
    )


def test_review_queue_table_fits_its_card_at_1400_and_scrolls_inside_it_at_390(page, artifacts_dir):
    project = _crowded_queue()
    reviewer = add_member(project, Role.REVIEWER, user=UserFactory(username="rhea"))
    log_in(page, reviewer.username)

    page.set_viewport_size({"width": 1400, "height": 900})
    page.goto(f"/projects/{project.pk}/review/")
    page.locator("#queue-table").wait_for()
    page.screenshot(path=str(artifacts_dir / "review_queue_1400.png"), full_page=True)
    wide = _edges(page)
    assert wide["table"] <= wide["card"] + 0.5, wide
    # Every column is visible in the card at this width: the Status cell is inside it, not scrolled away.
    status_right = page.evaluate(
        "() => document.querySelector('#queue-table td[data-status]').getBoundingClientRect().right"
    )
    assert status_right <= wide["card"] + 0.5, (status_right, wide)

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"/projects/{project.pk}/review/")
    page.locator("#queue-table").wait_for()
    page.screenshot(path=str(artifacts_dir / "review_queue_390.png"), full_page=True)
    narrow = _edges(page)
    # The page itself does not scroll sideways; the card stays within the screen and the table scrolls in it.
    assert narrow["page"] <= narrow["viewport"], narrow
    assert narrow["card"] <= narrow["viewport"], narrow
    visible_right = page.evaluate(
        """() => { const t = document.querySelector('#queue-table');
                   const box = t.closest('.card').getBoundingClientRect();
                   const el = document.elementFromPoint(box.right - 30, t.querySelector('tbody tr').getBoundingClientRect().top + 5);
                   return !!el && t.contains(el); }"""
    )
    assert visible_right
