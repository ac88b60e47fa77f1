"""Import row accounting over the public API: for any mix of good, duplicate and broken rows,
``rows = created + duplicates + errors``, ``created`` is what appeared in the project, and each kind of row is
counted where it belongs. Bulk calls are synchronous; CSV files go through the real worker."""

import pytest
from hypothesis import HealthCheck, Phase, example, given, note, settings
from hypothesis import strategies as st

from tests.invariants.crowd import LABELS

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]
SETTINGS = dict(
    deadline=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

BULK_KINDS = ("good", "existing", "repeat", "no_text", "no_id", "bad_tags", "bad_gold")
CSV_KINDS = ("good", "existing", "repeat", "wrong_width", "bad_metadata")
OLD = 12  # items in the project before the imports; an "existing" row at position i reuses old-i


def _project(server, name: str) -> int:
    project = server.staff.post(
        "/api/projects/",
        {
            "name": name,
            "task_type": "text_classification",
            "labels": [{"value": v} for v in LABELS],
        },
    )
    pid = project["id"]
    seeded = server.staff.post(
        f"/api/projects/{pid}/items/bulk/",
        [{"external_id": f"old-{i}", "text": f"An item imported earlier, number {i}."} for i in range(OLD)],
    )
    assert seeded["created"] == OLD
    return pid


def _item_count(server, pid: int) -> int:
    return server.staff.get(f"/api/projects/{pid}/items/", page_size=1)["count"]


def _expected(kinds: list[str], *, repeat_is_error: bool) -> dict:
    """Hand-counted outcome: a repeat of an id already in the call/file repeats the first good row's id."""
    has_good_before = []
    seen_good = False
    for kind in kinds:
        has_good_before.append(seen_good)
        seen_good = seen_good or kind == "good"
    created = kinds.count("good")
    repeats = sum(
        1 for kind, before in zip(kinds, has_good_before, strict=True) if kind == "repeat" and before
    )
    lone_repeats = kinds.count("repeat") - repeats  # nothing to repeat yet: these rows are simply new
    broken = len(kinds) - created - kinds.count("existing") - kinds.count("repeat")
    return {
        "rows": len(kinds),
        "created": created + lone_repeats,
        "duplicates": kinds.count("existing") + (0 if repeat_is_error else repeats),
        "errors": broken + (repeats if repeat_is_error else 0),
    }


def _bulk_outcome(server, pid: int, kinds: list[str]) -> tuple[dict, list[dict]]:
    """Send one bulk call built from ``kinds`` (a repeat copies the first good row's id) and count its outcome."""
    first_good = next((i for i, kind in enumerate(kinds) if kind == "good"), None)
    body = []
    for i, kind in enumerate(kinds):
        row = {"external_id": f"new-{i}", "text": f"A fresh sentence about topic {i}."}
        if kind == "existing":
            row["external_id"] = f"old-{i}"
        elif kind == "repeat" and first_good is not None and first_good < i:
            row["external_id"] = f"new-{first_good}"
        elif kind == "no_text":
            del row["text"]
        elif kind == "no_id":
            del row["external_id"]
        elif kind == "bad_tags":
            row["tags"] = 5
        elif kind == "bad_gold":
            row["gold_label"] = "not-a-label"
        body.append(row)
    result = server.staff.post(f"/api/projects/{pid}/items/bulk/", body)
    return {
        "rows": len(body),
        "created": result["created"],
        "duplicates": result["duplicates"],
        "errors": len(result["errors"]),
    }, body


def _csv(kinds: list[str]) -> bytes:
    """A CSV whose only quote character is in the "unterminated" row: a quote that never closes swallows the
    lines after it in a lenient reader; a strict one reports that line and reads the next lines as rows."""
    first_good = next((i for i, kind in enumerate(kinds) if kind == "good"), None)
    lines = ["external_id,text,metadata"]
    for i, kind in enumerate(kinds):
        external_id, text, metadata = f"csv-{i}", f"A fresh sentence about topic {i}.", ""
        if kind == "existing":
            external_id = f"old-{i}"
        elif kind == "repeat" and first_good is not None and first_good < i:
            external_id = f"csv-{first_good}"
        elif kind == "wrong_width":
            metadata = "{}, one field too many"
        elif kind == "bad_metadata":
            metadata = "{not json"
        elif kind == "unterminated":
            text = '"this quote is never closed'
        lines.append(f"{external_id},{text},{metadata}")
    return ("\n".join(lines) + "\n").encode()


@settings(max_examples=5, **SETTINGS)
@given(
    bulk_kinds=st.lists(st.sampled_from(BULK_KINDS), min_size=1, max_size=OLD),
    csv_kinds=st.lists(st.sampled_from(CSV_KINDS), min_size=1, max_size=OLD - 1),
    unterminated_at=st.one_of(st.none(), st.integers(0, OLD - 1)),
)
# Every kind at least once, with the unterminated quote in the middle of the file.
@example(
    bulk_kinds=["good", "existing", "repeat", "no_text", "no_id", "bad_tags", "bad_gold"],
    csv_kinds=["good", "wrong_width", "good", "repeat", "existing", "bad_metadata"],
    unterminated_at=2,
)
def test_import_rows_add_up_through_bulk_and_csv(server, bulk_kinds, csv_kinds, unterminated_at):
    # Given a project holding OLD items, and rows of every kind (good, already there, repeated, broken)
    pid = _project(server, "import accounting")

    # When they arrive through the bulk API
    before = _item_count(server, pid)
    got, body = _bulk_outcome(server, pid, bulk_kinds)
    note(f"bulk rows {body} -> {got}")
    # Then each row is counted once, where it belongs, and what was created is what the project gained
    assert got == _expected(bulk_kinds, repeat_is_error=False)
    assert got["rows"] == got["created"] + got["duplicates"] + got["errors"]
    assert _item_count(server, pid) - before == got["created"]

    # When rows arrive as a CSV file (repeats within a file are that row's error, as the reader reports them)
    before = _item_count(server, pid)
    if unterminated_at is not None:
        csv_kinds = [*csv_kinds[:unterminated_at], "unterminated", *csv_kinds[unterminated_at:]]
    data = _csv(csv_kinds)
    started = server.staff.call(
        "POST", f"/api/projects/{pid}/imports/", files={"file": ("rows.csv", data, "text/csv")}, expect=(202,)
    ).json()
    job = server.staff.wait_job(started["job"])
    note(f"file {data!r} -> job {job}")
    result = job["result"] or {}
    got = {key: result.get(key) for key in ("rows", "created", "duplicates", "errors")}
    # Then the same holds, and the import list shows the job's own status
    assert got == _expected(csv_kinds, repeat_is_error=True)
    assert got["rows"] == got["created"] + got["duplicates"] + got["errors"]
    assert _item_count(server, pid) - before == result["created"]
    listed = server.staff.pages(f"/api/projects/{pid}/imports/")
    shown = next(row for row in listed if str(row["id"]) == str(job["id"]))
    assert shown["status"] == job["status"]
