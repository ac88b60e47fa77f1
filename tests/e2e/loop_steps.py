"""Steps of the whole labelling loop as a manager takes them in the browser, shared by the span and box loop
tests: create the project with the form, add members and settings with theirs, import from the upload form, run
the quality check, freeze a version and download an export. Controls are found by role and accessible name where
the page gives them one. Every wait is a Playwright expectation with a deadline, never a sleep."""

import re

from tests.factories import PASSWORD

# A generous bound for one job on a loaded 2-core machine; each step moves on as soon as the page shows the result.
JOB_DEADLINE_MS = 240_000


def log_in(page, username: str) -> None:
    page.goto("/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name=re.compile(r"log in|sign in", re.I)).click()
    page.wait_for_url(lambda url: "/login/" not in url)


def open_page(browser, live_server, username: str):
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, base_url=live_server.url, accept_downloads=True
    )
    page = context.new_page()
    page.set_default_timeout(15000)
    log_in(page, username)
    return context, page


def create_project(page, *, name: str, task_type: str, labels: str, k: int) -> int:
    """Fill the new-project form; returns the new project's id read from the page it lands on."""
    page.goto("/projects/new/")
    page.get_by_label("Name").fill(name)
    page.get_by_label("Task type").select_option(task_type)
    page.get_by_label("Labels").fill(labels)
    page.get_by_label("Annotations per item").fill(str(k))
    page.get_by_role("button", name="Create").click()
    page.wait_for_url(re.compile(r"/projects/\d+/$"))
    return int(re.search(r"/projects/(\d+)/$", page.url).group(1))


def open_labelling(page, pid: int) -> None:
    """Open the labelling page and acknowledge the guideline's first version by keyboard (Enter), as a new
    annotator is asked to before their first item."""
    from playwright.sync_api import expect

    page.goto(f"/projects/{pid}/label/")
    dialog = page.get_by_role("dialog", name=re.compile(r"please read"))
    expect(dialog).to_be_visible()
    page.keyboard.press("Enter")
    expect(dialog).to_be_hidden()


def set_max_annotations(page, pid: int, n: int) -> None:
    """Caps adaptive overlap at ``n`` from the settings form, so a disagreement does not wait for a fourth
    annotator the test does not have."""
    page.goto(f"/projects/{pid}/settings/")
    page.get_by_label("Max annotations per item").fill(str(n))
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(lambda url: "/settings/" not in url)


def add_member(page, pid: int, username: str, role: str = "annotator") -> None:
    from playwright.sync_api import expect

    page.goto(f"/projects/{pid}/")
    form = page.locator("form", has=page.get_by_role("button", name="Add member"))
    form.locator("input[name=username]").fill(username)
    form.locator("select[name=role]").select_option(role)
    form.get_by_role("button", name="Add member").click()
    expect(page.locator(".messages")).to_contain_text(f"{username} is now {role}")


def import_file(page, pid: int, *, name: str, mime: str, data: bytes) -> dict[str, int]:
    """Upload ``data`` from the batches page's import form; once the real worker has run the import, returns
    the figures its row on the page reports (Rows, Created, Duplicates, Errors)."""
    from playwright.sync_api import expect

    page.goto(f"/projects/{pid}/batches/")
    page.set_input_files(
        "#import-form input[type=file]", files=[{"name": name, "mimeType": mime, "buffer": data}]
    )
    page.locator("#import-form").get_by_role("button", name="Import", exact=True).click()
    expect(page.locator(".messages")).to_contain_text(name)
    row = page.locator("#import-jobs tbody tr[data-job]", has_text=name)
    expect(row).to_have_attribute("data-status", "succeeded", timeout=JOB_DEADLINE_MS)
    table = page.locator("#import-jobs")
    heads = table.locator("thead th").all_inner_texts()
    # The status flips before the refreshed table arrives: wait for the row's counts themselves.
    expect(row.locator("td").nth(heads.index("Rows"))).to_have_text(
        re.compile(r"^\s*\d+\s*$"), timeout=JOB_DEADLINE_MS
    )
    cells = row.locator("td").all_inner_texts()
    return {head: int(cells[heads.index(head)]) for head in ("Rows", "Created", "Duplicates", "Errors")}


def run_quality(page, pid: int) -> None:
    """Start the quality check from its page and wait until the same page shows the finished report."""
    from playwright.sync_api import expect

    page.goto(f"/projects/{pid}/quality/")
    page.get_by_role("button", name="Run quality check").click()
    expect(page.locator("#job-status")).to_have_attribute("data-status", "succeeded", timeout=JOB_DEADLINE_MS)
    expect(page.locator("#headline")).to_be_visible()


def headline_text(page, key: str) -> str:
    return page.locator(f"#headline tr[data-metric='{key}'] td.num").inner_text().strip()


def accept_on_review_page(page, pid: int, item_id: int) -> None:
    """Accept an item with its consensus on its review page (the Accept control, by its accessible name)."""
    page.goto(f"/projects/{pid}/review/items/{item_id}/")
    page.get_by_role("button", name=re.compile(r"^Accept\b")).click()
    page.wait_for_url(lambda url: f"/review/items/{item_id}/" not in url)


def freeze_version(page, pid: int) -> None:
    """Freeze a version with the default policy from the datasets page; leaves the page on version 1."""
    from playwright.sync_api import expect

    page.goto(f"/projects/{pid}/datasets/")
    page.get_by_role("button", name="Freeze version").click()
    version_row = page.locator("#versions tr[data-version='1']")
    expect(version_row).to_be_visible(timeout=JOB_DEADLINE_MS)
    version_row.locator("a").first.click()
    page.wait_for_url(re.compile(r"/datasets/\d+/$"))


def download(page, fmt: str, link: str = "all") -> bytes:
    """The bytes of one export downloaded from the version page's Download table."""
    row = page.locator("#downloads tr", has=page.locator("th", has_text=re.compile(rf"^{fmt}$")))
    with page.expect_download() as info:
        row.get_by_role("link", name=link).click()
    path = info.value.path()
    with open(path, "rb") as handle:
        return handle.read()
