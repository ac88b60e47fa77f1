"""A box project's dashboard in headless Chromium on a 390 px wide phone screen, after a real quality run: the box
panels are drawn with every figure equal to the API's, each saying what it counts, without sideways scrolling;
kept as a screenshot."""

import pytest

from tests.annotation.test_browser_annotate import log_in
from tests.factories import PASSWORD
from tests.quality.test_dashboard_kind_panels import api_figures, box_project, run_quality, shown

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_box_panels_fit_a_phone_and_show_the_apis_figures(page, api, worker, media_roots, artifacts_dir):
    from playwright.sync_api import expect

    # Given the five-image box project after a quality run by the real worker
    project = box_project(api)
    reviewer, _, panels = run_quality(api, worker, project)
    reviewer.set_password(PASSWORD)
    reviewer.save(update_fields=["password"])
    # When the reviewer opens its dashboard on a 390 px wide screen
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, reviewer.username)
    page.goto(f"/projects/{project.pk}/dashboard/")
    expect(page.locator("#kind-panels")).to_be_visible()
    # Then each box figure is drawn with the API's values and says what it counts
    expected = api_figures(panels)
    by_name = {p["name"]: p for p in panels["panels"]}
    assert set(expected) == {"boxes_per_label", "box_sizes", "box_agreement_per_label", "iou_histogram"}
    for name, columns in expected.items():
        for column, rows in columns.items():
            figure = next(f for f in by_name[name]["figures"] if f["column"] == column)
            block = page.locator(f'[data-panel="{name}"] [data-figure="{column}"]')
            expect(block.locator(".counts")).to_have_text(figure["counts"])
            chart = block.locator("svg.chart")
            expect(chart).to_be_visible()
            labels = chart.locator("text.axis-label").all_text_contents()
            values = chart.locator("text.value").all_text_contents()
            assert dict(zip(labels, values, strict=True)) == {
                row: shown(value, figure["fraction"]) for row, value in rows.items()
            }
    # and the class-label panels are not there
    expect(page.locator("#panel-labels")).to_have_count(0)
    expect(page.locator("#panel-confusion")).to_have_count(0)
    # and neither the page nor a box panel scrolls sideways
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    overflowing = page.evaluate(
        """() => [...document.querySelectorAll('.kind-panel')]
            .filter(p => p.scrollWidth > p.clientWidth + 1 || p.getBoundingClientRect().right > 390)
            .map(p => p.id)"""
    )
    assert overflowing == []
    page.locator("#labels").screenshot(path=str(artifacts_dir / "dashboard-box-panels-390.png"))
    page.screenshot(path=str(artifacts_dir / "dashboard-boxes-390.png"), full_page=True)
